// The event types the engine emits (Unit's names where Unit has one). Pure constants: safe to
// import from workflow code.
export const EVENT_TYPES = [
  'application.created',
  'application.awaitingDocuments',
  'application.pendingReview',
  'application.approved',
  'application.denied',
  'application.canceled',
  /** Not a Unit event: sent while an application still waits for documents (AWAITING_DOCUMENTS_REMINDER). */
  'application.documentsReminder',
  'document.approved',
  'document.rejected',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
