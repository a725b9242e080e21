// The application and person workflows, branch by branch, on Temporal's time-skipping test
// server with typed stub activities: no database, no HTTP, timers skipped. What each branch
// records is read off the stubs. The end-to-end suites cover the same paths on the real engine.
import { randomUUID } from 'node:crypto';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type {
  ApplicationActivities,
  OpenApplicationInput,
  OpenApplicationResult,
  OpenedPerson,
  RecordTransitionInput,
  VerifyPersonDocumentInput,
  VerifyPersonDocumentOutcome,
} from '../src/applications/activities';
import { applicationWorkflowId, personWorkflowId, type ApplicationStatus, type ApplicationType } from '../src/applications/domain';
import { cancelUpdate, reviewUpdate, statusQuery, verifyDocumentUpdate, type ApplicationWorkflowInput } from '../src/applications/messages';
import type { applicationWorkflow } from '../src/applications/workflows/application';
import type { createEventActivities, createWebhookDeliveryActivities } from '../src/webhooks/activities';
import type { RecordEventInput } from '../src/webhooks/repository';
import type { OrgActivities } from '../src/orgs/activities';
import { SEARCH_ATTRIBUTES } from '../src/platform/temporal/searchAttributes';
import { temporalTestServerPath } from '../src/platform/temporal/devServer';

const DAY = 86_400_000;
type StubbedActivities = Pick<ApplicationActivities, 'openApplication' | 'recordTransition' | 'setPersonStatus' | 'verifyPersonDocument'> &
  ReturnType<typeof createEventActivities> &
  Pick<ReturnType<typeof createWebhookDeliveryActivities>, 'deliverEvents'> &
  OrgActivities;

/** An application as the stubs know it: who must provide which document, and how each verification turns out. */
interface Scenario {
  type?: ApplicationType;
  persons?: Array<Pick<OpenedPerson, 'role' | 'position'> & { documents?: number }>;
  /** The initial evaluation's decision (default: continue, documents required). */
  decided?: 'Denied' | 'PendingReview';
  verify?: (input: VerifyPersonDocumentInput) => VerifyPersonDocumentOutcome;
  /** Whether the org has a webhook (the workflow then delivers each change with an activity). */
  hasWebhooks?: boolean;
  /** A change the database holds already (a workflow task that failed after its local activity committed). */
  recordedBefore?: Pick<RecordTransitionInput, 'status' | 'decidedBy'>;
}

/** Typed stubs of every activity the two workflows call, recording what they were asked. */
function stubActivities(scenario: Scenario) {
  const transitions: RecordTransitionInput[] = [];
  const before = scenario.recordedBefore
    ? [{ ...scenario.recordedBefore, applicationId: '', orgId: '', from: 'PendingReview' as const, event: null }]
    : [];
  const events: RecordEventInput[] = [];
  const opened: OpenApplicationInput[] = [];
  const delivered: string[] = [];
  const persons: OpenedPerson[] = (scenario.persons ?? [{ role: 'individual', position: 0 }]).map((p, i) => ({
    personId: String(100 + i),
    role: p.role,
    position: p.position,
    status: 'AwaitingDocuments',
    documents: Array.from({ length: p.documents ?? 1 }, (_, d) => ({
      documentId: String(1000 + i * 10 + d),
      documentType: 'SelfieVerification' as const,
    })),
  }));
  const activities: StubbedActivities = {
    async openApplication(input): Promise<OpenApplicationResult> {
      opened.push(input);
      if (scenario.decided)
        return {
          status: scenario.decided,
          reasonCode: 'DuplicateIdentity',
          persons: persons.map((p) => ({ ...p, status: 'Pending', documents: [] })),
          eventIds: [],
          hasWebhooks: false,
        };
      return { status: 'Pending', reasonCode: null, persons, eventIds: [], hasWebhooks: false };
    },
    // Local activities run at least once (again after a failed workflow task): like the
    // database, the stub records a change only from the status it holds, once per event key.
    async recordTransition(input) {
      const last = transitions.at(-1) ?? before.at(-1);
      const current = last?.status ?? scenario.decided ?? 'Pending';
      if (current !== input.from && current !== input.status)
        return { eventIds: [], hasWebhooks: false, recordedStatus: current, recordedDecidedBy: last?.decidedBy ?? null };
      if (!transitions.some((t) => t.event?.dedupeKey === input.event?.dedupeKey)) transitions.push(input);
      return { eventIds: input.event ? [`t${transitions.length}`] : [], hasWebhooks: scenario.hasWebhooks ?? false };
    },
    async recordEvent(input) {
      const seen = events.findIndex((e) => e.dedupeKey === input.dedupeKey);
      if (seen === -1) events.push(input);
      return { eventId: String(seen === -1 ? events.length : seen + 1), hasWebhooks: scenario.hasWebhooks ?? false };
    },
    async setPersonStatus() {},
    async deliverEvents(input) {
      delivered.push(...input.eventIds);
      return { delivered: input.eventIds.length, skipped: 0 };
    },
    async verifyPersonDocument(input) {
      return scenario.verify?.(input) ?? approved();
    },
    // The engine's check of the reviewer credential, reduced to its answer: GRANTED passes.
    async authorizeReview(input) {
      return input.credential === GRANTED
        ? { ok: true }
        : { ok: false, error: "the review's reviewer credential was not issued by this engine" };
    },
  };
  return { activities, transitions, events, opened, persons, delivered };
}

/** The credential the stubbed reviewer check accepts. */
const GRANTED = 'granted-by-the-api';

const approved = (): VerifyPersonDocumentOutcome => ({
  ok: true,
  documentStatus: 'Approved',
  reasonCode: null,
  personOutcome: 'Continue',
  personStatus: 'Approved',
  personReasonCode: null,
  eventIds: [],
});
const denied = (reasonCode: string): VerifyPersonDocumentOutcome => ({
  ok: true,
  documentStatus: 'Invalid',
  reasonCode,
  personOutcome: 'Denied',
  personStatus: 'Denied',
  personReasonCode: reasonCode,
  eventIds: [],
});

describe('application workflow branches (time-skipping server, stub activities)', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  const taskQueue = `wf-test-${randomUUID()}`;
  /** Each test is an org of its own: the one worker's stubs answer from that test's scenario. */
  const scenarios = new Map<string, ReturnType<typeof stubActivities>>();
  const of = (orgId: string) => scenarios.get(orgId)!.activities;
  const dispatch: StubbedActivities = {
    openApplication: (i) => of(i.orgId).openApplication(i),
    recordTransition: (i) => of(i.orgId).recordTransition(i),
    recordEvent: (i) => of(i.orgId).recordEvent(i),
    setPersonStatus: (i) => of(i.orgId).setPersonStatus(i),
    verifyPersonDocument: (i) => of(i.orgId).verifyPersonDocument(i),
    deliverEvents: (i) => of(i.orgId).deliverEvents(i),
    authorizeReview: (i) => of(i.orgId).authorizeReview(i),
  };

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: temporalTestServerPath() } },
    });
    const { temporal: proto } = await import('@temporalio/proto');
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(
        SEARCH_ATTRIBUTES.map((k) => [k.name, proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD]),
      ),
    });
    // One worker for every test: a workflow a test leaves behind still has a worker, so no
    // pending task holds the test server's clock.
    worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: { codePath: inject('workflowBundlePath') },
      activities: dispatch,
    });
    running = worker.run();
  }, 120_000);
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await env?.teardown();
  });

  /** Runs one application workflow against the stubs of `scenario`; `body` drives it. */
  async function run<T>(
    scenario: Scenario,
    body: (h: WorkflowHandle<typeof applicationWorkflow>, ctx: ReturnType<typeof stubActivities> & { applicationId: string }) => Promise<T>,
    input: Partial<ApplicationWorkflowInput> = {},
    start: 'start' | 'cancelAtStart' = 'start',
  ): Promise<T> {
    const stubs = stubActivities(scenario);
    const applicationId = String(Math.floor(Math.random() * 1e9));
    const orgId = `org-${applicationId}`;
    scenarios.set(orgId, stubs);
    const args: [ApplicationWorkflowInput] = [
      {
        applicationId,
        orgId,
        applicationType: scenario.type ?? 'individualApplication',
        awaitingDocumentsDeadlineMs: 30 * DAY,
        awaitingDocumentsReminderMs: 0,
        ...input,
      },
    ];
    const workflowId = applicationWorkflowId(applicationId);
    let handle: WorkflowHandle<typeof applicationWorkflow>;
    if (start === 'cancelAtStart') {
      // The cancel arrives with the start, while the initial evaluation is still running.
      const op = new WithStartWorkflowOperation<typeof applicationWorkflow>('applicationWorkflow', {
        taskQueue,
        workflowId,
        args,
        workflowIdConflictPolicy: 'FAIL',
      });
      const outcome = await env.client.workflow.executeUpdateWithStart(cancelUpdate, {
        args: [{ reason: 'customer withdrew' }],
        startWorkflowOperation: op,
      });
      expect(outcome).toEqual({ ok: true, status: 'Canceled' });
      handle = await op.workflowHandle();
    } else {
      handle = await env.client.workflow.start<typeof applicationWorkflow>('applicationWorkflow', { taskQueue, workflowId, args });
    }
    return body(handle, { ...stubs, applicationId });
  }

  const waitForStatus = async (h: WorkflowHandle<typeof applicationWorkflow>, status: ApplicationStatus) => {
    for (let i = 0; i < 200; i++) {
      if ((await h.query(statusQuery)).status === status) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`the application never reached ${status}`);
  };
  const verify = (applicationId: string, personId: string, documentId: string) =>
    env.client.workflow
      .getHandle(personWorkflowId(applicationId, personId))
      .executeUpdate(verifyDocumentUpdate, { args: [{ documentId, jobId: `vj_${randomUUID()}` }] });

  it('names every transition it records: documents requested, then a person settled', async () => {
    await run({}, async (h, { transitions, persons, applicationId, opened }) => {
      await waitForStatus(h, 'AwaitingDocuments');
      expect(await verify(applicationId, persons[0].personId, persons[0].documents[0].documentId)).toMatchObject({
        ok: true,
        documentStatus: 'Approved',
      });
      expect(await h.result()).toBe('Approved');
      expect(transitions.map((t) => t.status)).toEqual(['AwaitingDocuments', 'Approved']);
      // Every event key comes from one place: the opening's 1 and 2, the workflow's own from 3.
      expect(opened[0].eventKeys.created).toBe(`${h.workflowId}:1:application.created`);
      expect(transitions.map((t) => t.event?.dedupeKey)).toEqual([
        `${h.workflowId}:3:application.awaitingDocuments`,
        `${h.workflowId}:4:application.approved`,
      ]);
    });
  });

  it('refuses a review outside PendingReview, saying why, and changes nothing', async () => {
    await run({}, async (h, { transitions }) => {
      await waitForStatus(h, 'AwaitingDocuments');
      const review = h.executeUpdate(reviewUpdate, {
        args: [{ decision: 'Approved', reason: 'looks fine', reviewer: 'ops', credential: GRANTED }],
      });
      await expect(review).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
      await expect(review).rejects.toMatchObject({
        cause: {
          message: expect.stringMatching(/the application is AwaitingDocuments; a review decision is only possible in PendingReview/),
        },
      });
      expect(transitions.map((t) => t.status)).toEqual(['AwaitingDocuments']);
      // Cancel it (rather than leave it running): its person workflows are closed too.
      expect(await h.executeUpdate(cancelUpdate, { args: [{ reason: 'test over' }] })).toEqual({ ok: true, status: 'Canceled' });
    });
  });

  it("accepts a review in PendingReview and records the reviewer as the decision's user", async () => {
    await run({ decided: 'PendingReview' }, async (h, { transitions }) => {
      await waitForStatus(h, 'PendingReview');
      expect(
        await h.executeUpdate(reviewUpdate, {
          args: [{ decision: 'Denied', reason: 'document forged', reviewer: 'ops@bank', credential: GRANTED }],
        }),
      ).toEqual({ ok: true, status: 'Denied' });
      expect(await h.result()).toBe('Denied');
      expect(transitions).toEqual([
        expect.objectContaining({ status: 'Denied', reasonCode: 'ManualReviewDenied', reason: 'document forged', decidedBy: 'ops@bank' }),
      ]);
    });
  });

  it('a review whose reviewer credential the engine does not accept is answered with why, and decides nothing', async () => {
    await run({ decided: 'PendingReview' }, async (h, { transitions }) => {
      await waitForStatus(h, 'PendingReview');
      expect(
        await h.executeUpdate(reviewUpdate, {
          args: [{ decision: 'Approved', reason: 'self-approved', reviewer: 'partner', credential: 'made-up' }],
        }),
      ).toEqual({ ok: false, status: 'PendingReview', error: expect.stringMatching(/not issued by this engine/) });
      expect(transitions).toEqual([]);
      expect(
        await h.executeUpdate(reviewUpdate, { args: [{ decision: 'Approved', reason: 'checked', reviewer: 'ops', credential: GRANTED }] }),
      ).toEqual({
        ok: true,
        status: 'Approved',
      });
    });
  });

  it('a cancel that arrives during the initial evaluation cancels before any person is asked for documents', async () => {
    await run(
      {},
      async (h, { transitions, applicationId, persons }) => {
        expect(await h.result()).toBe('Canceled');
        expect(transitions).toEqual([expect.objectContaining({ status: 'Canceled', reasonCode: 'Canceled', reason: 'customer withdrew' })]);
        await expect(env.client.workflow.getHandle(personWorkflowId(applicationId, persons[0].personId)).describe()).rejects.toThrow(
          /not found/i,
        );
      },
      {},
      'cancelAtStart',
    );
  });

  it('sends reminders while documents are awaited and cancels at the deadline, with the reason', async () => {
    await run(
      {},
      async (h, { transitions, events, delivered }) => {
        expect(await h.result()).toBe('Canceled'); // the test server skips the 3 days
        expect(events.map((e) => [e.type, e.attributes.reminder])).toEqual([
          ['application.documentsReminder', 1],
          ['application.documentsReminder', 2],
        ]);
        expect(delivered).toEqual([]); // the org has no webhook: nothing to deliver, no activity
        expect(transitions.at(-1)).toMatchObject({
          status: 'Canceled',
          reasonCode: 'AwaitingDocumentsDeadline',
          reason: 'the required documents were not provided within 3 days',
        });
      },
      { awaitingDocumentsDeadlineMs: 3 * DAY, awaitingDocumentsReminderMs: DAY },
    );
  });

  it('a person workflow that ends without settling (canceled by an operator) leaves the application waiting, until its deadline', async () => {
    const scenario: Scenario = {
      type: 'businessApplication',
      persons: [
        { role: 'officer', position: 0 },
        { role: 'beneficialOwner', position: 1 },
      ],
    };
    await run(
      scenario,
      async (h, { transitions, persons, applicationId }) => {
        await waitForStatus(h, 'AwaitingDocuments');
        await env.client.workflow.getHandle(personWorkflowId(applicationId, persons[1].personId)).cancel();
        await verify(applicationId, persons[0].personId, persons[0].documents[0].documentId);
        expect(await h.result()).toBe('Canceled');
        expect(transitions.map((t) => [t.status, t.reasonCode])).toEqual([
          ['AwaitingDocuments', undefined],
          ['Canceled', 'AwaitingDocumentsDeadline'],
        ]);
      },
      { awaitingDocumentsDeadlineMs: 2 * DAY },
    );
  });

  it('a business with one denied beneficial owner is denied, naming that owner, and closes the other persons', async () => {
    const scenario: Scenario = {
      type: 'businessApplication',
      persons: [
        { role: 'officer', position: 0 },
        { role: 'beneficialOwner', position: 1 },
        { role: 'beneficialOwner', position: 2 },
      ],
      verify: (input) => (input.personId === '102' ? denied('selfie_face_mismatch') : approved()),
    };
    await run(scenario, async (h, { transitions, persons, applicationId }) => {
      await waitForStatus(h, 'AwaitingDocuments');
      await verify(applicationId, persons[0].personId, persons[0].documents[0].documentId);
      expect(await verify(applicationId, persons[2].personId, persons[2].documents[0].documentId)).toMatchObject({
        ok: true,
        documentStatus: 'Invalid',
        personOutcome: 'Denied',
      });
      expect(await h.result()).toBe('Denied');
      expect(transitions.at(-1)).toMatchObject({ status: 'Denied', reasonCode: 'selfie_face_mismatch', deniedPersonId: '102' });
      // The owner still open was closed: its workflow ended and takes no more documents.
      const open = env.client.workflow.getHandle(personWorkflowId(applicationId, persons[1].personId));
      expect((await open.result()).status).toBe('AwaitingDocuments');
      await expect(verify(applicationId, persons[1].personId, persons[1].documents[0].documentId)).rejects.toThrow();
    });
  });

  it('a document that must be provided again makes the application ask again, with the reason code', async () => {
    let attempts = 0;
    const scenario: Scenario = {
      verify: () =>
        ++attempts === 1
          ? {
              ok: true,
              documentStatus: 'Invalid',
              reasonCode: 'UnsupportedDocumentType',
              personOutcome: 'Resubmit',
              personStatus: 'AwaitingDocuments',
              personReasonCode: null,
              eventIds: ['7'],
            }
          : approved(),
    };
    await run(scenario, async (h, { transitions, persons, applicationId }) => {
      await waitForStatus(h, 'AwaitingDocuments');
      const [person] = persons;
      await verify(applicationId, person.personId, person.documents[0].documentId);
      await verify(applicationId, person.personId, person.documents[0].documentId);
      expect(await h.result()).toBe('Approved');
      expect(transitions.map((t) => [t.status, t.reasonCode])).toEqual([
        ['AwaitingDocuments', undefined],
        ['AwaitingDocuments', 'UnsupportedDocumentType'],
        ['Approved', undefined],
      ]);
    });
  });

  it('a change already recorded by a workflow task that failed stands: a cancel after it adopts it and is told so', async () => {
    await run({ decided: 'PendingReview', recordedBefore: { status: 'Approved', decidedBy: 'ops-1' } }, async (h, { transitions }) => {
      await waitForStatus(h, 'PendingReview');
      expect(await h.executeUpdate(cancelUpdate, { args: [{ reason: 'withdrawn' }] })).toEqual({
        ok: false,
        status: 'Approved',
        error: 'the application was Approved before it could be canceled',
      });
      expect(await h.result()).toBe('Approved');
      expect(transitions).toEqual([]); // nothing recorded over it
    });
  });

  it('two reviews at once: the first decides, the second is told the application was already decided', async () => {
    await run({ decided: 'PendingReview' }, async (h, { transitions }) => {
      await waitForStatus(h, 'PendingReview');
      const reviewers = ['ops-1', 'ops-2'];
      const outcomes = await Promise.allSettled(
        reviewers.map((reviewer) =>
          h.executeUpdate(reviewUpdate, { args: [{ decision: 'Approved', reason: 'ok', reviewer, credential: GRANTED }] }),
        ),
      );
      expect(await h.result()).toBe('Approved');
      expect(transitions).toHaveLength(1);
      // The reviewer told "done" is the one recorded as the decision's user.
      const toldDone = reviewers.filter((_, i) => {
        const o = outcomes[i];
        return o.status === 'fulfilled' && o.value.ok;
      });
      expect(toldDone).toEqual([transitions[0].decidedBy]);
    });
  });

  it('a review and a cancel that race: exactly one wins, and the application records only its transition', async () => {
    await run({ decided: 'PendingReview' }, async (h, { transitions }) => {
      await waitForStatus(h, 'PendingReview');
      const [cancel, review] = await Promise.allSettled([
        h.executeUpdate(cancelUpdate, { args: [{ reason: 'withdrawn' }] }),
        h.executeUpdate(reviewUpdate, { args: [{ decision: 'Approved', reason: 'ok', reviewer: 'ops', credential: GRANTED }] }),
      ]);
      const won = [cancel, review].filter((r) => r.status === 'fulfilled' && r.value.ok);
      expect(won).toHaveLength(1);
      const final = await h.result();
      expect(transitions.map((t) => t.status)).toEqual([final]);
      expect(final).toBe(cancel.status === 'fulfilled' && cancel.value.ok ? 'Canceled' : 'Approved');
    });
  });
});
