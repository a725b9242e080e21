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

export interface ApplicationWorkflowInput {
  applicationId: string;
  orgId: string;
  applicationType: ApplicationType;
  /** How long the application may wait in AwaitingDocuments before it is canceled (ms, fixed at start). */
  awaitingDocumentsDeadlineMs: number;
  /** Interval of reminder events while AwaitingDocuments (ms, fixed at start). */
  awaitingDocumentsReminderMs: number;
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
}

// --- application workflow ---------------------------------------------------------------

/** An upload changed a document's status (the API stored the file and computed the status). */
export interface DocumentUploadedSignal { documentId: string; status: DocumentStatus }
export const documentUploadedSignal = defineSignal<[DocumentUploadedSignal]>('documentUploaded');

/** A person workflow reports its new status to the application workflow. */
export interface PersonStatusChangedSignal { personId: string; status: PersonStatus; reasonCode?: string | null }
export const personStatusChangedSignal = defineSignal<[PersonStatusChangedSignal]>('personStatusChanged');

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
