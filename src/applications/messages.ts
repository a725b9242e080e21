// Signals, updates and queries of the application and person workflows, shared by the API
// (which sends them) and the workflows (which handle them). Deterministic: no I/O here.
// Payloads carry ids, statuses and reason codes only — never SSNs, passport numbers or images.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

export type ApplicationStatus = 'Pending' | 'AwaitingDocuments' | 'PendingReview' | 'Approved' | 'Denied' | 'Canceled';
export type ApplicationType = 'individualApplication' | 'businessApplication';
export type PersonRole = 'individual' | 'officer' | 'beneficialOwner';
export type PersonStatus = 'Pending' | 'AwaitingDocuments' | 'PendingReview' | 'Approved' | 'Denied';
export type DocumentType = 'IdDocument' | 'Passport' | 'SelfieVerification';
export type DocumentStatus = 'Required' | 'ReceivedFront' | 'ReceivedBack' | 'PendingReview' | 'Approved' | 'Invalid';

export const TERMINAL_STATUSES: readonly ApplicationStatus[] = ['Approved', 'Denied', 'Canceled'];
export const isTerminal = (s: ApplicationStatus) => TERMINAL_STATUSES.includes(s);

export const applicationWorkflowId = (applicationId: string) => `application-${applicationId}`;
export const personWorkflowId = (applicationId: string, personId: string) => `application-${applicationId}-person-${personId}`;

/** Event types the workflows emit (see src/workflows/events.ts). */
export const EVENT = {
  created: 'application.created',
  awaitingDocuments: 'application.awaitingDocuments',
  pendingReview: 'application.pendingReview',
  approved: 'application.approved',
  denied: 'application.denied',
  canceled: 'application.canceled',
  reminder: 'application.documentsReminder',
  documentApproved: 'document.approved',
  documentRejected: 'document.rejected',
} as const;

/** The event that announces an application status (Pending is never announced). */
export const STATUS_EVENT: Record<ApplicationStatus, string | null> = {
  Pending: null,
  AwaitingDocuments: EVENT.awaitingDocuments,
  PendingReview: EVENT.pendingReview,
  Approved: EVENT.approved,
  Denied: EVENT.denied,
  Canceled: EVENT.canceled,
};

export interface ApplicationWorkflowInput {
  applicationId: string;
  orgId: string;
  applicationType: ApplicationType;
  /** How long the application may wait in AwaitingDocuments before it is canceled (ms, fixed at start). */
  awaitingDocumentsDeadlineMs: number;
  /** Interval of reminder events while AwaitingDocuments (ms, fixed at start). */
  awaitingDocumentsReminderMs: number;
  /** The HTTP timeout of one webhook request (ms): sizes the delivery activity's timeout. */
  webhookTimeoutMs?: number;
}

export interface RequiredDocument { documentId: string; documentType: DocumentType }

export interface PersonWorkflowInput {
  applicationId: string;
  orgId: string;
  personId: string;
  role: PersonRole;
  position: number;
  parentWorkflowId: string;
  documents: RequiredDocument[];
  /** For event relationships, as Unit names them (individualApplication / businessApplication). */
  applicationType: ApplicationType;
  /**
   * How the person talks to its application: absent (protocol 1) = documents arrive as signals
   * forwarded by the application and every status change is signalled back; 2 = the API sends
   * verify updates and upload signals to the person directly, and the person *ends* once its
   * status is settled, returning a PersonOutcome. The parent that starts the person decides.
   */
  protocol?: 2;
}

/** What a protocol-2 person workflow returns: its settled status and the events it recorded but did not deliver. */
export interface PersonOutcome { personId: string; status: PersonStatus; reasonCode: string | null; eventIds: string[] }

// --- application workflow ---------------------------------------------------------------

/** An upload changed a document's status (the API stored the file and computed the status). */
export interface DocumentUploadedSignal { documentId: string; status: DocumentStatus }
export const documentUploadedSignal = defineSignal<[DocumentUploadedSignal]>('documentUploaded');

/** A person workflow reports its new status to the application workflow. */
export interface PersonStatusChangedSignal {
  personId: string;
  status: PersonStatus;
  reasonCode?: string | null;
  /** Protocol 2: a document was rejected and must be provided again (the application asks again). */
  resubmit?: boolean;
  /** Protocol 2: events the person recorded for the application to deliver. */
  eventIds?: string[];
}
export const personStatusChangedSignal = defineSignal<[PersonStatusChangedSignal]>('personStatusChanged');

/**
 * Protocol 2: the API starts the workflow with this update (update-with-start) and gets the
 * initial evaluation's status in the same round trip, instead of polling for it.
 */
export interface InitialEvaluation { status: ApplicationStatus }
export const initialEvaluationUpdate = defineUpdate<InitialEvaluation, []>('initialEvaluation');

export interface CancelRequest { reason: string }
export interface UpdateOutcome { ok: boolean; status: ApplicationStatus; error?: string }
export const cancelUpdate = defineUpdate<UpdateOutcome, [CancelRequest]>('cancel');

export interface ReviewRequest { decision: 'Approved' | 'Denied'; reason: string; reviewer: string }
/** `temporal workflow update execute --name review --input '{"decision":"Approved","reason":"…","reviewer":"ops"}'` */
export const reviewUpdate = defineUpdate<UpdateOutcome, [ReviewRequest]>('review');

export interface VerifyDocumentRequest { documentId: string; jobId: string }
export type VerifyErrorCode = 'document_not_found' | 'document_not_verifiable' | 'job_not_found' | 'job_not_completed' | 'job_failed' | 'job_already_used' | 'application_not_awaiting_documents';
export type VerifyDocumentOutcome =
  | { ok: true; documentStatus: DocumentStatus; reasonCode: string | null; personOutcome: PersonVerdict }
  | { ok: false; error: VerifyErrorCode };
export const verifyDocumentUpdate = defineUpdate<VerifyDocumentOutcome, [VerifyDocumentRequest]>('verifyDocument');

export interface PersonView { personId: string; role: PersonRole; position: number; status: PersonStatus; documents: RequiredDocument[] }
export interface ApplicationStatusView { status: ApplicationStatus; applicationType: ApplicationType; persons: PersonView[]; awaitingDocumentsSince: number | null }
export const statusQuery = defineQuery<ApplicationStatusView>('status');

// --- person workflow ---------------------------------------------------------------------

/** What one document outcome means for its person. */
export type PersonVerdict = 'Continue' | 'Denied' | 'Resubmit';

export interface DocumentUpdatedSignal { documentId: string; status: DocumentStatus; verdict?: PersonVerdict; reasonCode?: string | null }
export const documentUpdatedSignal = defineSignal<[DocumentUpdatedSignal]>('documentUpdated');

/** The application reached a final status: the person workflow records nothing more and ends. */
export interface ClosePersonSignal { applicationStatus: ApplicationStatus }
export const closePersonSignal = defineSignal<[ClosePersonSignal]>('close');

export interface PersonStatusView { status: PersonStatus; documents: Record<string, DocumentStatus> }
export const personStatusQuery = defineQuery<PersonStatusView>('status');
