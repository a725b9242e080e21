// The life of one application, as the state machine of rules/applicationStateMachine.ts: the
// workflow opens the application (the initial evaluation, one local activity), starts a person
// workflow for each person asked for documents, then waits for triggers (a person settled or
// asked to resubmit, a review, a cancel, the deadline) and records the transition each one
// yields. Each change and its event are recorded together (one local activity), then indexed
// (search attributes) and delivered (EventDelivery). Payloads are ids, statuses and reason codes.
// Changing behaviour later: see the README's versioning policy (`patched()` for compatible
// changes, a new workflow type for breaking ones).
import {
  allHandlersFinished,
  deprecatePatch,
  condition,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyLocalActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApplicationActivities, RecordedChange } from '../activities';
import type { createEventActivities } from '../../webhooks/activities';
import type { OrgActivities } from '../../orgs/activities';
import { EVENT, isTerminal, personWorkflowId, STATUS_EVENT, type ApplicationStatus } from '../domain';
import {
  cancelUpdate,
  closePersonSignal,
  initialEvaluationUpdate,
  personStatusChangedSignal,
  reviewUpdate,
  statusQuery,
  type ApplicationWorkflowInput,
  type CancelRequest,
  type PersonOutcome,
  type PersonStatusChangedSignal,
  type PersonView,
  type ReviewRequest,
  type UpdateOutcome,
} from '../messages';
import {
  allows,
  ApplicationEventKeys,
  nextTransition,
  openingEventKeys,
  refusalOf,
  type ApplicationTrigger,
  type Transition,
} from '../rules/applicationStateMachine';
import { nextAwaitingDocumentsTimer } from '../rules/awaitingDocuments';
import { EventDelivery } from '../../webhooks/workflows/eventDelivery';
import { ApplicationIdKey, ApplicationStatusKey, OrgIdKey } from '../../platform/temporal/searchAttributes';
import { personWorkflow } from './person';

/** Retired: it chose the current protocol over protocol 1, which is gone. */
export const APPLICATION_PROTOCOL_2_PATCH = 'application-protocol-2';

/** Reviews are checked (reviewerCredential.ts) before their decision is recorded; runs before it took reviews as sent. */
export const REVIEW_AUTHORIZATION_PATCH = 'review-authorization';

const acts = proxyLocalActivities<ApplicationActivities & ReturnType<typeof createEventActivities> & OrgActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});

/** What the persons' workflows tell the application. */
type PersonMessage =
  | { kind: 'settled'; outcome: PersonOutcome }
  | { kind: 'changed'; change: PersonStatusChangedSignal }
  | { kind: 'ended'; personId: string; error: string };

interface ReviewTicket {
  request: ReviewRequest;
  result: UpdateOutcome | null;
}

export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<ApplicationStatus> {
  // Runs started while protocol 1 still existed carry this patch's marker, first thing in their
  // history, before any handler answered (README, "Workflow versions"): keep this the first line.
  deprecatePatch(APPLICATION_PROTOCOL_2_PATCH);
  const { workflowId } = workflowInfo();
  const { applicationId, orgId, applicationType } = input;
  const relationships = { application: { data: { type: applicationType, id: applicationId } } };
  const delivery = new EventDelivery(orgId, input.webhookTimeoutMs);
  const eventKeys = new ApplicationEventKeys(workflowId);

  /** The workflow's decision: counts from the moment it is taken (validators see it at once). */
  let status: ApplicationStatus = 'Pending';
  /** The last status written to the database (what the API shows). */
  let recorded: ApplicationStatus = 'Pending';
  let evaluated = false;
  let awaitingSince: number | null = null;
  let remindersSent = 0;
  let cancelRequest = null as CancelRequest | null;
  const reviews: ReviewTicket[] = [];
  const inbox: PersonMessage[] = [];
  const persons = new Map<string, PersonView>();
  const openPersons = new Set<string>();
  /** Events persons recorded, delivered with the application's next change. */
  const carried: string[] = [];

  setHandler(statusQuery, () => ({ status, applicationType, persons: [...persons.values()], awaitingDocumentsSince: awaitingSince }));
  setHandler(initialEvaluationUpdate, async () => {
    await condition(() => evaluated);
    return { status: recorded };
  });
  setHandler(personStatusChangedSignal, (change) => {
    inbox.push({ kind: 'changed', change });
  });
  setHandler(
    cancelUpdate,
    async (request) => {
      cancelRequest ??= request;
      await condition(() => isTerminal(recorded));
      return status === 'Canceled'
        ? { ok: true, status }
        : { ok: false, status, error: `the application was ${status} before it could be canceled` };
    },
    {
      validator: (_request: CancelRequest) => {
        if (!allows('canceled', status)) throw new Error(refusalOf('canceled', status));
      },
    },
  );
  setHandler(
    reviewUpdate,
    async (request) => {
      const ticket: ReviewTicket = { request, result: null };
      reviews.push(ticket);
      await condition(() => ticket.result !== null);
      return ticket.result!;
    },
    {
      validator: (request: ReviewRequest) => {
        if (!allows('reviewed', status)) throw new Error(refusalOf('reviewed', status));
        if (request?.decision !== 'Approved' && request?.decision !== 'Denied') throw new Error('decision must be Approved or Denied');
        if (typeof request.reviewer !== 'string' || typeof request.credential !== 'string')
          throw new Error(
            'a review needs the reviewer credential the engine issues: send it with POST /applications/:id/review and a review key',
          );
      },
    },
  );

  const indexStatus = (next: ApplicationStatus) => {
    upsertSearchAttributes([{ key: ApplicationStatusKey, value: next }]);
    if (next === 'AwaitingDocuments' && awaitingSince === null) awaitingSince = Date.now();
  };
  /** Delivers a change's events with what persons handed over before it. */
  const deliver = (change: RecordedChange) =>
    delivery.deliver([...carried.splice(0), ...change.eventIds], { hasWebhooks: change.hasWebhooks, final: isTerminal(status) });
  /** Delivers what persons handed over, when no transition of the application carries it. */
  const deliverCarried = () => {
    if (carried.length) deliver({ eventIds: [], hasWebhooks: true });
  };

  const record = async ({ from, to, name: _name, ...details }: Transition) => {
    status = to;
    const type = STATUS_EVENT[to];
    const change = await acts.recordTransition({
      applicationId,
      orgId,
      from: recorded,
      status: to,
      ...details,
      event: type
        ? {
            type,
            attributes: { status: to, previousStatus: from, reasonCode: details.reasonCode ?? null },
            relationships,
            dedupeKey: eventKeys.next(type),
          }
        : null,
    });
    // Another change recorded first (by a workflow task that did not complete): it stands.
    if (change.recordedStatus) {
      status = change.recordedStatus;
      // If that was a review's decision, the review that asked for it is answered as done.
      const decided = reviews.find(
        (r) => r.result === null && r.request.decision === status && r.request.reviewer === change.recordedDecidedBy,
      );
      if (decided) decided.result = { ok: true, status };
    }
    recorded = status;
    indexStatus(status);
    deliver(change);
  };
  /** Applies a trigger: records the transition it yields, if any. */
  const apply = async (trigger: ApplicationTrigger): Promise<string | null> => {
    const decision = nextTransition(status, trigger);
    if (decision.kind === 'refused') return decision.error;
    if (decision.kind === 'unchanged') deliverCarried();
    else await record(decision.transition);
    return null;
  };

  /** Starts a workflow for each person asked for documents; its outcome arrives in the inbox. */
  const startPersons = () =>
    Promise.all(
      [...persons.values()]
        .filter((p) => p.status === 'AwaitingDocuments')
        .map(async (p) => {
          const child = await startChild(personWorkflow, {
            workflowId: personWorkflowId(applicationId, p.personId),
            args: [
              {
                applicationId,
                orgId,
                applicationType,
                personId: p.personId,
                role: p.role,
                position: p.position,
                parentWorkflowId: workflowId,
                documents: p.documents,
              },
            ],
            typedSearchAttributes: [
              { key: OrgIdKey, value: orgId },
              { key: ApplicationIdKey, value: applicationId },
            ],
          });
          openPersons.add(p.personId);
          child.result().then(
            (outcome) => {
              inbox.push({ kind: 'settled', outcome });
            },
            (err) => {
              inbox.push({ kind: 'ended', personId: p.personId, error: (err as Error)?.message ?? String(err) });
            },
          );
        }),
    );

  // --- Pending: the initial evaluation and application.created, one local activity ---------
  const opened = await acts.openApplication({ applicationId, orgId, applicationType, eventKeys: openingEventKeys(workflowId) });
  status = recorded = opened.status;
  for (const p of opened.persons)
    persons.set(p.personId, { personId: p.personId, role: p.role, position: p.position, status: p.status, documents: p.documents });
  if (status === 'Pending') {
    carried.push(...opened.eventIds); // delivered with the status below
    if (!cancelRequest) {
      // The persons' workflows first, so documents can be sent to them once the status says so.
      await startPersons();
      await apply({ type: 'documentsRequested', persons: [...persons.values()].map((p) => p.status) });
    }
  } else {
    // Decided at the evaluation (Denied, PendingReview) — or a run reset to its start after the
    // persons were asked for documents (their workflows ended with the earlier run): as recorded.
    indexStatus(status);
    delivery.deliver(opened.eventIds, { hasWebhooks: opened.hasWebhooks });
    if (status === 'AwaitingDocuments') await startPersons();
  }
  evaluated = true;

  // --- open: wait for the next trigger, record what it changes ---------------------------
  while (!isTerminal(status)) {
    const timer = nextAwaitingDocumentsTimer(status, awaitingSince, remindersSent, input);
    const ready = () => inbox.length > 0 || cancelRequest !== null || reviews.some((r) => r.result === null);
    const woke = timer ? await condition(ready, Math.max(1, timer.at - Date.now())) : (await condition(ready), true);

    if (cancelRequest) {
      await apply({ type: 'canceled', reason: cancelRequest.reason });
      break;
    }
    if (!woke && timer?.kind === 'deadline') {
      await apply({ type: 'deadlinePassed', deadlineMs: input.awaitingDocumentsDeadlineMs });
      break;
    }
    if (!woke && timer?.kind === 'reminder') {
      remindersSent += 1;
      const reminder = await acts.recordEvent({
        orgId,
        type: EVENT.reminder,
        relationships,
        dedupeKey: eventKeys.next(EVENT.reminder),
        attributes: {
          status,
          reminder: remindersSent,
          deadline: new Date(awaitingSince! + input.awaitingDocumentsDeadlineMs).toISOString(),
        },
      });
      deliver({ eventIds: [reminder.eventId], hasWebhooks: reminder.hasWebhooks });
      continue;
    }
    const review = reviews.find((r) => r.result === null);
    if (review) {
      // Accepted by the validator, but the status may have moved before its turn came.
      const { decision, reason, reviewer, credential } = review.request;
      if (patched(REVIEW_AUTHORIZATION_PATCH)) {
        const authorized = await acts.authorizeReview({ orgId, applicationId, decision, reviewer, credential: credential ?? '' });
        if (!authorized.ok) {
          review.result = { ok: false, status, error: authorized.error };
          continue;
        }
      }
      const refused = await apply({ type: 'reviewed', decision, reason, reviewer });
      review.result = refused
        ? { ok: false, status, error: refused }
        : status === decision
          ? { ok: true, status }
          : { ok: false, status, error: `the application was ${status} before the review could be recorded` };
      continue;
    }
    const message = inbox.shift();
    if (!message) continue;
    if (message.kind === 'ended') {
      // Terminated or failed from outside (say, by an operator): nothing settles this person now.
      log.warn('a person workflow ended without settling', { personId: message.personId, error: message.error });
      openPersons.delete(message.personId);
    } else if (message.kind === 'changed') {
      carried.push(...(message.change.eventIds ?? []));
      if (message.change.resubmit && allows('documentRejected', status))
        await apply({ type: 'documentRejected', reasonCode: message.change.reasonCode ?? null });
      else deliverCarried();
    } else {
      const { outcome } = message;
      openPersons.delete(outcome.personId);
      carried.push(...outcome.eventIds);
      const person = persons.get(outcome.personId);
      if (!person) continue;
      person.status = outcome.status;
      const refused = await apply({
        type: 'personSettled',
        personId: outcome.personId,
        status: outcome.status,
        reasonCode: outcome.reasonCode,
        persons: [...persons.values()].map((p) => p.status),
      });
      if (refused) deliverCarried();
    }
  }

  // --- terminal: unblock waiting updates, close the persons still open, deliver what they recorded
  for (const r of reviews) r.result ??= { ok: false, status, error: `the application is ${status}` };
  for (const personId of openPersons) {
    try {
      await getExternalWorkflowHandle(personWorkflowId(applicationId, personId)).signal(closePersonSignal, { applicationStatus: status });
    } catch {
      /* already ended */
    }
  }
  while (openPersons.size > 0) {
    await condition(() => inbox.length > 0);
    const message = inbox.shift()!;
    if (message.kind === 'settled') {
      openPersons.delete(message.outcome.personId);
      carried.push(...message.outcome.eventIds);
    } else if (message.kind === 'ended') openPersons.delete(message.personId);
    else carried.push(...(message.change.eventIds ?? []));
  }
  for (const message of inbox.splice(0)) {
    if (message.kind === 'changed') carried.push(...(message.change.eventIds ?? []));
    if (message.kind === 'settled') carried.push(...message.outcome.eventIds);
  }
  deliverCarried();
  await delivery.settled();
  await condition(allHandlersFinished);
  return status;
}
