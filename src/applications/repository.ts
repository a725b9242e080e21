// Everything the API and the activities read and write about applications, persons and
// documents. Every function takes the org id: another org's rows are simply not found.
import { createHash } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { ApplicationDocumentsTable, ApplicationPersonsTable, ApplicationsTable, Database } from '../../migrations/database';
import type { BusinessAttributes, CreateApplicationRequest, IndividualAttributes } from './schemas/applications';
import type { ApplicationStatus, DocumentStatus, DocumentType, PersonRole } from './messages';
import { isDatabaseId } from '../platform/database/ids';

export type ApplicationRow = Selectable<ApplicationsTable>;
export type PersonRow = Selectable<ApplicationPersonsTable>;
/** A document row without its file bytes (those are read only for downloads). */
export type DocumentRow = Omit<Selectable<ApplicationDocumentsTable>, 'front_file' | 'back_file'> & { has_front: boolean; has_back: boolean };

export interface ApplicationAggregate { application: ApplicationRow; persons: PersonRow[]; documents: DocumentRow[] }

const stable = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().filter((k) => (v as Record<string, unknown>)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
};
export const requestHash = (data: unknown) => createHash('sha256').update(stable(data)).digest('hex');

/** SHA-256 of the normalised SSN, or of nationality + passport number: finds duplicates without storing the number. */
export function identityKey(p: { ssn?: string; passport?: string; nationality?: string }): string {
  const raw = p.ssn ? `ssn:${p.ssn}` : `passport:${(p.nationality ?? '').toUpperCase()}:${(p.passport ?? '').toUpperCase()}`;
  return createHash('sha256').update(raw).digest('hex');
}

interface NewPerson { role: PersonRole; position: number; attrs: IndividualAttributes | BusinessAttributes['officer'] | BusinessAttributes['beneficialOwners'][number] }

export function personsOf(data: CreateApplicationRequest['data']): NewPerson[] {
  if (data.type === 'individualApplication') return [{ role: 'individual', position: 0, attrs: data.attributes }];
  return [
    { role: 'officer', position: 0, attrs: data.attributes.officer },
    ...data.attributes.beneficialOwners.map((bo, i) => ({ role: 'beneficialOwner' as const, position: i + 1, attrs: bo })),
  ];
}

export const fullNameOf = (n: { first: string; last: string }) => `${n.first} ${n.last}`;

export type InsertResult = { kind: 'created' | 'replayed'; application: ApplicationRow } | { kind: 'conflict'; application: ApplicationRow };

/**
 * Inserts the application and its persons in one transaction. With an idempotencyKey, the
 * same key and body returns the original ('replayed'); the same key and another body is a 'conflict'.
 */
export async function insertApplication(db: Kysely<Database>, orgId: string, data: CreateApplicationRequest['data']): Promise<InsertResult> {
  const hash = requestHash(data);
  const key = data.attributes.idempotencyKey ?? null;
  const existing = async () => {
    const row = await db.selectFrom('applications').selectAll().where('org_id', '=', orgId).where('idempotency_key', '=', key!).executeTakeFirstOrThrow();
    return row.request_hash === hash ? { kind: 'replayed' as const, application: row } : { kind: 'conflict' as const, application: row };
  };
  if (key) {
    const found = await db.selectFrom('applications').select('id').where('org_id', '=', orgId).where('idempotency_key', '=', key).executeTakeFirst();
    if (found) return existing();
  }
  const a = data.attributes;
  const display = data.type === 'individualApplication' ? fullNameOf(data.attributes.fullName) : data.attributes.name;
  const email = data.type === 'individualApplication' ? data.attributes.email : data.attributes.contact.email;
  const inserted = await db.transaction().execute(async (trx) => {
    const app = await trx.insertInto('applications').values({
      org_id: orgId, type: data.type, status: 'Pending', attributes: JSON.stringify(a), display_name: display, email,
      tags: JSON.stringify(a.tags ?? {}), decision_reason: null, decision_reason_code: null, decided_by: null,
      idempotency_key: key, request_hash: hash,
    }).onConflict((oc) => oc.columns(['org_id', 'idempotency_key']).doNothing()).returningAll().executeTakeFirst();
    if (!app) return null; // a concurrent request with the same key won
    await trx.insertInto('application_persons').values(personsOf(data).map((p) => ({
      application_id: app.id, org_id: orgId, role: p.role, position: p.position, full_name: fullNameOf(p.attrs.fullName),
      date_of_birth: p.attrs.dateOfBirth, identity_key: identityKey(p.attrs), us_person: !!p.attrs.ssn,
      evaluation_params: JSON.stringify(p.attrs.evaluationParams ?? {}), status: 'Pending', reason: null, reason_code: null,
    }))).execute();
    return app;
  });
  if (!inserted) return existing();
  return { kind: 'created', application: inserted };
}

const documentColumns = ['id', 'application_id', 'org_id', 'person_id', 'document_type', 'status', 'description', 'name', 'reason', 'reason_code',
  'front_content_type', 'back_content_type', 'verification_job_id', 'created_at', 'updated_at'] as const;

export async function getAggregate(db: Kysely<Database>, orgId: string, applicationId: string): Promise<ApplicationAggregate | null> {
  if (!isDatabaseId(applicationId)) return null;
  const application = await db.selectFrom('applications').selectAll().where('org_id', '=', orgId).where('id', '=', applicationId).executeTakeFirst();
  if (!application) return null;
  const [persons, documents] = await Promise.all([
    db.selectFrom('application_persons').selectAll().where('org_id', '=', orgId).where('application_id', '=', applicationId).orderBy('id').execute(),
    listDocuments(db, orgId, applicationId),
  ]);
  return { application, persons, documents };
}

export async function listDocuments(db: Kysely<Database>, orgId: string, applicationId: string): Promise<DocumentRow[]> {
  return db.selectFrom('application_documents').select(documentColumns)
    .select([sql<boolean>`front_file IS NOT NULL`.as('has_front'), sql<boolean>`back_file IS NOT NULL`.as('has_back')])
    .where('org_id', '=', orgId).where('application_id', '=', applicationId).orderBy('id').execute();
}

export async function getDocument(db: Kysely<Database>, orgId: string, applicationId: string, documentId: string): Promise<DocumentRow | null> {
  if (!isDatabaseId(applicationId) || !isDatabaseId(documentId)) return null;
  const row = await db.selectFrom('application_documents').select(documentColumns)
    .select([sql<boolean>`front_file IS NOT NULL`.as('has_front'), sql<boolean>`back_file IS NOT NULL`.as('has_back')])
    .where('org_id', '=', orgId).where('application_id', '=', applicationId).where('id', '=', documentId).executeTakeFirst();
  return row ?? null;
}

/** A document with what acting on it needs of its application and person, in one query. */
export interface DocumentInContext { document: DocumentRow; applicationStatus: ApplicationRow['status']; workflowProtocol: number; person: Pick<PersonRow, 'id' | 'role' | 'position' | 'date_of_birth'> }

/** null: no such application; { document: null }: the application exists, the document does not. */
export async function getDocumentInContext(db: Kysely<Database>, orgId: string, applicationId: string, documentId: string): Promise<DocumentInContext | { document: null } | null> {
  if (!isDatabaseId(applicationId)) return null;
  const row = !isDatabaseId(documentId) ? undefined : await db.selectFrom('application_documents as d')
    .innerJoin('applications as a', (j) => j.onRef('a.id', '=', 'd.application_id').onRef('a.org_id', '=', 'd.org_id'))
    .innerJoin('application_persons as p', (j) => j.onRef('p.id', '=', 'd.person_id').onRef('p.org_id', '=', 'd.org_id'))
    .select(documentColumns.map((c) => `d.${c}` as const))
    .select([sql<boolean>`d.front_file IS NOT NULL`.as('has_front'), sql<boolean>`d.back_file IS NOT NULL`.as('has_back')])
    .select(['a.status as application_status', 'a.workflow_protocol', 'p.role as person_role', 'p.position as person_position', 'p.date_of_birth as person_date_of_birth'])
    .where('d.org_id', '=', orgId).where('d.application_id', '=', applicationId).where('d.id', '=', documentId).executeTakeFirst();
  if (!row) {
    const app = await db.selectFrom('applications').select('id').where('org_id', '=', orgId).where('id', '=', applicationId).executeTakeFirst();
    return app ? { document: null } : null;
  }
  const { application_status, workflow_protocol, person_role, person_position, person_date_of_birth, ...document } = row;
  return {
    document: document as DocumentRow,
    applicationStatus: application_status,
    workflowProtocol: workflow_protocol,
    person: { id: String(document.person_id), role: person_role, position: person_position, date_of_birth: person_date_of_birth },
  };
}

export interface ListFilter { statuses?: string[]; email?: string; query?: string; tags?: Record<string, string | null>; sort: 'createdAt' | '-createdAt'; limit: number; offset: number }

export async function listApplications(db: Kysely<Database>, orgId: string, f: ListFilter): Promise<{ rows: ApplicationRow[]; total: number }> {
  let q = db.selectFrom('applications').where('org_id', '=', orgId);
  if (f.statuses?.length) q = q.where('status', 'in', f.statuses as ApplicationStatus[]);
  if (f.email) q = q.where('email', '=', f.email);
  if (f.query) {
    const like = `%${f.query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) => eb.or([eb('display_name', 'ilike', like), eb('email', 'ilike', like)]));
  }
  if (f.tags && Object.keys(f.tags).length) q = q.where(sql<boolean>`tags @> ${JSON.stringify(f.tags)}::jsonb`);
  const [rows, count] = await Promise.all([
    q.selectAll().orderBy('created_at', f.sort === 'createdAt' ? 'asc' : 'desc').orderBy('id', f.sort === 'createdAt' ? 'asc' : 'desc').limit(f.limit).offset(f.offset).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(count.n) };
}

export async function personsOfApplications(db: Kysely<Database>, orgId: string, ids: string[]): Promise<PersonRow[]> {
  if (!ids.length) return [];
  return db.selectFrom('application_persons').selectAll().where('org_id', '=', orgId).where('application_id', 'in', ids).orderBy('id').execute();
}

export async function documentRefsOfApplications(db: Kysely<Database>, orgId: string, ids: string[]): Promise<Array<{ id: string; application_id: string }>> {
  if (!ids.length) return [];
  return db.selectFrom('application_documents').select(['id', 'application_id']).where('org_id', '=', orgId).where('application_id', 'in', ids).orderBy('id').execute();
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
export async function storeUpload(db: Kysely<Database>, orgId: string, applicationId: string, documentId: string, side: 'front' | 'back', contentType: string, bytes: Buffer): Promise<DocumentRow | null> {
  const other = side === 'front' ? sql.ref('back_file') : sql.ref('front_file');
  const status = sql<string>`CASE
      WHEN document_type <> 'IdDocument' THEN 'PendingReview'
      WHEN ${other} IS NOT NULL AND status <> 'Invalid' THEN 'PendingReview'
      ELSE ${side === 'front' ? 'ReceivedFront' : 'ReceivedBack'} END`;
  const updated = await db.updateTable('application_documents')
    .set(side === 'front'
      ? { front_file: bytes, front_content_type: contentType, status, reason: null, reason_code: null, updated_at: sql`now()` }
      : { back_file: bytes, back_content_type: contentType, status, reason: null, reason_code: null, updated_at: sql`now()` })
    .where('org_id', '=', orgId).where('application_id', '=', applicationId).where('id', '=', documentId)
    .where('status', 'in', UPLOAD_OPEN_STATUSES).where('document_type', 'in', UPLOADABLE)
    // Re-checked in the same statement: the application may have closed since the route looked.
    .where('application_id', 'in', (eb) => eb.selectFrom('applications').select('id').where('org_id', '=', orgId).where('status', '=', 'AwaitingDocuments'))
    // …and the person still awaits documents (a settled person's workflow takes no more).
    .where('person_id', 'in', (eb) => eb.selectFrom('application_persons').select('id').where('org_id', '=', orgId).where('status', 'in', ['Pending', 'AwaitingDocuments']))
    .returning('id').executeTakeFirst();
  if (!updated) return null;
  return getDocument(db, orgId, applicationId, documentId);
}

export async function getDocumentFile(db: Kysely<Database>, orgId: string, applicationId: string, documentId: string, side: 'front' | 'back'): Promise<{ contentType: string; bytes: Buffer } | null> {
  if (!isDatabaseId(applicationId) || !isDatabaseId(documentId)) return null;
  const row = await db.selectFrom('application_documents')
    .select(side === 'front' ? ['front_file as bytes', 'front_content_type as contentType'] : ['back_file as bytes', 'back_content_type as contentType'])
    .where('org_id', '=', orgId).where('application_id', '=', applicationId).where('id', '=', documentId).executeTakeFirst();
  if (!row || !row.bytes || !row.contentType) return null;
  return { contentType: row.contentType, bytes: row.bytes };
}
