// The life of one application: initial evaluation, one person workflow per person to verify,
// review, cancel and the AwaitingDocuments deadline. Only this workflow changes an
// application's status; each change and its event are recorded together (one local activity),
// then indexed (search attributes) and delivered (see EventDelivery). Payloads are ids,
// statuses and reason codes only.
//
// Protocol 2 (the `application-protocol-2` patch): the API starts the workflow with the
// `initialEvaluation` update and sends verify/uploads to the person workflows, which end when
// settled. It needs about a quarter of protocol 1's workflow tasks and no workflow per event.
// Histories without the patch run protocol 1 (./protocol1), unchanged.
// Changing behaviour later: guard the new path with `patched('<id>')` so running histories replay.
import {
  allHandlersFinished, condition, getExternalWorkflowHandle, log, patched, proxyLocalActivities, setHandler, startChild, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { createApplicationActivities, RecordedChange, SetApplicationStatusInput } from '../activities';
import type { createEventActivities } from '../../webhooks/events';
import { aggregateStatus } from '../rules/status';
import {
  cancelUpdate, closePersonSignal, EVENT, initialEvaluationUpdate, isTerminal, personStatusChangedSignal, personWorkflowId, reviewUpdate,
  STATUS_EVENT, statusQuery,
  type ApplicationStatus, type ApplicationWorkflowInput, type CancelRequest, type PersonOutcome, type PersonStatusChangedSignal,
  type PersonView, type ReviewRequest, type UpdateOutcome,
} from '../messages';
import { EventDelivery } from '../../webhooks/workflows/eventDelivery';
import { deadlineReason, nextAwaitingDocumentsTimer } from '../rules/awaitingDocuments';
import { personWorkflow } from './person';
import { applicationWorkflowProtocol1 } from '../../workflows/protocol1/application';
import { ApplicationIdKey, ApplicationStatusKey, OrgIdKey } from '../../platform/temporal/searchAttributes';

export const APPLICATION_PROTOCOL_2_PATCH = 'application-protocol-2';

const acts = proxyLocalActivities<ReturnType<typeof createApplicationActivities> & ReturnType<typeof createEventActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});

type InboxItem =
  | { kind: 'settled'; outcome: PersonOutcome }
  | { kind: 'person'; change: PersonStatusChangedSignal }
  | { kind: 'ended'; personId: string; error: string };

export async function applicationWorkflow(input: ApplicationWorkflowInput): Promise<ApplicationStatus> {
  if (!patched(APPLICATION_PROTOCOL_2_PATCH)) return applicationWorkflowProtocol1(input);
  const { workflowId } = workflowInfo();
  const { applicationId, orgId } = input;
  const relationships = { application: { data: { type: input.applicationType, id: applicationId } } };
  const delivery = new EventDelivery(orgId, input.webhookTimeoutMs);
  let status = 'Pending' as ApplicationStatus;
  /** The last status written to the database (what the API shows). */
  let recorded = 'Pending' as ApplicationStatus;
  let evaluated = false;
  let seq = 2; // 1 and 2: application.created and a status decided at the evaluation (openApplication)
  let awaitingSince: number | null = null;
  let remindersSent = 0;
  let cancelRequest = null as CancelRequest | null;
  const reviews: Array<{ request: ReviewRequest; result: UpdateOutcome | null }> = [];
  const inbox: InboxItem[] = [];
  const persons = new Map<string, PersonView>();
  const openPersons = new Set<string>();
  /** Events persons recorded, delivered with the application's next change. */
  const carried: string[] = [];

  setHandler(statusQuery, () => ({ status, applicationType: input.applicationType, persons: [...persons.values()], awaitingDocumentsSince: awaitingSince }));
  setHandler(initialEvaluationUpdate, async () => {
    await condition(() => evaluated);
    return { status: recorded };
  });
  setHandler(personStatusChangedSignal, (change) => { inbox.push({ kind: 'person', change }); });

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

  const indexStatus = (next: ApplicationStatus) => {
    upsertSearchAttributes([{ key: ApplicationStatusKey, value: next }]);
    if (next === 'AwaitingDocuments' && awaitingSince === null) awaitingSince = Date.now();
  };
  const deliver = (change: RecordedChange) => delivery.deliver([...carried.splice(0), ...change.eventIds], change.hasWebhooks, isTerminal(status));
  /** Delivers what persons handed over, when no transition of the application carries it. */
  const deliverCarried = () => { if (carried.length) deliver({ eventIds: [], hasWebhooks: true }); };

  type TransitionOptions = Pick<SetApplicationStatusInput, 'reasonCode' | 'reason' | 'deniedPersonId' | 'decidedBy'>;
  const transition = async (next: ApplicationStatus, opts: TransitionOptions = {}) => {
    const previousStatus = status;
    // The workflow's decision counts from here (validators see it at once); then it is recorded.
    status = next;
    const type = STATUS_EVENT[next];
    seq += 1;
    const change = await acts.recordTransition({
      applicationId, orgId, status: next, ...opts,
      event: type ? { type, attributes: { status: next, previousStatus, reasonCode: opts.reasonCode ?? null }, relationships, dedupeKey: `${workflowId}:${seq}:${type}` } : null,
    });
    recorded = next;
    indexStatus(next);
    deliver(change);
  };

  // The initial evaluation and application.created: one local activity in the first task.
  const opened = await acts.openApplication({ applicationId, orgId, applicationType: input.applicationType, dedupePrefix: workflowId });
  status = recorded = opened.status;
  for (const p of opened.persons) persons.set(p.personId, { personId: p.personId, role: p.role, position: p.position, status: p.status, documents: p.documents });

  /** Starts a workflow for each person asked for documents; its result arrives in the inbox when it settles. */
  const startPersons = () => Promise.all([...persons.values()].filter((p) => p.status === 'AwaitingDocuments').map(async (p) => {
    const child = await startChild(personWorkflow, {
      workflowId: personWorkflowId(applicationId, p.personId),
      args: [{ applicationId, orgId, personId: p.personId, role: p.role, position: p.position, parentWorkflowId: workflowId, documents: p.documents, applicationType: input.applicationType, protocol: 2 }],
      typedSearchAttributes: [{ key: OrgIdKey, value: orgId }, { key: ApplicationIdKey, value: applicationId }],
    });
    openPersons.add(p.personId);
    child.result().then(
      (outcome) => { inbox.push({ kind: 'settled', outcome: outcome as PersonOutcome }); },
      (err) => { inbox.push({ kind: 'ended', personId: p.personId, error: (err as Error)?.message ?? String(err) }); },
    );
  }));

  if (status === 'Pending') {
    carried.push(...opened.eventIds); // delivered with the status below
    if (!cancelRequest) {
      // The persons' workflows first, so documents can be sent to them once the status says so.
      await startPersons();
      // AwaitingDocuments (or Approved when nobody has to provide a document).
      await transition(aggregateStatus([...persons.values()].map((p) => p.status)));
    }
  } else {
    // Decided at the evaluation (Denied, PendingReview) — or a run reset to its start after the
    // persons were asked for documents (their workflows ended with the earlier run): as recorded.
    indexStatus(status);
    delivery.deliver(opened.eventIds, opened.hasWebhooks);
    if (status === 'AwaitingDocuments') await startPersons();
  }
  evaluated = true;

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
      seq += 1;
      const { eventId } = await acts.recordEvent({
        orgId, type: EVENT.reminder, relationships, dedupeKey: `${workflowId}:${seq}:${EVENT.reminder}`,
        attributes: { status, reminder: remindersSent, deadline: new Date(awaitingSince! + input.awaitingDocumentsDeadlineMs).toISOString() },
      });
      deliver({ eventIds: [eventId], hasWebhooks: true });
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
    if (item.kind === 'ended') {
      // Terminated or failed from outside (say, by an operator): nothing settles this person now.
      log.warn('a person workflow ended without settling', { personId: item.personId, error: item.error });
      openPersons.delete(item.personId);
      continue;
    }
    if (item.kind === 'person') {
      carried.push(...(item.change.eventIds ?? []));
      if (item.change.resubmit && status === 'AwaitingDocuments') {
        // A document was not acceptable: the application asks for it again.
        await transition('AwaitingDocuments', { reasonCode: item.change.reasonCode ?? null });
      } else {
        deliverCarried();
      }
      continue;
    }
    const { outcome } = item;
    openPersons.delete(outcome.personId);
    carried.push(...outcome.eventIds);
    const person = persons.get(outcome.personId);
    if (!person) continue;
    person.status = outcome.status;
    if (outcome.status === 'Denied') {
      await transition('Denied', { reasonCode: outcome.reasonCode ?? 'Denied', deniedPersonId: outcome.personId });
      break;
    }
    const next = aggregateStatus([...persons.values()].map((p) => p.status));
    if (next !== status) await transition(next);
    else deliverCarried();
  }

  // Done: unblock waiting updates, close the persons still open, deliver what they recorded.
  for (const r of reviews) r.result ??= { ok: false, status, error: `the application is ${status}` };
  for (const personId of openPersons) {
    try { await getExternalWorkflowHandle(personWorkflowId(applicationId, personId)).signal(closePersonSignal, { applicationStatus: status }); } catch { /* already ended */ }
  }
  while (openPersons.size > 0) {
    await condition(() => inbox.length > 0);
    const item = inbox.shift()!;
    if (item.kind === 'settled') { openPersons.delete(item.outcome.personId); carried.push(...item.outcome.eventIds); }
    else if (item.kind === 'ended') openPersons.delete(item.personId);
    else carried.push(...(item.change.eventIds ?? []));
  }
  for (const item of inbox.splice(0)) {
    if (item.kind === 'person') carried.push(...(item.change.eventIds ?? []));
    if (item.kind === 'settled') carried.push(...item.outcome.eventIds);
  }
  deliverCarried();
  await delivery.settled();
  await condition(allHandlersFinished);
  return status;
}
