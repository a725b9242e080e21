// Signals, updates and queries of the application and person workflows, and their inputs:
// shared by the API (which sends them) and the workflows (which handle them). Deterministic:
// no I/O here. Payloads carry ids, statuses and reason codes only — never SSNs, passport
// numbers or images.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApplicationStatus, ApplicationType, DocumentStatus, DocumentType, PersonRole, PersonStatus, PersonVerdict } from './domain';
import type { VerifyRefusal } from './rules/verification';

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

export interface RequiredDocument {
  documentId: string;
  documentType: DocumentType;
}

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

/** What a person workflow returns once settled: its status and the events it recorded but did not deliver. */
export interface PersonOutcome {
  personId: string;
  status: PersonStatus;
  reasonCode: string | null;
  eventIds: string[];
}

// --- application workflow ---------------------------------------------------------------

/**
 * A person still open reports to its application: a document was rejected and must be
 * provided again (`resubmit`: the application asks again), and/or events to deliver.
 */
export interface PersonStatusChangedSignal {
  personId: string;
  status: PersonStatus;
  reasonCode?: string | null;
  resubmit?: boolean;
  eventIds?: string[];
}
export const personStatusChangedSignal = defineSignal<[PersonStatusChangedSignal]>('personStatusChanged');

/** The API starts the workflow with this update (update-with-start) and gets the initial evaluation's status in the same round trip. */
export interface InitialEvaluation {
  status: ApplicationStatus;
}
export const initialEvaluationUpdate = defineUpdate<InitialEvaluation, []>('initialEvaluation');

export interface CancelRequest {
  reason: string;
}
export interface UpdateOutcome {
  ok: boolean;
  status: ApplicationStatus;
  error?: string;
}
export const cancelUpdate = defineUpdate<UpdateOutcome, [CancelRequest]>('cancel');

export interface ReviewRequest {
  decision: 'Approved' | 'Denied';
  reason: string;
  /** The reviewer's API key id (recorded as who decided). */
  reviewer: string;
  /**
   * The engine's signed grant for exactly this decision by this reviewer (src/orgs/reviewerCredential.ts).
   * Absent only in histories from before it was required; a review without one is refused.
   */
  credential?: string;
}
/** Sent by POST /applications/:id/review, which checks the reviewer's key and issues the credential. */
export const reviewUpdate = defineUpdate<UpdateOutcome, [ReviewRequest]>('review');

export interface PersonView {
  personId: string;
  role: PersonRole;
  position: number;
  status: PersonStatus;
  documents: RequiredDocument[];
}
export interface ApplicationStatusView {
  status: ApplicationStatus;
  applicationType: ApplicationType;
  persons: PersonView[];
  awaitingDocumentsSince: number | null;
}
export const statusQuery = defineQuery<ApplicationStatusView>('status');

// --- person workflow ---------------------------------------------------------------------

/** An upload changed a document's status (the API stored the file and computed the status). */
export interface DocumentUploadedSignal {
  documentId: string;
  status: DocumentStatus;
}
export const documentUploadedSignal = defineSignal<[DocumentUploadedSignal]>('documentUploaded');

export interface VerifyDocumentRequest {
  documentId: string;
  jobId: string;
}
export type VerifyDocumentOutcome =
  | { ok: true; documentStatus: DocumentStatus; reasonCode: string | null; personOutcome: PersonVerdict }
  | { ok: false; error: VerifyRefusal; message: string };
export const verifyDocumentUpdate = defineUpdate<VerifyDocumentOutcome, [VerifyDocumentRequest]>('verifyDocument');

/** The application reached a final status: the person workflow records nothing more and ends. */
export interface ClosePersonSignal {
  applicationStatus: ApplicationStatus;
}
export const closePersonSignal = defineSignal<[ClosePersonSignal]>('close');

export interface PersonStatusView {
  status: PersonStatus;
  documents: Record<string, DocumentStatus>;
}
export const personStatusQuery = defineQuery<PersonStatusView>('status');
