// JSON:API resources in the shapes Unit's SDK types declare (Application, ApplicationDocument).
// SSNs and passport numbers are never returned in full: only masked.
import type { ApplicationRow, DocumentRow, ListedPerson, PersonRow } from '../repository';

const iso = (d: unknown) => (d instanceof Date ? d : new Date(String(d))).toISOString();
const mask = (v: unknown, keep = 4) =>
  typeof v === 'string' && v.length > 0 ? `${'*'.repeat(Math.max(0, v.length - keep))}${v.slice(-keep)}` : undefined;

const MESSAGES: Record<string, string> = {
  Pending: 'The application is being evaluated.',
  AwaitingDocuments: 'Waiting for you to upload the required documents.',
  PendingReview: 'Waiting for a manual review.',
  Approved: 'The application was approved.',
  Denied: 'The application was denied.',
  Canceled: 'The application was canceled.',
};

/**
 * Identification masked wherever it is nested (the applicant, officer, owners, a power of
 * attorney agent, anything a later schema adds): `ssn` becomes `maskedSSN`, `passport`
 * becomes `maskedPassport`, at any depth.
 */
function masked(value: unknown, depth = 0): unknown {
  if (Array.isArray(value)) return value.map((v) => masked(v, depth + 1));
  if (!value || typeof value !== 'object' || depth > 16) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'ssn') {
      if (v) out.maskedSSN = mask(v);
    } else if (k === 'passport') {
      if (v) out.maskedPassport = mask(v);
    } else out[k] = masked(v, depth + 1);
  }
  return out;
}

/** Person attributes as returned: identification masked, status from the person row. */
function personOut(attrs: Record<string, unknown>, person: ListedPerson | undefined) {
  return { ...(masked(attrs) as Record<string, unknown>), ...(person ? { status: person.status } : {}) };
}

export function serializeApplication(app: ApplicationRow, persons: ListedPerson[], documentIds: string[]) {
  const stored = app.attributes as Record<string, unknown>;
  const { idempotencyKey: _k, deviceFingerprints: _d, tags: _t, ...attrs } = stored;
  const find = (role: string, position: number) => persons.find((p) => p.role === role && p.position === position);
  let typed: Record<string, unknown>;
  if (app.type === 'individualApplication') {
    const { status: _s, ...person } = personOut(attrs, undefined) as Record<string, unknown>;
    typed = person;
  } else {
    const officer = personOut(attrs.officer as Record<string, unknown>, find('officer', 0));
    const owners = ((attrs.beneficialOwners as Array<Record<string, unknown>>) ?? []).map((bo, i) =>
      personOut(bo, find('beneficialOwner', i + 1)),
    );
    typed = { ...(masked(attrs) as Record<string, unknown>), officer, beneficialOwners: owners };
  }
  return {
    type: app.type,
    id: app.id,
    attributes: {
      ...typed,
      status: app.status,
      message:
        app.decision_reason && ['Denied', 'Canceled', 'PendingReview'].includes(app.status) ? app.decision_reason : MESSAGES[app.status],
      createdAt: iso(app.created_at),
      updatedAt: iso(app.updated_at),
      archived: false,
      tags: app.tags ?? {},
      ...(app.decision_reason ? { decisionReason: app.decision_reason } : {}),
      ...(app.decision_reason_code ? { decisionReasonCode: app.decision_reason_code } : {}),
      ...(app.decided_by ? { decisionUserId: app.decided_by } : {}),
      // Erased on request (../redaction.ts): the personal fields above read "[redacted]".
      ...(app.redacted_at ? { redaction: { status: 'redacted' as const, redactedAt: iso(app.redacted_at) } } : {}),
    },
    relationships: {
      org: { data: { type: 'org', id: String(app.org_id) } },
      documents: { data: documentIds.map((id) => ({ type: 'document', id })) },
    },
  };
}

export function serializeDocument(doc: DocumentRow, person: Pick<PersonRow, 'role' | 'position' | 'date_of_birth'> | undefined) {
  return {
    type: 'document' as const,
    id: doc.id,
    attributes: {
      documentType: doc.document_type,
      status: doc.status,
      description: doc.description,
      name: doc.name,
      // (a redacted person has no date of birth any more)
      ...(person?.date_of_birth && doc.document_type !== 'SelfieVerification' ? { dateOfBirth: person.date_of_birth } : {}),
      ...(doc.reason ? { reason: doc.reason } : {}),
      ...(doc.reason_code ? { reasonCode: doc.reason_code } : {}),
      ...(person ? { personRole: person.role, personPosition: person.position } : {}),
    },
    relationships: { application: { data: { type: 'application', id: String(doc.application_id) } } },
  };
}

export function applicationDocument(agg: { application: ApplicationRow; persons: PersonRow[]; documents: DocumentRow[] }) {
  const byId = new Map(agg.persons.map((p) => [p.id, p]));
  return {
    data: serializeApplication(
      agg.application,
      agg.persons,
      agg.documents.map((d) => d.id),
    ),
    included: agg.documents.map((d) => serializeDocument(d, byId.get(String(d.person_id)))),
  };
}
