// The application workflow as a state machine: its states are the application statuses, and
// every change of status is one of the named transitions below, allowed only from the states
// listed. `nextTransition` decides what a trigger (something that happened to the application)
// changes; the workflow only waits for triggers and records what this returns. Pure: safe in
// workflow code, and tested without Temporal.
import { aggregateStatus } from './status';
import { deadlineReason } from './awaitingDocuments';
import { EVENT, STATUS_EVENT, type ApplicationEventType, type ApplicationStatus, type PersonStatus } from '../domain';

export const APPLICATION_TRANSITIONS = {
  /** The initial evaluation decided (openApplication records it with the application). */
  evaluated: { from: ['Pending'], to: ['Denied', 'PendingReview'] },
  /** The persons' workflows run: documents are awaited (or nobody has to provide one). */
  documentsRequested: { from: ['Pending'], to: ['AwaitingDocuments', 'Approved'] },
  /** A document was not acceptable: the application asks for it again. */
  documentRejected: { from: ['AwaitingDocuments'], to: ['AwaitingDocuments'] },
  /** A person's verification is over: the application follows from all persons' statuses. */
  personSettled: { from: ['AwaitingDocuments'], to: ['PendingReview', 'Approved', 'Denied'] },
  reviewed: { from: ['PendingReview'], to: ['Approved', 'Denied'] },
  canceled: { from: ['Pending', 'AwaitingDocuments', 'PendingReview'], to: ['Canceled'] },
  deadlinePassed: { from: ['AwaitingDocuments'], to: ['Canceled'] },
} as const satisfies Record<string, { from: readonly ApplicationStatus[]; to: readonly ApplicationStatus[] }>;

export type TransitionName = keyof typeof APPLICATION_TRANSITIONS;

export type ApplicationTrigger =
  | { type: 'documentsRequested'; persons: PersonStatus[] }
  | { type: 'documentRejected'; reasonCode: string | null }
  | { type: 'personSettled'; personId: string; status: PersonStatus; reasonCode: string | null; persons: PersonStatus[] }
  | { type: 'reviewed'; decision: 'Approved' | 'Denied'; reason: string; reviewer: string }
  | { type: 'canceled'; reason: string }
  | { type: 'deadlinePassed'; deadlineMs: number };

/** A change of status, with what the database records about it. */
export interface Transition {
  name: TransitionName;
  from: ApplicationStatus;
  to: ApplicationStatus;
  /** The decision's reason code; undefined keeps the stored one. */
  reasonCode?: string | null;
  /** Free text (a reviewer's or the partner's reason); undefined keeps the stored reason. */
  reason?: string;
  /** The person whose denial denies the application: the stored reason names them. */
  deniedPersonId?: string;
  decidedBy?: string;
}

export type TransitionDecision =
  | { kind: 'transition'; transition: Transition }
  /** Nothing changes (a person settled, others still awaited). */
  | { kind: 'unchanged' }
  | { kind: 'refused'; error: string };

/** Whether `name` may leave `status` (an update validator asks before accepting a request). */
export function allows(name: TransitionName, status: ApplicationStatus): boolean {
  return (APPLICATION_TRANSITIONS[name].from as readonly ApplicationStatus[]).includes(status);
}

/** Why a transition cannot leave `status`, as a person reads it. */
export function refusalOf(name: TransitionName, status: ApplicationStatus): string {
  if (name === 'reviewed') return `the application is ${status}; a review decision is only possible in PendingReview`;
  if (name === 'canceled') return `the application is already ${status} and can no longer be canceled`;
  return `${name} is not possible while the application is ${status}`;
}

export function nextTransition(status: ApplicationStatus, trigger: ApplicationTrigger): TransitionDecision {
  const name: TransitionName = trigger.type;
  if (!allows(name, status)) return { kind: 'refused', error: refusalOf(name, status) };
  const to = (next: ApplicationStatus, rest: Omit<Transition, 'name' | 'from' | 'to'> = {}): TransitionDecision => ({
    kind: 'transition',
    transition: { name, from: status, to: next, ...rest },
  });
  switch (trigger.type) {
    case 'documentsRequested':
      return to(aggregateStatus(trigger.persons));
    case 'documentRejected':
      return to('AwaitingDocuments', { reasonCode: trigger.reasonCode });
    case 'personSettled': {
      if (trigger.status === 'Denied')
        return to('Denied', { reasonCode: trigger.reasonCode ?? 'Denied', deniedPersonId: trigger.personId });
      const next = aggregateStatus(trigger.persons);
      return next === status ? { kind: 'unchanged' } : to(next);
    }
    case 'reviewed':
      return to(trigger.decision, {
        reason: trigger.reason,
        reasonCode: trigger.decision === 'Approved' ? 'ManualReviewApproved' : 'ManualReviewDenied',
        decidedBy: trigger.reviewer,
      });
    case 'canceled':
      return to('Canceled', { reason: trigger.reason, reasonCode: 'Canceled' });
    case 'deadlinePassed':
      return to('Canceled', { reason: deadlineReason(trigger.deadlineMs), reasonCode: 'AwaitingDocumentsDeadline' });
  }
}

// --- event dedupe keys ---------------------------------------------------------------------
// An event is recorded once per transition, however often its activity runs: its dedupe key
// names the workflow and the transition's place in it. Every key is made here.

const eventKey = (workflowId: string, seq: number, type: ApplicationEventType) => `${workflowId}:${seq}:${type}`;

/** The keys openApplication records with: application.created (1) and a status decided at the evaluation (2). */
export function openingEventKeys(workflowId: string): { created: string; decided: Record<'Denied' | 'PendingReview', string> } {
  return {
    created: eventKey(workflowId, 1, EVENT.created),
    decided: { Denied: eventKey(workflowId, 2, STATUS_EVENT.Denied!), PendingReview: eventKey(workflowId, 2, STATUS_EVENT.PendingReview!) },
  };
}

/** The key another outcome of the same transition would have had (same place in the workflow, another event). */
export function sameTransitionEventKey(dedupeKey: string, type: ApplicationEventType): string {
  return `${dedupeKey.slice(0, dedupeKey.lastIndexOf(':'))}:${type}`;
}

/** The application workflow's own events, numbered after the opening's two. */
export class ApplicationEventKeys {
  private seq = 2;
  constructor(private readonly workflowId: string) {}
  next(type: ApplicationEventType): string {
    this.seq += 1;
    return eventKey(this.workflowId, this.seq, type);
  }
}

/** A person workflow's document events: one pair of keys per verification it records. */
export class DocumentEventKeys {
  private seq = 0;
  constructor(private readonly workflowId: string) {}
  nextVerification(): Record<typeof EVENT.documentApproved | typeof EVENT.documentRejected, string> {
    this.seq += 1;
    return {
      [EVENT.documentApproved]: `${this.workflowId}:${this.seq}:${EVENT.documentApproved}`,
      [EVENT.documentRejected]: `${this.workflowId}:${this.seq}:${EVENT.documentRejected}`,
    } as Record<typeof EVENT.documentApproved | typeof EVENT.documentRejected, string>;
  }
}
