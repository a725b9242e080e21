// How a person's status follows from their documents, and an application's from its persons'.
// Pure and deterministic: used by workflows (in their sandbox) and by activities alike.
import type { ApplicationStatus, DocumentStatus, PersonStatus } from '../domain';

const AWAITING: DocumentStatus[] = ['Required', 'Invalid', 'ReceivedFront', 'ReceivedBack'];

/** A person's status from their documents: any missing → AwaitingDocuments, all approved → Approved, else PendingReview. */
export function derivePersonStatus(documents: DocumentStatus[], { denied }: { denied: boolean }): PersonStatus {
  if (denied) return 'Denied';
  if (documents.some((s) => AWAITING.includes(s))) return 'AwaitingDocuments';
  if (documents.every((s) => s === 'Approved')) return 'Approved';
  return 'PendingReview';
}

/** The application's status from its persons' statuses (once documents are required). */
export function aggregateStatus(persons: PersonStatus[]): ApplicationStatus {
  if (persons.some((s) => s === 'Denied')) return 'Denied';
  if (persons.some((s) => s === 'AwaitingDocuments' || s === 'Pending')) return 'AwaitingDocuments';
  if (persons.every((s) => s === 'Approved')) return 'Approved';
  return 'PendingReview';
}

/** A person whose status no later document can change: their verification is over. */
export const personSettled = (s: PersonStatus) => s === 'Approved' || s === 'Denied' || s === 'PendingReview';

/**
 * What an application's approval means for its parts: every person not denied is approved, and
 * every document still awaiting review is approved with it (a reviewer's approval covers the
 * uploaded ID documents they looked at).
 */
export const APPROVAL_SETTLES = {
  personStatus: 'Approved',
  exceptPersonStatus: 'Denied',
  fromDocumentStatus: 'PendingReview',
  documentStatus: 'Approved',
} as const satisfies {
  personStatus: PersonStatus;
  exceptPersonStatus: PersonStatus;
  fromDocumentStatus: DocumentStatus;
  documentStatus: DocumentStatus;
};
