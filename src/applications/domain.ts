// The applications domain model, written once: the statuses and types an application, its
// persons and their documents can have, the events that announce them and the workflow ids.
// migrations/database.ts, the workflows, the rules and the API schemas all import these.
// Pure constants and types: safe in workflow code.

export const APPLICATION_STATUSES = ['Pending', 'AwaitingDocuments', 'PendingReview', 'Approved', 'Denied', 'Canceled'] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

export const APPLICATION_TYPES = ['individualApplication', 'businessApplication'] as const;
export type ApplicationType = (typeof APPLICATION_TYPES)[number];

export const PERSON_ROLES = ['individual', 'officer', 'beneficialOwner'] as const;
export type PersonRole = (typeof PERSON_ROLES)[number];

export const PERSON_STATUSES = ['Pending', 'AwaitingDocuments', 'PendingReview', 'Approved', 'Denied'] as const;
export type PersonStatus = (typeof PERSON_STATUSES)[number];

export const DOCUMENT_TYPES = ['IdDocument', 'Passport', 'SelfieVerification'] as const;
export type DocumentType = (typeof DOCUMENT_TYPES)[number];

export const DOCUMENT_STATUSES = ['Required', 'ReceivedFront', 'ReceivedBack', 'PendingReview', 'Approved', 'Invalid'] as const;
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** What one document outcome means for its person. */
export type PersonVerdict = 'Continue' | 'Denied' | 'Resubmit';

export const TERMINAL_STATUSES: readonly ApplicationStatus[] = ['Approved', 'Denied', 'Canceled'];
export const isTerminal = (s: ApplicationStatus) => TERMINAL_STATUSES.includes(s);

/** The events the applications capability records (Unit's names where Unit has one). */
export const EVENT = {
  created: 'application.created',
  awaitingDocuments: 'application.awaitingDocuments',
  pendingReview: 'application.pendingReview',
  approved: 'application.approved',
  denied: 'application.denied',
  canceled: 'application.canceled',
  /** Not a Unit event: sent while an application still waits for documents (AWAITING_DOCUMENTS_REMINDER). */
  reminder: 'application.documentsReminder',
  /** Not a Unit event (Stripe's identity.verification_session.redacted): the applicant's personal data was erased on request. */
  redacted: 'application.redacted',
  documentApproved: 'document.approved',
  documentRejected: 'document.rejected',
} as const;
export type ApplicationEventType = (typeof EVENT)[keyof typeof EVENT];

/** The event that announces an application status (Pending is never announced). */
export const STATUS_EVENT: Record<ApplicationStatus, ApplicationEventType | null> = {
  Pending: null,
  AwaitingDocuments: EVENT.awaitingDocuments,
  PendingReview: EVENT.pendingReview,
  Approved: EVENT.approved,
  Denied: EVENT.denied,
  Canceled: EVENT.canceled,
};

export const applicationWorkflowId = (applicationId: string) => `application-${applicationId}`;
export const personWorkflowId = (applicationId: string, personId: string) => `application-${applicationId}-person-${personId}`;
