// Protocol 1 of the application workflow, unchanged: it runs the histories of applications
// started before the `application-protocol-2` patch (see ../application.ts), so they finish as
// they began and still replay. New applications never take this path.
//
// The life of one application: initial evaluation, one person workflow per person to verify,
// documents, review, cancel and the AwaitingDocuments deadline. Only this workflow changes an
// application's status; each change is recorded (activity), indexed (search attributes) and
// announced (event), in that order. Payloads are ids, statuses and reason codes only.
// Changing behaviour later: guard the new path with `patched('<id>')` so running histories replay.
import {
  allHandlersFinished, condition, setHandler, startChild, upsertSearchAttributes, workflowInfo,
  type ChildWorkflowHandle,
} from '@temporalio/workflow';
import type { createApplicationActivities } from '../../applications/activities';
import {
  cancelUpdate, closePersonSignal, STATUS_EVENT, documentUpdatedSignal, documentUploadedSignal, EVENT, isTerminal, personStatusChangedSignal, personWorkflowId, reviewUpdate, statusQuery,
  verifyDocumentUpdate,
  type ApplicationStatus, type ApplicationWorkflowInput, type CancelRequest, type DocumentStatus, type PersonStatus, type PersonVerdict,
  type PersonView, type ReviewRequest, type UpdateOutcome, type VerifyDocumentRequest,
} from '../../applications/messages';
import { databaseActivities } from '../databaseActivities';
import { emitEvent } from '../../webhooks/workflows/emitEvent';
import { personWorkflow } from '../../applications/workflows/person';
import { aggregateStatus } from '../../applications/rules/status';
import { deadlineReason, nextAwaitingDocumentsTimer } from '../../applications/rules/awaitingDocuments';
import { ApplicationIdKey, ApplicationStatusKey, OrgIdKey } from '../../platform/temporal/searchAttributes';

const acts = databaseActivities<ReturnType<typeof createApplicationActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});
// A verification the partner waits for over HTTP: give up (and fail the update) rather than hang.
const verifyActs = databaseActivities<ReturnType<typeof createApplicationActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 5 },
});


type InboxItem =
  | { kind: 'uploaded'; documentId: string; status: DocumentStatus }
  | { kind: 'verified'; documentId: string; status: DocumentStatus; verdict: PersonVerdict; reasonCode: string | null }
  | { kind: 'person'; personId: string; status: PersonStatus; reasonCode?: string | null };

export async function applicationWorkflowProtocol1(input: ApplicationWorkflowInput): Promise<ApplicationStatus> {
  const { workflowId } = workflowInfo();
  const { applicationId, orgId } = input;
  let status = 'Pending' as ApplicationStatus;
  /** The last status written to the database (what the API shows). */
  let recorded = 'Pending' as ApplicationStatus;
  let seq = 0;
  let awaitingSince: number | null = null;
  let remindersSent = 0;
  let cancelRequest = null as CancelRequest | null;
  const reviews: Array<{ request: ReviewRequest; result: UpdateOutcome | null }> = [];
  const inbox: InboxItem[] = [];
  const persons = new Map<string, PersonView>();
  const children = new Map<string, ChildWorkflowHandle<typeof personWorkflow>>();
  const documentOwner = new Map<string, string>();

  setHandler(statusQuery, () => ({ status, applicationType: input.applicationType, persons: [...persons.values()], awaitingDocumentsSince: awaitingSince }));
  setHandler(documentUploadedSignal, (s) => { inbox.push({ kind: 'uploaded', ...s }); });
  setHandler(personStatusChangedSignal, (s) => { inbox.push({ kind: 'person', ...s }); });

  setHandler(cancelUpdate, async (req) => {
    cancelRequest ??= req;
    await condition(() => isTerminal(recorded));
    return status === 'Canceled' ? { ok: true, status } : { ok: false, status, error: `the application was ${status} before it could be canceled` };
  }, {
    validator: (_req: CancelRequest) => { if (isTerminal(status)) throw new Error(`the application is already ${status} and can no longer be canceled`); },
  });

  setHandler(reviewUpdate, async (request) => {
    const ticket = { request, result: null as UpdateOutcome | null };
    reviews.push(ticket);
    await condition(() => ticket.result !== null);
    return ticket.result!;
  }, {
    validator: (req: ReviewRequest) => {
      if (status !== 'PendingReview') throw new Error(`a review decision is only possible in PendingReview; the application is ${status}`);
      if (req?.decision !== 'Approved' && req?.decision !== 'Denied') throw new Error('decision must be Approved or Denied');
    },
  });

  setHandler(verifyDocumentUpdate, async (req) => {
    const out = await verifyActs().verifySelfieDocument({ applicationId, orgId, documentId: req.documentId, jobId: req.jobId });
    if (out.ok) inbox.push({ kind: 'verified', documentId: req.documentId, status: out.documentStatus, verdict: out.personOutcome, reasonCode: out.reasonCode });
    return out;
  }, {
    validator: (_req: VerifyDocumentRequest) => { if (status !== 'AwaitingDocuments') throw new Error(`documents can only be verified while AwaitingDocuments; the application is ${status}`); },
  });

  const announce = async (type: string, attributes: Record<string, unknown>) => {
    seq += 1;
    await emitEvent({
      orgId, type, attributes,
      relationships: { application: { data: { type: input.applicationType, id: applicationId } } },
      dedupeKey: `${workflowId}:${seq}:${type}`,
    });
  };

  const transition = async (next: ApplicationStatus, opts: { reasonCode?: string | null; reason?: string | null; deniedPersonId?: string | null; decidedBy?: string | null } = {}) => {
    const previousStatus = status;
    // The workflow's decision counts from here (validators see it at once); then it is recorded.
    status = next;
    await acts().setApplicationStatus({ applicationId, orgId, status: next, ...opts });
    recorded = next;
    upsertSearchAttributes([{ key: ApplicationStatusKey, value: next }]);
    if (next === 'AwaitingDocuments' && awaitingSince === null) awaitingSince = Date.now();
    const type = STATUS_EVENT[next];
    if (type) await announce(type, { status: next, previousStatus, reasonCode: opts.reasonCode ?? null });
  };

  await announce(EVENT.created, { status: 'Pending' });
  const evaluation = await acts().evaluateApplication({ applicationId, orgId });
  for (const p of evaluation.persons) {
    persons.set(p.personId, { personId: p.personId, role: p.role, position: p.position, status: 'Pending', documents: p.documents });
    for (const d of p.documents) documentOwner.set(d.documentId, p.personId);
  }

  if (cancelRequest) {
    // canceled while being evaluated: handled by the loop below
  } else if (evaluation.outcome === 'Denied') {
    await transition('Denied', { reasonCode: evaluation.reasonCode });
  } else if (evaluation.outcome === 'PendingReview') {
    await transition('PendingReview', { reasonCode: evaluation.reasonCode });
  } else {
    for (const p of persons.values()) {
      if (p.documents.length === 0) { p.status = 'Approved'; continue; }
      p.status = 'AwaitingDocuments';
      const child = await startChild(personWorkflow, {
        workflowId: personWorkflowId(applicationId, p.personId),
        args: [{ applicationId, orgId, personId: p.personId, role: p.role, position: p.position, parentWorkflowId: workflowId, documents: p.documents, applicationType: input.applicationType }],
        typedSearchAttributes: [{ key: OrgIdKey, value: orgId }, { key: ApplicationIdKey, value: applicationId }],
      });
      children.set(p.personId, child);
    }
    await transition(aggregateStatus([...persons.values()].map((p) => p.status)));
  }

  const forward = async (documentId: string, signal: { documentId: string; status: DocumentStatus; verdict?: PersonVerdict; reasonCode?: string | null }) => {
    const owner = documentOwner.get(documentId);
    const child = owner ? children.get(owner) : undefined;
    if (child) await child.signal(documentUpdatedSignal, signal);
  };

  while (!isTerminal(status)) {
    const timer = nextAwaitingDocumentsTimer(status, awaitingSince, remindersSent, input);
    const ready = () => inbox.length > 0 || cancelRequest !== null || reviews.some((r) => r.result === null);
    const woke = timer ? await condition(ready, Math.max(1, timer.at - Date.now())) : (await condition(ready), true);

    if (cancelRequest) {
      await transition('Canceled', { reason: cancelRequest.reason, reasonCode: 'Canceled' });
      break;
    }
    if (!woke && timer) {
      if (timer.kind === 'deadline') {
        await transition('Canceled', { reason: deadlineReason(input.awaitingDocumentsDeadlineMs), reasonCode: 'AwaitingDocumentsDeadline' });
        break;
      }
      remindersSent += 1;
      await announce(EVENT.reminder, { status, reminder: remindersSent, deadline: new Date(awaitingSince! + input.awaitingDocumentsDeadlineMs).toISOString() });
      continue;
    }
    const review = reviews.find((r) => r.result === null);
    if (review) {
      if (status !== 'PendingReview') {
        review.result = { ok: false, status, error: `a review decision is only possible in PendingReview; the application is ${status}` };
        continue;
      }
      const { decision, reason, reviewer } = review.request;
      await transition(decision, { reason, reasonCode: decision === 'Approved' ? 'ManualReviewApproved' : 'ManualReviewDenied', decidedBy: reviewer });
      review.result = { ok: true, status };
      break;
    }
    const item = inbox.shift();
    if (!item) continue;
    if (item.kind === 'uploaded') {
      await forward(item.documentId, { documentId: item.documentId, status: item.status });
    } else if (item.kind === 'verified') {
      await forward(item.documentId, { documentId: item.documentId, status: item.status, verdict: item.verdict, reasonCode: item.reasonCode });
      if (item.verdict === 'Resubmit' && status === 'AwaitingDocuments') {
        // The document was not acceptable: the application asks for it again.
        await transition('AwaitingDocuments', { reasonCode: item.reasonCode });
      }
    } else {
      const person = persons.get(item.personId);
      if (!person) continue;
      person.status = item.status;
      if (item.status === 'Denied') {
        await transition('Denied', { reasonCode: item.reasonCode ?? 'Denied', deniedPersonId: item.personId });
        break;
      }
      const next = aggregateStatus([...persons.values()].map((p) => p.status));
      if (next !== status) await transition(next);
    }
  }

  // Done: unblock waiting updates, close the person workflows, let handlers finish.
  for (const r of reviews) r.result ??= { ok: false, status, error: `the application is ${status}` };
  for (const [personId, child] of children) {
    try { await child.signal(closePersonSignal, { applicationStatus: status }); } catch { /* already closed */ }
    const p = persons.get(personId);
    try { const final = await child.result(); if (p && status !== 'Approved') p.status = final as PersonStatus; /* protocol-1 persons return a status */ } catch { /* ended otherwise */ }
  }
  await condition(allHandlersFinished);
  return status;
}
