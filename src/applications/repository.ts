// Every SQL statement of the applications capability: what the API and the activities read
// and write about applications, persons and documents. Every function takes the org id:
// another org's rows are simply not found. Functions that take `trx` run inside the caller's
// transaction (pass the Transaction); the others may take the database itself.
import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { ApplicationDocumentsTable, ApplicationPersonsTable, ApplicationsTable, Database } from '../../migrations/database';
import type { ApplicationStatus, ApplicationType, DocumentStatus, DocumentType, PersonRole, PersonStatus } from './domain';
import { isDatabaseId } from '../platform/database/ids';

export type ApplicationRow = Selectable<ApplicationsTable>;
export type PersonRow = Selectable<ApplicationPersonsTable>;
/** A document row without its file bytes (those are read only for downloads). */
export type DocumentRow = Omit<Selectable<ApplicationDocumentsTable>, 'front_file' | 'back_file'> & {
  has_front: boolean;
  has_back: boolean;
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
  /** The submitted attributes, stored as they came (personal data included). */
  attributes: Record<string, unknown>;
  displayName: string;
  email: string | null;
  tags: Record<string, string | null>;
  idempotencyKey: string | null;
  /** Hash of the request: the same idempotencyKey with another body is a conflict. */
  requestHash: string;
  persons: NewPerson[];
}
export interface NewPerson {
  role: PersonRole;
  position: number;
  fullName: string;
  dateOfBirth: string;
  /** Finds the same person on another application without storing the SSN or passport number. */
  identityKey: string;
  usPerson: boolean;
  evaluationParams: Record<string, unknown>;
}

/**
 * Inserts the application and its persons in one transaction. With an idempotencyKey, the
 * same key and body returns the original ('replayed'); the same key and another body is a 'conflict'.
 */
export async function insertApplication(db: Kysely<Database>, orgId: string, app: NewApplication): Promise<InsertResult> {
  const hash = app.requestHash;
  const key = app.idempotencyKey;
  const existing = async () => {
    const row = await db
      .selectFrom('applications')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('idempotency_key', '=', key!)
      .executeTakeFirstOrThrow();
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
    const row = await trx
      .insertInto('applications')
      .values({
        org_id: orgId,
        type: app.type,
        status: 'Pending',
        attributes: JSON.stringify(app.attributes),
        display_name: app.displayName,
        email: app.email,
        tags: JSON.stringify(app.tags),
        decision_reason: null,
        decision_reason_code: null,
        decided_by: null,
        idempotency_key: key,
        request_hash: hash,
      })
      .onConflict((oc) => oc.columns(['org_id', 'idempotency_key']).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) return null; // a concurrent request with the same key won
    await trx
      .insertInto('application_persons')
      .values(
        app.persons.map((p) => ({
          application_id: row.id,
          org_id: orgId,
          role: p.role,
          position: p.position,
          full_name: p.fullName,
          date_of_birth: p.dateOfBirth,
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
  return { kind: 'created', application: inserted };
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

export async function getAggregate(db: Kysely<Database>, orgId: string, applicationId: string): Promise<ApplicationAggregate | null> {
  if (!isDatabaseId(applicationId)) return null;
  const application = await db
    .selectFrom('applications')
    .selectAll()
    .where('org_id', '=', orgId)
    .where('id', '=', applicationId)
    .executeTakeFirst();
  if (!application) return null;
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
  return { application, persons, documents };
}

export async function listDocuments(db: Kysely<Database>, orgId: string, applicationId: string): Promise<DocumentRow[]> {
  return db
    .selectFrom('application_documents')
    .select(documentColumns)
    .select([sql<boolean>`front_file IS NOT NULL`.as('has_front'), sql<boolean>`back_file IS NOT NULL`.as('has_back')])
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
    .select([sql<boolean>`front_file IS NOT NULL`.as('has_front'), sql<boolean>`back_file IS NOT NULL`.as('has_back')])
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
  person: Pick<PersonRow, 'id' | 'role' | 'position' | 'date_of_birth'>;
}

/** null: no such application; { document: null }: the application exists, the document does not. */
export async function getDocumentInContext(
  db: Kysely<Database>,
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
        .select([sql<boolean>`d.front_file IS NOT NULL`.as('has_front'), sql<boolean>`d.back_file IS NOT NULL`.as('has_back')])
        .select([
          'a.status as application_status',
          'p.role as person_role',
          'p.position as person_position',
          'p.date_of_birth as person_date_of_birth',
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
  const { application_status, person_role, person_position, person_date_of_birth, ...document } = row;
  return {
    document: document as DocumentRow,
    applicationStatus: application_status,
    person: { id: String(document.person_id), role: person_role, position: person_position, date_of_birth: person_date_of_birth },
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
  return { rows, total: Number(count.n) };
}

export async function personsOfApplications(db: Kysely<Database>, orgId: string, ids: string[]): Promise<PersonRow[]> {
  if (!ids.length) return [];
  return db
    .selectFrom('application_persons')
    .selectAll()
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
  orgId: string,
  applicationId: string,
  documentId: string,
  side: 'front' | 'back',
  contentType: string,
  bytes: Buffer,
): Promise<DocumentRow | null> {
  const other = side === 'front' ? sql.ref('back_file') : sql.ref('front_file');
  const status = sql<DocumentStatus>`CASE
      WHEN document_type <> 'IdDocument' THEN 'PendingReview'
      WHEN ${other} IS NOT NULL AND status <> 'Invalid' THEN 'PendingReview'
      ELSE ${side === 'front' ? 'ReceivedFront' : 'ReceivedBack'} END`;
  const updated = await db
    .updateTable('application_documents')
    .set(
      side === 'front'
        ? { front_file: bytes, front_content_type: contentType, status, reason: null, reason_code: null, updated_at: sql`now()` }
        : { back_file: bytes, back_content_type: contentType, status, reason: null, reason_code: null, updated_at: sql`now()` },
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
        ? ['front_file as bytes', 'front_content_type as contentType']
        : ['back_file as bytes', 'back_content_type as contentType'],
    )
    .where('org_id', '=', orgId)
    .where('application_id', '=', applicationId)
    .where('id', '=', documentId)
    .executeTakeFirst();
  if (!row || !row.bytes || !row.contentType) return null;
  return { contentType: row.contentType, bytes: row.bytes };
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

export async function personsOfApplication(trx: Kysely<Database>, orgId: string, applicationId: string): Promise<PersonRow[]> {
  return trx
    .selectFrom('application_persons')
    .selectAll()
    .where('application_id', '=', applicationId)
    .where('org_id', '=', orgId)
    .orderBy('id')
    .execute();
}

/** Which of these identity keys are on another application of the org in one of `statuses`. */
export async function identityKeysOnOtherApplications(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  keys: string[],
  openStatuses: readonly ApplicationStatus[],
): Promise<Set<string>> {
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

export async function updateApplication(
  trx: Kysely<Database>,
  orgId: string,
  applicationId: string,
  change: ApplicationChange,
): Promise<void> {
  await trx
    .updateTable('applications')
    .set({
      updated_at: sql`now()`,
      ...(change.status !== undefined ? { status: change.status } : {}),
      ...(change.reason !== undefined ? { decision_reason: change.reason } : {}),
      ...(change.reasonCode !== undefined ? { decision_reason_code: change.reasonCode } : {}),
      ...(change.decidedBy !== undefined ? { decided_by: change.decidedBy } : {}),
    })
    .where('id', '=', applicationId)
    .where('org_id', '=', orgId)
    .execute();
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
export async function lockDocumentForVerification(trx: Kysely<Database>, orgId: string, applicationId: string, documentId: string) {
  return trx
    .selectFrom('application_documents as d')
    .innerJoin('application_persons as p', 'p.id', 'd.person_id')
    .select(['d.id', 'd.document_type', 'd.status', 'd.verification_job_id', 'p.us_person', 'p.full_name', 'p.date_of_birth'])
    .where('d.id', '=', documentId)
    .where('d.application_id', '=', applicationId)
    .where('d.org_id', '=', orgId)
    .forUpdate()
    .executeTakeFirst();
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
