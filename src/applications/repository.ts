// Every SQL statement of the applications capability: what the API and the activities read
// and write about applications, persons and documents. Every function takes the org id:
// another org's rows are simply not found. Functions that take `trx` run inside the caller's
// transaction (pass the Transaction); the others may take the database itself.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import { inBatches } from '../platform/database/batches';
import type { ApplicationDocumentsTable, ApplicationPersonsTable, ApplicationsTable, Database } from '../../migrations/database';
import type { ApplicationStatus, ApplicationType, DocumentStatus, DocumentType, PersonRole, PersonStatus } from './domain';
import { applicationWorkflowId, EVENT, isTerminal } from './domain';
import { isDatabaseId } from '../platform/database/ids';
import { reserveIds } from '../platform/database/sequences';
import type { KeyRing } from '../platform/crypto/keyRing';
import { seal, sealJson } from '../platform/crypto/envelope';
import { openSealed, openSealedJson, type SealedColumn } from '../platform/crypto/sealedColumns';
import { identityKey, requestHash } from './identity';
import { mergeSensitive, personAttributesAt, splitSensitive, type SensitiveField } from './sensitiveAttributes';
import { namesIn, REDACTED, redactAttributes, withoutNames } from './redaction';
import { redactJobIn } from '../verification/job/repository';
import { recordEventIn } from '../webhooks/repository';

// Personal data at rest is sealed (src/platform/crypto/envelope.ts), each value under a context
// naming its row, so a value copied to another row does not open there. SSNs, passport numbers
// and dates of birth leave `attributes` for `applications.sensitive`; a person's date of birth is
// `application_persons.sensitive`; document files are sealed per side. Rows come back opened,
// and only from the functions whose callers need the values (lists open no date of birth).
const CONTEXT = {
  application: (id: unknown) => `applications.sensitive:${String(id)}`,
  person: (id: unknown) => `application_persons.sensitive:${String(id)}`,
  document: (id: unknown, side: 'front' | 'back') => `documents.content:${String(id)}:${side}`,
};

/** The sealed columns of this capability, for key rotation (src/engine/storedData.ts). */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'applications', column: 'sensitive', key: ['id'], context: (r) => CONTEXT.application(r.id) },
  { table: 'application_persons', column: 'sensitive', key: ['id'], context: (r) => CONTEXT.person(r.id) },
  { table: 'application_documents', column: 'front_sealed', key: ['id'], context: (r) => CONTEXT.document(r.id, 'front') },
  { table: 'application_documents', column: 'back_sealed', key: ['id'], context: (r) => CONTEXT.document(r.id, 'back') },
];

type StoredApplication = Selectable<ApplicationsTable>;
type StoredPerson = Selectable<ApplicationPersonsTable>;
/** An application with its attributes as submitted (the sealed fields opened). */
export type ApplicationRow = Omit<StoredApplication, 'sensitive'>;
/** A person with their date of birth opened. */
export type PersonRow = Omit<StoredPerson, 'sensitive' | 'date_of_birth'> & { date_of_birth: string };
/** A person as lists show them: nothing sealed, nothing opened. */
export type ListedPerson = Omit<PersonRow, 'date_of_birth'>;
/** A document row without its file bytes (those are read only for downloads). */
export type DocumentRow = Omit<Selectable<ApplicationDocumentsTable>, 'front_file' | 'back_file' | 'front_sealed' | 'back_sealed'> & {
  has_front: boolean;
  has_back: boolean;
};

/** The application's attributes as submitted. A row from before migration 010 (not sealed yet) holds them all in `attributes`. */
function openApplication(ring: KeyRing, row: StoredApplication): ApplicationRow {
  const { sensitive, ...rest } = row;
  if (!sensitive) return rest;
  const fields = openSealedJson<SensitiveField[]>(ring, sensitive, CONTEXT.application(row.id));
  return { ...rest, attributes: mergeSensitive(rest.attributes, fields) };
}

function openPerson(ring: KeyRing, row: StoredPerson): PersonRow {
  const { sensitive, date_of_birth, ...rest } = row;
  const dateOfBirth = sensitive
    ? openSealedJson<{ dateOfBirth: string }>(ring, sensitive, CONTEXT.person(row.id)).dateOfBirth
    : date_of_birth;
  return { ...rest, date_of_birth: dateOfBirth ?? '' };
}

/** The person's date of birth from the columns a join selected (sealed, or clear before migration 010). */
function dateOfBirthOf(ring: KeyRing, personId: unknown, sensitive: Buffer | null, clear: string | null): string {
  return sensitive ? openSealedJson<{ dateOfBirth: string }>(ring, sensitive, CONTEXT.person(personId)).dateOfBirth : (clear ?? '');
}

const hasFile = (side: 'front' | 'back', alias = '') => {
  const [sealed, clear] = side === 'front' ? ['front_sealed', 'front_file'] : ['back_sealed', 'back_file'];
  return sql<boolean>`(${sql.ref(alias + sealed)} IS NOT NULL OR ${sql.ref(alias + clear)} IS NOT NULL)`;
};

export interface ApplicationAggregate {
  application: ApplicationRow;
  persons: PersonRow[];
  documents: DocumentRow[];
}

export type InsertResult =
  { kind: 'created' | 'replayed'; application: ApplicationRow } | { kind: 'conflict'; application: ApplicationRow };

/** An application as submitted, ready to store (see newApplication.ts for how a request becomes one). */
export interface NewApplication {
  type: ApplicationType;
  /** The submitted attributes; SSNs, passport numbers and dates of birth are sealed when stored. */
  attributes: Record<string, unknown>;
  displayName: string;
  email: string | null;
  tags: Record<string, string | null>;
  idempotencyKey: string | null;
  /** Hash of the request: the same idempotencyKey with another body is a conflict. */
  requestHash: string;
  persons: NewPerson[];
  /** The API key that submitted it (a reviewer key may not review what it submitted). */
  submittedByKeyId?: string | null;
}
export interface NewPerson {
  role: PersonRole;
  position: number;
  fullName: string;
  dateOfBirth: string;
  /** Finds the same person on another application without storing the SSN or passport number (an HMAC, ./identity.ts). */
  identityKey: string;
  usPerson: boolean;
  evaluationParams: Record<string, unknown>;
}

/**
 * Inserts the application and its persons in one transaction. With an idempotencyKey, the
 * same key and body returns the original ('replayed'); the same key and another body is a 'conflict'.
 */
export async function insertApplication(db: Kysely<Database>, ring: KeyRing, orgId: string, app: NewApplication): Promise<InsertResult> {
  const hash = app.requestHash;
  const key = app.idempotencyKey;
  const existing = async () => {
    const row = openApplication(
      ring,
      await db
        .selectFrom('applications')
        .selectAll()
        .where('org_id', '=', orgId)
        .where('idempotency_key', '=', key!)
        .executeTakeFirstOrThrow(),
    );
    return row.request_hash === hash ? { kind: 'replayed' as const, application: row } : { kind: 'conflict' as const, application: row };
  };
  if (key) {
    const found = await db
      .selectFrom('applications')
      .select('id')
      .where('org_id', '=', orgId)
      .where('idempotency_key', '=', key)
      .executeTakeFirst();
    if (found) return existing();
  }
  const inserted = await db.transaction().execute(async (trx) => {
    // The ids first: each sealed value is bound to its row's id, and nothing is written in the clear.
    const [id] = await reserveIds(trx, 'applications', 1);
    const personIds = await reserveIds(trx, 'application_persons', app.persons.length);
    const { open, sensitive } = splitSensitive(app.attributes);
    const row = await trx
      .insertInto('applications')
      .values({
        id,
        org_id: orgId,
        type: app.type,
        status: 'Pending',
        attributes: JSON.stringify(open),
        sensitive: sealJson(ring, sensitive, CONTEXT.application(id)),
        display_name: app.displayName,
        email: app.email,
        tags: JSON.stringify(app.tags),
        decision_reason: null,
        decision_reason_code: null,
        decided_by: null,
        idempotency_key: key,
        request_hash: hash,
        submitted_by_key_id: app.submittedByKeyId ?? null,
      })
      .onConflict((oc) => oc.columns(['org_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return null; // a concurrent request with the same key won
    await trx
      .insertInto('application_persons')
      .values(
        app.persons.map((p, i) => ({
          id: personIds[i],
          application_id: row.id,
          org_id: orgId,
          role: p.role,
          position: p.position,
          full_name: p.fullName,
          date_of_birth: null,
          sensitive: sealJson(ring, { dateOfBirth: p.dateOfBirth }, CONTEXT.person(personIds[i])),
          identity_key: p.identityKey,
          us_person: p.usPerson,
          evaluation_params: JSON.stringify(p.evaluationParams),
          status: 'Pending' as const,
          reason: null,
          reason_code: null,
        })),
      )
      .execute();
    return row;
  });
  if (!inserted) return existing();
  return { kind: 'created', application: openApplication(ring, inserted) };
}

const documentColumns = [
  'id',
  'application_id',
  'org_id',
  'person_id',
  'document_type',
  'status',
  'description',
  'name',
  'reason',
  'reason_code',
  'front_content_type',
  'back_content_type',
  'verification_job_id',
  'created_at',
  'updated_at',
] as const;

export async function getAggregate(
  db: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  applicationId: string,
): Promise<ApplicationAggregate | null> {
  if (!isDatabaseId(applicationId)) return null;
  const stored = await db
    .selectFrom('applications')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', applicationId)
    .executeTakeFirst();
  if (!stored) return null;
  const [persons, documents] = await Promise.all([
    db
      .selectFrom('application_persons')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('application_id', '=', applicationId)
      .orderBy('id')
      .execute(),
    listDocuments(db, orgId, applicationId),
  ]);
  return { application: openApplication(ring, stored), persons: persons.map((p) => openPerson(ring, p)), documents };
}

export async function listDocuments(db: Kysely<Database>, orgId: string, applicationId: string): Promise<DocumentRow[]> {
  return db
    .selectFrom('application_documents')
    .select(documentColumns)
    .select([hasFile('front').as('has_front'), hasFile('back').as('has_back')])
    .where('org_id', '=', orgId)
    .where('application_id', '=', applicationId)
    .orderBy('id')
    .execute();
}

export async function getDocument(
  db: Kysely<Database>,
  orgId: string,
  applicationId: string,
  documentId: string,
): Promise<DocumentRow | null> {
  if (!isDatabaseId(applicationId) || !isDatabaseId(documentId)) return null;
  const row = await db
    .selectFrom('application_documents')
    .select(documentColumns)
    .select([hasFile('front').as('has_front'), hasFile('back').as('has_back')])
    .where('org_id', '=', orgId)
    .where('application_id', '=', applicationId)
    .where('id', '=', documentId)
    .executeTakeFirst();
  return row ?? null;
}

/** A document with what acting on it needs of its application and person, in one query. */
export interface DocumentInContext {
  document: DocumentRow;
  applicationStatus: ApplicationRow['status'];
  /** Redacted applications take nothing more (./redaction.ts). */
  applicationRedacted: boolean;
  person: Pick<PersonRow, 'id' | 'role' | 'position' | 'date_of_birth'>;
}

/** null: no such application; { document: null }: the application exists, the document does not. */
export async function getDocumentInContext(
  db: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  applicationId: string,
  documentId: string,
): Promise<DocumentInContext | { document: null } | null> {
  if (!isDatabaseId(applicationId)) return null;
  const row = !isDatabaseId(documentId)
    ? undefined
    : await db
        .selectFrom('application_documents as d')
        .innerJoin('applications as a', (j) => j.onRef('a.id', '=', 'd.application_id').onRef('a.org_id', '=', 'd.org_id'))
        .innerJoin('application_persons as p', (j) => j.onRef('p.id', '=', 'd.person_id').onRef('p.org_id', '=', 'd.org_id'))
        .select(documentColumns.map((c) => `d.${c}` as const))
        .select([hasFile('front', 'd.').as('has_front'), hasFile('back', 'd.').as('has_back')])
        .select([
          'a.status as application_status',
          'a.redacted_at as application_redacted_at',
          'p.role as person_role',
          'p.position as person_position',
          'p.date_of_birth as person_date_of_birth',
          'p.sensitive as person_sensitive',
        ])
        .where('d.org_id', '=', orgId)
        .where('d.application_id', '=', applicationId)
        .where('d.id', '=', documentId)
        .executeTakeFirst();
  if (!row) {
    const app = await db
      .selectFrom('applications')
      .select('id')
      .where('org_id', '=', orgId)
      .where('id', '=', applicationId)
      .executeTakeFirst();
    return app ? { document: null } : null;
  }
  const { application_status, application_redacted_at, person_role, person_position, person_date_of_birth, person_sensitive, ...document } =
    row;
  return {
    document: document as DocumentRow,
    applicationStatus: application_status,
    applicationRedacted: application_redacted_at !== null,
    person: {
      id: String(document.person_id),
      role: person_role,
      position: person_position,
      date_of_birth: dateOfBirthOf(ring, document.person_id, person_sensitive, person_date_of_birth),
    },
  };
}

export interface ListFilter {
  statuses?: string[];
  email?: string;
  query?: string;
  tags?: Record<string, string | null>;
  sort: 'createdAt' | '-createdAt';
  limit: number;
  offset: number;
}

export async function listApplications(
  db: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  f: ListFilter,
): Promise<{ rows: ApplicationRow[]; total: number }> {
  let q = db.selectFrom('applications').where('org_id', '=', orgId);
  if (f.statuses?.length) q = q.where('status', 'in', f.statuses as ApplicationStatus[]);
  if (f.email) q = q.where('email', '=', f.email);
  if (f.query) {
    const like = `%${f.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('display_name', 'ilike', like), eb('email', 'ilike', like)]));
  }
  if (f.tags && Object.keys(f.tags).length) q = q.where(sql<boolean>`tags @> ${JSON.stringify(f.tags)}::jsonb`);
  const [rows, count] = await Promise.all([
    q
      .selectAll()
      .orderBy('created_at', f.sort === 'createdAt' ? 'asc' : 'desc')
      .orderBy('id', f.sort === 'createdAt' ? 'asc' : 'desc')
      .limit(f.limit)
      .offset(f.offset)
      .execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map((r) => openApplication(ring, r)), total: Number(count.n) };
}

const LISTED_PERSON_COLUMNS = [
  'id',
  'application_id',
  'org_id',
  'role',
  'position',
  'full_name',
  'identity_key',
  'us_person',
  'evaluation_params',
  'status',
  'reason',
  'reason_code',
] as const;

export async function personsOfApplications(db: Kysely<Database>, orgId: string, ids: string[]): Promise<ListedPerson[]> {
  if (!ids.length) return [];
  return db
    .selectFrom('application_persons')
    .select(LISTED_PERSON_COLUMNS)
    .where('org_id', '=', orgId)
    .where('application_id', 'in', ids)
    .orderBy('id')
    .execute();
}

export async function documentRefsOfApplications(
  db: Kysely<Database>,
  orgId: string,
  ids: string[],
): Promise<Array<{ id: string; application_id: string }>> {
  if (!ids.length) return [];
  return db
    .selectFrom('application_documents')
    .select(['id', 'application_id'])
    .where('org_id', '=', orgId)
    .where('application_id', 'in', ids)
    .orderBy('id')
    .execute();
}

/** Sides of each document type: an IdDocument needs front and back, the others one file. */
export const needsBack = (t: string) => t === 'IdDocument';
export const UPLOADABLE: DocumentType[] = ['IdDocument', 'Passport'];
/** A document accepts (replacement) files until it is decided; the application must be AwaitingDocuments too. */
export const UPLOAD_OPEN_STATUSES: DocumentStatus[] = ['Required', 'ReceivedFront', 'ReceivedBack', 'Invalid', 'PendingReview'];

/**
 * Stores one side of an uploaded document and moves its status atomically: ReceivedFront /
 * ReceivedBack while a side is missing, PendingReview when every side is there.
 * Returns null if the document is not open for uploads (any more).
 */
export async function storeUpload(
  db: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  applicationId: string,
  documentId: string,
  side: 'front' | 'back',
  contentType: string,
  bytes: Buffer,
): Promise<DocumentRow | null> {
  if (!isDatabaseId(documentId)) return null;
  const other = hasFile(side === 'front' ? 'back' : 'front');
  const status = sql<DocumentStatus>`CASE
      WHEN document_type <> 'IdDocument' THEN 'PendingReview'
      WHEN ${other} AND status <> 'Invalid' THEN 'PendingReview'
      ELSE ${side === 'front' ? 'ReceivedFront' : 'ReceivedBack'} END`;
  const sealed = seal(ring, bytes, CONTEXT.document(documentId, side));
  const common = { status, reason: null, reason_code: null };
  const updated = await db
    .updateTable('application_documents')
    .set(
      side === 'front'
        ? { front_sealed: sealed, front_file: null, front_content_type: contentType, ...common, updated_at: sql`now()` }
        : { back_sealed: sealed, back_file: null, back_content_type: contentType, ...common, updated_at: sql`now()` },
    )
    .where('org_id', '=', orgId)
    .where('application_id', '=', applicationId)
    .where('id', '=', documentId)
    .where('status', 'in', UPLOAD_OPEN_STATUSES)
    .where('document_type', 'in', UPLOADABLE)
    // Re-checked in the same statement: the application may have closed since the route looked.
    .where('application_id', 'in', (eb) =>
      eb.selectFrom('applications').select('id').where('org_id', '=', orgId).where('status', '=', 'AwaitingDocuments'),
    )
    // …and the person still awaits documents (a settled person's workflow takes no more).
    .where('person_id', 'in', (eb) =>
      eb.selectFrom('application_persons').select('id').where('org_id', '=', orgId).where('status', 'in', ['Pending', 'AwaitingDocuments']),
    )
    .returning('id')
    .executeTakeFirst();
  if (!updated) return null;
  return getDocument(db, orgId, applicationId, documentId);
}

export async function getDocumentFile(
  db: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  applicationId: string,
  documentId: string,
  side: 'front' | 'back',
): Promise<{ contentType: string; bytes: Buffer } | null> {
  if (!isDatabaseId(applicationId) || !isDatabaseId(documentId)) return null;
  const row = await db
    .selectFrom('application_documents')
    .select(
      side === 'front'
        ? ['id', 'front_sealed as sealed', 'front_file as clear', 'front_content_type as contentType']
        : ['id', 'back_sealed as sealed', 'back_file as clear', 'back_content_type as contentType'],
    )
    .where('org_id', '=', orgId)
    .where('application_id', '=', applicationId)
    .where('id', '=', documentId)
    .executeTakeFirst();
  if (!row || !row.contentType) return null;
  const bytes = row.sealed ? openSealed(ring, row.sealed, CONTEXT.document(row.id, side)) : row.clear;
  return bytes ? { contentType: row.contentType, bytes } : null;
}

/** Only while it is still Pending (no workflow got to evaluate it): removes an application the API could not start. */
export async function deletePendingApplication(db: Kysely<Database>, applicationId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const pending = await trx
      .selectFrom('applications')
      .select('id')
      .where('id', '=', applicationId)
      .where('status', '=', 'Pending')
      .forUpdate()
      .executeTakeFirst();
    if (!pending) return;
    await trx.deleteFrom('application_persons').where('application_id', '=', applicationId).execute();
    await trx.deleteFrom('applications').where('id', '=', applicationId).execute();
  });
}

/** The application's status alone (one indexed column; the API polls it while the evaluation runs). */
export async function applicationStatus(
  db: Kysely<Database>,
  orgId: string,
  applicationId: string,
): Promise<ApplicationStatus | undefined> {
  return (
    await db.selectFrom('applications').select('status').where('id', '=', applicationId).where('org_id', '=', orgId).executeTakeFirst()
  )?.status;
}

// --- what the workflows' activities read and write ---------------------------------------

/** `attributes` without the sealed fields (what the rules read of them, e.g. idTheftScore, is there). */
export type LockedApplication = Pick<ApplicationRow, 'status' | 'decision_reason_code' | 'decided_by' | 'attributes' | 'type'>;

/** The application row, locked for the caller's transaction. */
export async function lockApplication(trx: Kysely<Database>, orgId: string, applicationId: string): Promise<LockedApplication> {
  return trx
    .selectFrom('applications')
    .select(['status', 'decision_reason_code', 'decided_by', 'attributes', 'type'])
    .where('id', '=', applicationId)
    .where('org_id', '=', orgId)
    .forUpdate()
    .executeTakeFirstOrThrow();
}

/** The application's status, held (shared) until the caller's transaction ends. */
export async function shareApplicationStatus(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
): Promise<ApplicationStatus | undefined> {
  return (
    await trx
      .selectFrom('applications')
      .select('status')
      .where('id', '=', applicationId)
      .where('org_id', '=', orgId)
      .forShare()
      .executeTakeFirst()
  )?.status;
}

export async function personsOfApplication(
  trx: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  applicationId: string,
): Promise<PersonRow[]> {
  const rows = await trx
    .selectFrom('application_persons')
    .selectAll()
    .where('application_id', '=', applicationId)
    .where('org_id', '=', orgId)
    .orderBy('id')
    .execute();
  return rows.map((p) => openPerson(ring, p));
}

/** Which of these identity keys are on another application of the org in one of `statuses`. */
export async function identityKeysOnOtherApplications(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  candidates: ReadonlyArray<string | null>,
  openStatuses: readonly ApplicationStatus[],
): Promise<Set<string | null>> {
  // A redacted person has no identity key any more (null): nothing to look for.
  const keys = candidates.filter((k): k is string => k !== null);
  if (!keys.length) return new Set();
  const rows = await trx
    .selectFrom('application_persons as p')
    .innerJoin('applications as a', 'a.id', 'p.application_id')
    .select('p.identity_key')
    .where('p.org_id', '=', orgId)
    .where('a.org_id', '=', orgId)
    .where('p.application_id', '<>', applicationId)
    .where('a.status', 'in', [...openStatuses])
    .where('p.identity_key', 'in', keys)
    .execute();
  return new Set(rows.map((r) => r.identity_key));
}

/** A person's required documents as the workflows know them. */
export interface DocumentRef {
  id: string;
  person_id: string;
  document_type: DocumentType;
}

export async function documentRefsOfApplication(trx: Kysely<Database>, orgId: string, applicationId: string): Promise<DocumentRef[]> {
  return trx
    .selectFrom('application_documents')
    .select(['id', 'person_id', 'document_type'])
    .where('application_id', '=', applicationId)
    .where('org_id', '=', orgId)
    .orderBy('id')
    .execute();
}

export type NewRequiredDocument = Pick<Insertable<ApplicationDocumentsTable>, 'person_id' | 'document_type' | 'description' | 'name'>;

export async function insertRequiredDocuments(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  docs: NewRequiredDocument[],
): Promise<DocumentRef[]> {
  if (!docs.length) return [];
  return trx
    .insertInto('application_documents')
    .values(
      docs.map((d) => ({
        ...d,
        application_id: applicationId,
        org_id: orgId,
        status: 'Required' as const,
        reason: null,
        reason_code: null,
        front_content_type: null,
        front_file: null,
        back_content_type: null,
        back_file: null,
        verification_job_id: null,
      })),
    )
    .returning(['id', 'person_id', 'document_type'])
    .execute();
}

export interface ApplicationChange {
  status?: ApplicationStatus;
  /** undefined keeps the stored value (as for the others). */
  reason?: string | null;
  reasonCode?: string | null;
  decidedBy?: string | null;
}

/** The columns a change writes (undefined: left as stored). */
const changedColumns = (change: ApplicationChange) => ({
  ...(change.status !== undefined ? { status: change.status } : {}),
  ...(change.reason !== undefined ? { decision_reason: change.reason } : {}),
  ...(change.reasonCode !== undefined ? { decision_reason_code: change.reasonCode } : {}),
  ...(change.decidedBy !== undefined ? { decided_by: change.decidedBy } : {}),
});

export async function updateApplication(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  change: ApplicationChange,
): Promise<void> {
  await trx
    .updateTable('applications')
    .set({ updated_at: sql`now()`, ...changedColumns(change) })
    .where('id', '=', applicationId)
    .where('org_id', '=', orgId)
    .execute();
}

/** Applies the change only if the application still has status `from`; whether it did. */
export async function updateApplicationFromStatus(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  from: ApplicationStatus,
  change: ApplicationChange,
): Promise<boolean> {
  const result = await trx
    .updateTable('applications')
    .set({ updated_at: sql`now()`, ...changedColumns(change) })
    .where('id', '=', applicationId)
    .where('org_id', '=', orgId)
    .where('status', '=', from)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function updatePerson(
  trx: Kysely<Database>,
  orgId: string,
  personId: string,
  change: { status: PersonStatus; reason?: string | null; reasonCode?: string | null },
): Promise<void> {
  await trx
    .updateTable('application_persons')
    .set({
      status: change.status,
      ...(change.reason !== undefined ? { reason: change.reason } : {}),
      ...(change.reasonCode !== undefined ? { reason_code: change.reasonCode } : {}),
    })
    .where('id', '=', personId)
    .where('org_id', '=', orgId)
    .execute();
}

export async function markPersonsAwaitingDocuments(trx: Kysely<Database>, orgId: string, personIds: string[]): Promise<void> {
  if (!personIds.length) return;
  await trx
    .updateTable('application_persons')
    .set({ status: 'AwaitingDocuments' })
    .where('id', 'in', personIds)
    .where('org_id', '=', orgId)
    .execute();
}

export async function getPerson(
  trx: Kysely<Database>,
  orgId: string,
  personId: string,
): Promise<Pick<PersonRow, 'role' | 'position' | 'full_name' | 'reason_code'> | undefined> {
  return trx
    .selectFrom('application_persons')
    .select(['role', 'position', 'full_name', 'reason_code'])
    .where('id', '=', personId)
    .where('org_id', '=', orgId)
    .executeTakeFirst();
}

/** Every person not denied becomes `personStatus`; every document in `fromDocumentStatus` becomes `documentStatus`. */
export async function settlePersonsAndDocuments(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  c: { personStatus: PersonStatus; exceptPersonStatus: PersonStatus; fromDocumentStatus: DocumentStatus; documentStatus: DocumentStatus },
): Promise<void> {
  await trx
    .updateTable('application_persons')
    .set({ status: c.personStatus })
    .where('application_id', '=', applicationId)
    .where('org_id', '=', orgId)
    .where('status', '<>', c.exceptPersonStatus)
    .execute();
  await trx
    .updateTable('application_documents')
    .set({ status: c.documentStatus, updated_at: sql`now()` })
    .where('application_id', '=', applicationId)
    .where('org_id', '=', orgId)
    .where('status', '=', c.fromDocumentStatus)
    .execute();
}

/** A document and what verifying it needs of its person, locked for the caller's transaction. */
export async function lockDocumentForVerification(
  trx: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  applicationId: string,
  documentId: string,
) {
  const row = await trx
    .selectFrom('application_documents as d')
    .innerJoin('application_persons as p', 'p.id', 'd.person_id')
    .select(['d.id', 'd.document_type', 'd.status', 'd.verification_job_id', 'p.id as person_id', 'p.us_person', 'p.full_name'])
    .select(['p.date_of_birth as clear_date_of_birth', 'p.sensitive as person_sensitive'])
    .where('d.id', '=', documentId)
    .where('d.application_id', '=', applicationId)
    .where('d.org_id', '=', orgId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) return undefined;
  const { clear_date_of_birth, person_sensitive, ...doc } = row;
  return { ...doc, date_of_birth: dateOfBirthOf(ring, row.person_id, person_sensitive, clear_date_of_birth) };
}

export async function recordDocumentVerification(
  trx: Kysely<Database>,
  orgId: string,
  documentId: string,
  v: { status: DocumentStatus; reason: string | null; reasonCode: string | null; jobId: string },
): Promise<void> {
  await trx
    .updateTable('application_documents')
    .set({
      status: v.status,
      reason: v.reason,
      reason_code: v.reasonCode,
      verification_job_id: v.jobId,
      updated_at: sql`now()`,
    })
    .where('id', '=', documentId)
    .where('org_id', '=', orgId)
    .execute();
}

export async function documentStatusesOfPerson(trx: Kysely<Database>, orgId: string, personId: string): Promise<DocumentStatus[]> {
  const rows = await trx
    .selectFrom('application_documents')
    .select('status')
    .where('person_id', '=', personId)
    .where('org_id', '=', orgId)
    .execute();
  return rows.map((r) => r.status);
}

// --- erasure on request (Stripe's `redact`, ./redaction.ts) -----------------------------------

export type RedactionOutcome = 'redacted' | 'already_redacted' | 'not_found';

/** The application is still open: cancel it (its workflow) before redacting it. */
export class ApplicationStillOpen extends Error {
  override name = 'ApplicationStillOpen';
}

/** The dedupe key of an application's one `application.redacted` event. */
export const redactionEventKey = (applicationId: string) => `${applicationWorkflowId(applicationId)}:${EVENT.redacted}`;

/**
 * Erases the personal data of a final (Approved, Denied, Canceled) application, irreversibly, in
 * one transaction: attributes' personal fields become "[redacted]" (or empty), the sealed SSNs,
 * passport numbers and dates of birth are gone, tags erased; its persons' names, dates of birth
 * and identity keys (so no later application is flagged as their duplicate); its documents'
 * files and names; every verification job its documents used (images, fields read from the
 * document, selfie hash); names quoted in reasons. Ids, status, decision, reason codes and
 * timestamps stay. Records `application.redacted` with it. Throws ApplicationStillOpen for an
 * open application (its workflow would go on with placeholders).
 */
export async function redactApplication(db: Kysely<Database>, orgId: string, applicationId: string): Promise<RedactionOutcome> {
  if (!isDatabaseId(applicationId)) return 'not_found';
  const redact = async (trx: Kysely<Database>): Promise<RedactionOutcome> => {
    // The application first, then its persons and documents: the order recordTransition locks them in.
    const app = await trx
      .selectFrom('applications')
      .select(['id', 'type', 'status', 'attributes', 'decision_reason', 'redacted_at'])
      .where('org_id', '=', orgId)
      .where('id', '=', applicationId)
      .forUpdate()
      .executeTakeFirst();
    if (!app) return 'not_found';
    if (app.redacted_at) return 'already_redacted';
    if (!isTerminal(app.status)) throw new ApplicationStillOpen(`application ${applicationId} is ${app.status}: cancel it first`);
    const persons = await trx
      .selectFrom('application_persons')
      .select(['id', 'full_name', 'reason'])
      .where('org_id', '=', orgId)
      .where('application_id', '=', applicationId)
      .forUpdate()
      .execute();
    const documents = await trx
      .selectFrom('application_documents')
      .select(['id', 'reason', 'verification_job_id'])
      .where('org_id', '=', orgId)
      .where('application_id', '=', applicationId)
      .forUpdate()
      .execute();
    const names = namesIn(
      app.attributes,
      persons.map((p) => p.full_name),
    );
    const { redacted_at: redactedAt } = await trx
      .updateTable('applications')
      .set({
        attributes: JSON.stringify(redactAttributes(app.attributes)),
        sensitive: null,
        display_name: REDACTED,
        email: null,
        tags: '{}',
        decision_reason: withoutNames(app.decision_reason, names),
        // Both are the partner's request: the key may name the applicant, the hash confirms a guessed body.
        idempotency_key: null,
        request_hash: REDACTED,
        redacted_at: sql<Date>`now()`,
      })
      .where('org_id', '=', orgId)
      .where('id', '=', applicationId)
      .returning('redacted_at')
      .executeTakeFirstOrThrow();
    for (const p of persons) {
      await trx
        .updateTable('application_persons')
        .set({ full_name: REDACTED, date_of_birth: null, sensitive: null, identity_key: null, reason: withoutNames(p.reason, names) })
        .where('org_id', '=', orgId)
        .where('id', '=', p.id)
        .execute();
    }
    for (const d of documents) {
      await trx
        .updateTable('application_documents')
        .set({
          name: REDACTED,
          reason: withoutNames(d.reason, names),
          front_file: null,
          front_sealed: null,
          back_file: null,
          back_sealed: null,
        })
        .where('org_id', '=', orgId)
        .where('id', '=', d.id)
        .execute();
    }
    // Every job a document used: the one it records, and any that records the document.
    const jobIds = new Set(documents.flatMap((d) => (d.verification_job_id ? [d.verification_job_id] : [])));
    if (documents.length) {
      const claimed = await trx
        .selectFrom('verification_jobs')
        .select('id')
        .where('org_id', '=', orgId)
        .where(
          'used_by_document_id',
          'in',
          documents.map((d) => d.id),
        )
        .execute();
      for (const j of claimed) jobIds.add(j.id);
    }
    for (const jobId of [...jobIds].sort()) await redactJobIn(trx, orgId, jobId);
    await recordEventIn(trx, {
      orgId,
      type: EVENT.redacted,
      attributes: { status: app.status, redactedAt: new Date(redactedAt!).toISOString() },
      relationships: { application: { data: { type: app.type, id: applicationId } } },
      dedupeKey: redactionEventKey(applicationId),
    });
    return 'redacted';
  };
  return db.isTransaction ? redact(db) : db.transaction().execute(redact);
}

/** When the application was redacted (null: it was not; undefined: no such application). */
export async function applicationRedactedAt(db: Kysely<Database>, orgId: string, applicationId: string): Promise<Date | null | undefined> {
  if (!isDatabaseId(applicationId)) return undefined;
  const row = await db
    .selectFrom('applications')
    .select('redacted_at')
    .where('org_id', '=', orgId)
    .where('id', '=', applicationId)
    .executeTakeFirst();
  return row ? row.redacted_at : undefined;
}

// --- data at rest: rows from before migration 010, and a changed IDENTITY_INDEX_KEY -----------

const BATCH = 100;

/**
 * Seals what rows written before migration 010 hold in the clear (sensitive attributes, persons'
 * dates of birth, document files) and empties the clear columns; their identity keys and request
 * hashes, unkeyed SHA-256 then, become HMACs. Rows another runner holds are left to it. Returns
 * how many rows were changed.
 */
export async function sealLegacyApplicationData(db: Kysely<Database>, ring: KeyRing): Promise<number> {
  const applications = await inBatches(db, BATCH, async (trx) => {
    const apps = await trx
      .selectFrom('applications')
      .select(['id', 'type', 'attributes'])
      .where('sensitive', 'is', null)
      .where('redacted_at', 'is', null) // erased on request: nothing left to seal
      .orderBy('id')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const a of apps) {
      const { open, sensitive } = splitSensitive(a.attributes);
      await trx
        .updateTable('applications')
        .set({
          attributes: JSON.stringify(open),
          sensitive: sealJson(ring, sensitive, CONTEXT.application(a.id)),
          request_hash: requestHash(ring, { type: a.type, attributes: a.attributes }),
        })
        .where('id', '=', a.id)
        .execute();
      const persons = await trx
        .selectFrom('application_persons')
        .select(['id', 'role', 'position'])
        .where('application_id', '=', a.id)
        .execute();
      for (const p of persons) {
        const attrs = personAttributesAt(a.type, a.attributes, p.role, p.position);
        if (attrs)
          await trx
            .updateTable('application_persons')
            .set({ identity_key: identityKey(ring, attrs) })
            .where('id', '=', p.id)
            .execute();
      }
    }
    return apps.length;
  });
  const persons = await inBatches(db, BATCH, async (trx) => {
    const rows = await trx
      .selectFrom('application_persons')
      .select(['id', 'date_of_birth'])
      .where('sensitive', 'is', null)
      .where('date_of_birth', 'is not', null) // (both empty: a redacted person)
      .orderBy('id')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const p of rows) {
      await trx
        .updateTable('application_persons')
        .set({ sensitive: sealJson(ring, { dateOfBirth: p.date_of_birth }, CONTEXT.person(p.id)), date_of_birth: null })
        .where('id', '=', p.id)
        .execute();
    }
    return rows.length;
  });
  const documents = await inBatches(db, BATCH, async (trx) => {
    const rows = await trx
      .selectFrom('application_documents')
      .select(['id', 'front_file', 'back_file'])
      .where((eb) => eb.or([eb('front_file', 'is not', null), eb('back_file', 'is not', null)]))
      .orderBy('id')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const d of rows) {
      await trx
        .updateTable('application_documents')
        .set({
          ...(d.front_file ? { front_sealed: seal(ring, d.front_file, CONTEXT.document(d.id, 'front')), front_file: null } : {}),
          ...(d.back_file ? { back_sealed: seal(ring, d.back_file, CONTEXT.document(d.id, 'back')), back_file: null } : {}),
        })
        .where('id', '=', d.id)
        .execute();
    }
    return rows.length;
  });
  return applications + persons + documents;
}

/**
 * Recomputes every identity key and request hash under the ring's IDENTITY_INDEX_KEY (after it
 * changed, duplicates are found again and idempotent replays match). Opens each application once.
 * Returns how many rows changed.
 */
export async function reindexApplications(db: Kysely<Database>, ring: KeyRing): Promise<number> {
  let changed = 0;
  let after = '0';
  for (;;) {
    // No locks: what the keys are computed from (the submitted attributes) never changes.
    const apps = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('applications')
        .selectAll()
        .where(sql<boolean>`id > ${after}::bigint`)
        .orderBy('id')
        .limit(BATCH)
        .execute();
      // A redacted application's keys stay erased (its attributes are placeholders now).
      for (const stored of rows.filter((r) => !r.redacted_at)) {
        const a = openApplication(ring, stored);
        const hash = requestHash(ring, { type: a.type, attributes: a.attributes });
        if (hash !== a.request_hash) {
          await trx.updateTable('applications').set({ request_hash: hash }).where('id', '=', a.id).execute();
          changed += 1;
        }
        const persons = await trx
          .selectFrom('application_persons')
          .select(['id', 'role', 'position', 'identity_key'])
          .where('application_id', '=', a.id)
          .execute();
        for (const p of persons) {
          const attrs = personAttributesAt(a.type, a.attributes, p.role, p.position);
          const key = attrs && identityKey(ring, attrs);
          if (key && key !== p.identity_key) {
            await trx.updateTable('application_persons').set({ identity_key: key }).where('id', '=', p.id).execute();
            changed += 1;
          }
        }
      }
      return rows;
    });
    if (apps.length) after = apps[apps.length - 1].id;
    if (apps.length < BATCH) return changed;
  }
}

// --- retention (src/retention/activities.ts) -----------------------------------------------

/**
 * Erases up to `limit` documents' uploaded files last changed before `cutoff`, of applications
 * already decided or canceled (an open case keeps what its reviewer needs); the statuses stay. How many.
 */
export async function eraseDocumentFilesUploadedBefore(db: Kysely<Database>, orgId: string, cutoff: Date, limit: number): Promise<number> {
  const result = await db
    .updateTable('application_documents')
    .set({ front_file: null, front_sealed: null, back_file: null, back_sealed: null })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('application_documents')
        .select('id')
        .where('org_id', '=', orgId)
        .where('updated_at', '<', cutoff as never)
        .where('application_id', 'in', (a) =>
          a.selectFrom('applications').select('id').where('org_id', '=', orgId).where('status', 'in', ['Approved', 'Denied', 'Canceled']),
        )
        .where((w) =>
          w.or([
            w('front_sealed', 'is not', null),
            w('back_sealed', 'is not', null),
            w('front_file', 'is not', null),
            w('back_file', 'is not', null),
          ]),
        )
        .limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Up to `limit` applications of the org in a final status, not yet redacted, unchanged since `cutoff`. */
export async function finalApplicationsUnchangedSince(db: Kysely<Database>, orgId: string, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('applications')
    .select('id')
    .where('org_id', '=', orgId)
    .where('status', 'in', ['Approved', 'Denied', 'Canceled'])
    .where('redacted_at', 'is', null)
    .where('updated_at', '<', cutoff as never)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
