// When a SelfieVerification document may be verified with a verification job: one rule, one set
// of messages, used by the route (before it asks the workflow), the person workflow's update
// validator and the activity that records the verification (which sees the locked rows).
// Each caller passes the facts it has; a fact it does not know (undefined) is not checked.
// (An activity run again after it committed is not a new request: it recognises its own
// verification before asking this rule.) Pure: safe in workflow code.
import type { ApplicationStatus, DocumentStatus, DocumentType } from '../domain';

export type VerifyRefusal =
  | 'document_not_found'
  | 'job_not_found'
  | 'job_not_completed'
  | 'job_failed'
  | 'job_already_used'
  | 'document_not_verifiable'
  | 'application_not_awaiting_documents';

export interface VerifyFacts {
  documentId: string;
  jobId: string;
  /** null: no such document (for this person, in this org). */
  document?: { documentType: DocumentType; status: DocumentStatus } | null;
  /** null: no such job in this org. */
  job?: { status: 'pending' | 'completed' | 'failed'; usedByDocumentId: string | null } | null;
  /** The application's status, or (in the person's workflow) whether the person still awaits documents. */
  applicationStatus?: ApplicationStatus;
  personOpen?: boolean;
}

export type VerifyDecision = { ok: true } | { ok: false; refusal: VerifyRefusal; message: string };

/** Documents a job may verify: never verified yet, or rejected and asked for again. */
const VERIFIABLE_STATUSES: readonly DocumentStatus[] = ['Required', 'Invalid'];

export function canVerify(f: VerifyFacts): VerifyDecision {
  const refuse = (refusal: VerifyRefusal, message: string): VerifyDecision => ({ ok: false, refusal, message });
  if (f.document === null) return refuse('document_not_found', `document ${f.documentId} was not found`);
  if (f.job === null) return refuse('job_not_found', `verification job ${f.jobId} was not found`);
  if (f.job?.status === 'pending')
    return refuse(
      'job_not_completed',
      `verification job ${f.jobId} is not completed yet (job not completed); poll GET /verification-jobs/${f.jobId} until it is`,
    );
  if (f.job?.status === 'failed')
    return refuse('job_failed', `verification job ${f.jobId} failed and cannot verify a document; start a new job`);
  if (f.job && f.job.usedByDocumentId !== null) {
    return refuse('job_already_used', `verification job ${f.jobId} was already used to verify a document; start a new job`);
  }
  if (f.document && f.document.documentType !== 'SelfieVerification') {
    return refuse(
      'document_not_verifiable',
      `document ${f.documentId} is a ${f.document.documentType}; only SelfieVerification documents are verified with a job (upload the file instead)`,
    );
  }
  if (f.applicationStatus !== undefined && f.applicationStatus !== 'AwaitingDocuments') {
    return refuse(
      'application_not_awaiting_documents',
      `the application is ${f.applicationStatus}; documents can be verified only while AwaitingDocuments`,
    );
  }
  if (f.personOpen === false)
    return refuse(
      'application_not_awaiting_documents',
      "the person's verification is over; documents can be verified only while AwaitingDocuments",
    );
  if (f.document && !VERIFIABLE_STATUSES.includes(f.document.status)) {
    return refuse(
      'document_not_verifiable',
      `document ${f.documentId} is ${f.document.status}; only Required or Invalid documents can be verified`,
    );
  }
  return { ok: true };
}

/** A verification job row as the rule sees it. */
export const jobFacts = (
  job: { status: 'pending' | 'completed' | 'failed'; used_by_document_id: string | null } | undefined,
): VerifyFacts['job'] =>
  job ? { status: job.status, usedByDocumentId: job.used_by_document_id === null ? null : String(job.used_by_document_id) } : null;
