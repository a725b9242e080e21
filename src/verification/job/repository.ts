// Verification jobs and their images in PostgreSQL. Every function takes the org id and scopes
// its query by it (another org's job does not exist). Images are biometric data: they are only
// read here and by the checks activity, never logged, never returned by the API.
// Images, the expected person and what the result read from the document (name, date of birth,
// document number, MRZ, country) are sealed (src/platform/crypto/envelope.ts), each under a
// context naming its row; the decision, scores and checks stay plain JSON.
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import { inBatches } from '../../platform/database/batches';
import type { Database, VerificationJobImagesTable, VerificationJobsTable } from '../../../migrations/database';
import type { KeyRing } from '../../platform/crypto/keyRing';
import { seal, sealJson } from '../../platform/crypto/envelope';
import { openSealed, openSealedJson, type SealedColumn } from '../../platform/crypto/sealedColumns';
import type { ExpectedPerson } from './checks';
import type { JobFailure, VerificationResult } from './result';

type StoredJob = Omit<Selectable<VerificationJobsTable>, 'selfie_hash'>;
/** A job with its expected person and result opened. */
export type JobRow = Omit<StoredJob, 'expected_person_sealed' | 'result_sealed'>;
export type ImageKind = VerificationJobImagesTable['kind'];

const CONTEXT = {
  expectedPerson: (jobId: unknown) => `verification_jobs.expected_person:${String(jobId)}`,
  result: (jobId: unknown) => `verification_jobs.result:${String(jobId)}`,
  image: (jobId: unknown, kind: unknown, position: unknown) =>
    `verification_job_images.bytes:${String(jobId)}:${String(kind)}:${String(position)}`,
  consentClient: (jobId: unknown) => `biometric_consents.client:${String(jobId)}`,
};

/** The sealed columns of this capability, for key rotation (src/engine/storedData.ts). */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'verification_jobs', column: 'expected_person_sealed', key: ['id'], context: (r) => CONTEXT.expectedPerson(r.id) },
  { table: 'verification_jobs', column: 'result_sealed', key: ['id'], context: (r) => CONTEXT.result(r.id) },
  {
    table: 'verification_job_images',
    column: 'bytes_sealed',
    key: ['job_id', 'kind', 'position'],
    context: (r) => CONTEXT.image(r.job_id, r.kind, r.position),
  },
  {
    table: 'biometric_consents',
    column: 'client_sealed',
    key: ['verification_job_id'],
    context: (r) => CONTEXT.consentClient(r.verification_job_id),
  },
];

/** The end user's consent to a capture, as the partner relays it (see schemas.ts, ConsentSchema). */
export interface BiometricConsent {
  textVersion: string;
  acceptedAt: string;
  ipAddress?: string;
  userAgent?: string;
  /** The API key that submitted the job. */
  recordedByKeyId?: string | null;
}

/** What the API shows of a job's consent (the client's address and agent stay sealed). */
export interface ConsentView {
  textVersion: string;
  acceptedAt: string;
  recordedAt: string;
}

export async function consentOfJob(db: Kysely<Database>, orgId: string, jobId: string): Promise<ConsentView | null> {
  const row = await db
    .selectFrom('biometric_consents')
    .select(['text_version', 'accepted_at', 'recorded_at'])
    .where('org_id', '=', orgId)
    .where('verification_job_id', '=', jobId)
    .executeTakeFirst();
  const iso = (d: unknown) => new Date(d as string).toISOString();
  return row ? { textVersion: row.text_version, acceptedAt: iso(row.accepted_at), recordedAt: iso(row.recorded_at) } : null;
}

/** The parts of a result read from the document: sealed; the rest (decision, scores, checks) stays JSON. */
const RESULT_SEALED_KEYS = ['fields', 'country'] as const;

function splitResult(result: Record<string, unknown>): { open: Record<string, unknown>; sealed: Record<string, unknown> } {
  const open = { ...result };
  const sealed: Record<string, unknown> = {};
  for (const k of RESULT_SEALED_KEYS) {
    if (k in open) sealed[k] = open[k];
    delete open[k];
  }
  return { open, sealed };
}

/** The job as the API and the activities see it. A row from before migration 010 holds everything in the clear columns. */
function openJob<T extends Partial<StoredJob>>(ring: KeyRing, row: T): Omit<T, 'expected_person_sealed' | 'result_sealed'> {
  const { expected_person_sealed, result_sealed, ...rest } = row;
  return {
    ...rest,
    ...(expected_person_sealed ? { expected_person: openSealedJson(ring, expected_person_sealed, CONTEXT.expectedPerson(row.id)) } : {}),
    ...(result_sealed && rest.result
      ? { result: { ...rest.result, ...openSealedJson<object>(ring, result_sealed, CONTEXT.result(row.id)) } }
      : {}),
  };
}

export interface NewJobImage {
  kind: ImageKind;
  position?: number;
  contentType: string;
  bytes: Buffer;
}

export interface JobImages {
  selfie?: Buffer;
  idFront?: Buffer;
  idBack?: Buffer;
  selfieFrames: Buffer[];
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** What a job id looks like (anything else cannot exist). */
export const JOB_ID = /^vj_[0-9A-Za-z]{20}$/;

/** `vj_` + 20 base62 characters from the CSPRNG (~119 bits): unguessable. */
export function newJobId(): string {
  let id = '';
  while (id.length < 20) {
    for (const b of randomBytes(32)) {
      if (b < 248 && id.length < 20) id += BASE62[b % 62]; // 248 = 4 * 62: no modulo bias
    }
  }
  return `vj_${id}`;
}

const JOB_COLUMNS = [
  'id',
  'org_id',
  'status',
  'expected_person',
  'expected_person_sealed',
  'result',
  'result_sealed',
  'failure',
  'used_by_document_id',
  'images_deleted_at',
  'created_at',
  'completed_at',
  'redacted_at',
] as const;

/** How many jobs may be unfinished (pending: queued or running) at once, per org and in all. */
export interface QueueBounds {
  perOrg: number;
  total: number;
}

/** A new job would exceed a queue bound: the org's own, or the engine's. */
export class VerificationQueueFull extends Error {
  constructor(
    readonly scope: 'org' | 'engine',
    readonly limit: number,
  ) {
    super(
      scope === 'org'
        ? `this org has ${limit} verification jobs waiting or running, the most it may have at once`
        : `the engine has ${limit} verification jobs waiting or running, the most it takes at once`,
    );
  }
}

/** Unfinished jobs of the org and of every org (the partial index verification_jobs_pending answers both). */
export async function countUnfinishedJobs(db: Kysely<Database>, orgId: string): Promise<{ org: number; total: number }> {
  const r = await db
    .selectFrom('verification_jobs')
    .select((eb) => [eb.fn.countAll<string>().filterWhere('org_id', '=', orgId).as('org'), eb.fn.countAll<string>().as('total')])
    .where('status', '=', 'pending')
    .executeTakeFirstOrThrow();
  return { org: Number(r.org), total: Number(r.total) };
}

/** Throws VerificationQueueFull when a new job would exceed a bound. */
export async function assertQueueHasRoom(db: Kysely<Database>, orgId: string, bounds: QueueBounds): Promise<void> {
  const n = await countUnfinishedJobs(db, orgId);
  if (n.org >= bounds.perOrg) throw new VerificationQueueFull('org', bounds.perOrg);
  if (n.total >= bounds.total) throw new VerificationQueueFull('engine', bounds.total);
}

/**
 * Inserts the job (pending) and its images in one transaction. With `bounds`, refuses
 * (VerificationQueueFull) a job over them: job creations of one org take turns on the org's row,
 * so its bound holds across API processes; the engine-wide one may be passed by as many jobs as
 * orgs create at the same instant.
 */
export async function createJob(
  db: Kysely<Database>,
  ring: KeyRing,
  p: { id?: string; orgId: string; expectedPerson?: ExpectedPerson | null; images: NewJobImage[]; consent?: BiometricConsent },
  bounds?: QueueBounds,
): Promise<JobRow> {
  const id = p.id ?? newJobId();
  return db.transaction().execute(async (trx) => {
    if (bounds) {
      // NO KEY UPDATE: other writers of the org's jobs and keys (foreign keys take KEY SHARE) are not blocked.
      await trx.selectFrom('orgs').select('id').where('id', '=', p.orgId).forNoKeyUpdate().execute();
      await assertQueueHasRoom(trx, p.orgId, bounds);
    }
    const row = await trx
      .insertInto('verification_jobs')
      .values({
        id,
        org_id: p.orgId,
        status: 'pending',
        expected_person: null,
        expected_person_sealed: p.expectedPerson ? sealJson(ring, p.expectedPerson, CONTEXT.expectedPerson(id)) : null,
        result: null,
        failure: null,
        selfie_hash: null,
        images_deleted_at: null,
        completed_at: null,
      })
      .returning(JOB_COLUMNS)
      .executeTakeFirstOrThrow();
    await trx
      .insertInto('verification_job_images')
      .values(
        p.images.map((img, i) => {
          const position = img.position ?? (img.kind === 'selfieFrame' ? i : 0);
          return {
            job_id: id,
            kind: img.kind,
            position,
            content_type: img.contentType,
            bytes: null,
            bytes_sealed: seal(ring, img.bytes, CONTEXT.image(id, img.kind, position)),
          };
        }),
      )
      .execute();
    if (p.consent) {
      const { textVersion, acceptedAt, ipAddress, userAgent, recordedByKeyId } = p.consent;
      await trx
        .insertInto('biometric_consents')
        .values({
          verification_job_id: id,
          org_id: p.orgId,
          text_version: textVersion,
          accepted_at: acceptedAt,
          client_sealed: ipAddress || userAgent ? sealJson(ring, { ipAddress, userAgent }, CONTEXT.consentClient(id)) : null,
          recorded_by_key_id: recordedByKeyId ?? null,
        })
        .execute();
    }
    return openJob(ring, row);
  });
}

export async function getJob(db: Kysely<Database>, ring: KeyRing, orgId: string, id: string): Promise<JobRow | undefined> {
  const row = await db
    .selectFrom('verification_jobs')
    .select(JOB_COLUMNS)
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row && openJob(ring, row);
}

/** The job's images (selfie frames in upload order). Empty when they were erased. */
export async function loadJobImages(db: Kysely<Database>, ring: KeyRing, orgId: string, jobId: string): Promise<JobImages> {
  const stored = await db
    .selectFrom('verification_job_images as i')
    .innerJoin('verification_jobs as j', 'j.id', 'i.job_id')
    .select(['i.kind', 'i.position', 'i.bytes', 'i.bytes_sealed'])
    .where('j.org_id', '=', orgId)
    .where('i.job_id', '=', jobId)
    .orderBy('i.position')
    .execute();
  const rows = stored.map((r) => ({
    kind: r.kind,
    bytes: r.bytes_sealed ? openSealed(ring, r.bytes_sealed, CONTEXT.image(jobId, r.kind, r.position)) : r.bytes!,
  }));
  const out: JobImages = { selfieFrames: [] };
  for (const r of rows) {
    if (r.kind === 'selfieFrame') out.selfieFrames.push(r.bytes);
    else out[r.kind] = r.bytes;
  }
  return out;
}

/** Erases the images, keeps the result. Returns the updated job, or undefined for an unknown job. */
export async function deleteJobImages(db: Kysely<Database>, ring: KeyRing, orgId: string, id: string): Promise<JobRow | undefined> {
  return db.transaction().execute(async (trx) => {
    const job = await trx
      .selectFrom('verification_jobs')
      .select('id')
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    if (!job) return undefined;
    await trx.deleteFrom('verification_job_images').where('job_id', '=', id).execute();
    const row = await trx
      .updateTable('verification_jobs')
      .set({ images_deleted_at: new Date() })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .returning(JOB_COLUMNS)
      .executeTakeFirstOrThrow();
    return openJob(ring, row);
  });
}

export async function storeSelfieHash(db: Kysely<Database>, orgId: string, jobId: string, hash: string): Promise<void> {
  await db
    .updateTable('verification_jobs')
    .set({ selfie_hash: hash })
    .where('org_id', '=', orgId)
    .where('id', '=', jobId)
    .where('redacted_at', 'is', null) // checks that ran on while the job was redacted keep nothing
    .execute();
}

/** Most recent jobs scanned for a reused selfie (a hash comparison is a few ns; 20k rows ≈ 1 MB read). */
export const SELFIE_REUSE_SCAN_LIMIT = 20_000;

/**
 * Another job of the org whose selfie is the same image as `hash` by `same` (verificationJob.ts's
 * sameSelfie: distance when same, else null). Passed in so the API process need not load the models.
 */
export async function findJobWithSameSelfie(
  db: Kysely<Database>,
  orgId: string,
  jobId: string,
  hash: string,
  same: (a: string, b: string) => number | null,
): Promise<{ otherJobId: string; distance: number } | null> {
  const rows = await db
    .selectFrom('verification_jobs')
    .select(['id', 'selfie_hash'])
    .where('org_id', '=', orgId)
    .where('id', '!=', jobId)
    .where('selfie_hash', 'is not', null)
    .orderBy('created_at', 'desc')
    .limit(SELFIE_REUSE_SCAN_LIMIT)
    .execute();
  let best: { otherJobId: string; distance: number } | null = null;
  for (const r of rows) {
    const d = same(hash, r.selfie_hash!);
    if (d !== null && (!best || d < best.distance)) best = { otherJobId: r.id, distance: d };
  }
  return best;
}

/** Ends a pending job; false when it is no longer pending (so a retried call is a no-op). */
async function finishPendingJob(
  db: Kysely<Database>,
  orgId: string,
  jobId: string,
  outcome: { status: 'completed'; result: string; result_sealed: Buffer } | { status: 'failed'; failure: string },
): Promise<boolean> {
  const r = await db
    .updateTable('verification_jobs')
    .set({ ...outcome, completed_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', jobId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** pending → completed with the result. Idempotent (an activity retry after a lost ack is a no-op). */
export function completeJob(
  db: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  jobId: string,
  result: VerificationResult,
): Promise<boolean> {
  const { open, sealed } = splitResult(result);
  return finishPendingJob(db, orgId, jobId, {
    status: 'completed',
    result: JSON.stringify(open),
    result_sealed: sealJson(ring, sealed, CONTEXT.result(jobId)),
  });
}

/** pending → failed with the reason. Idempotent. */
export function failJob(db: Kysely<Database>, orgId: string, jobId: string, failure: JobFailure): Promise<boolean> {
  return finishPendingJob(db, orgId, jobId, { status: 'failed', failure: JSON.stringify(failure) });
}

/** The job's state, locked until the caller's transaction ends (a job verifies one document, once). */
export async function lockJobForUse(
  trx: Kysely<Database>,
  orgId: string,
  jobId: string,
): Promise<Pick<JobRow, 'status' | 'used_by_document_id'> | undefined> {
  return trx
    .selectFrom('verification_jobs')
    .select(['status', 'used_by_document_id'])
    .where('org_id', '=', orgId)
    .where('id', '=', jobId)
    .forUpdate()
    .executeTakeFirst();
}

/** Marks a completed job as used by a document (idempotent for that document). Returns its result, or undefined if it cannot be claimed. */
export async function claimJobForDocument(
  trx: Kysely<Database>,
  ring: KeyRing,
  orgId: string,
  jobId: string,
  documentId: string,
): Promise<JobRow['result'] | undefined> {
  const claimed = await trx
    .updateTable('verification_jobs')
    .set({ used_by_document_id: documentId })
    .where('id', '=', jobId)
    .where('org_id', '=', orgId)
    .where('status', '=', 'completed')
    .where('redacted_at', 'is', null) // a redacted job is used for nothing any more
    .where((eb) => eb.or([eb('used_by_document_id', 'is', null), eb('used_by_document_id', '=', documentId)]))
    .returning(['id', 'result', 'result_sealed'])
    .executeTakeFirst();
  return claimed && openJob(ring, claimed).result;
}

// --- erasure on request (Stripe's `redact`) -----------------------------------------------------

/**
 * Erases a job's personal data, irreversibly: its images, the expected person, what the result
 * read from the document (name, date of birth, number, MRZ, country), the selfie hash and the
 * consent's client address and agent. The status, decision, scores, checks, consent text version
 * and timestamps stay. A job still pending is ended as failed (`redacted`): checks running on
 * meanwhile store nothing. Runs inside the caller's transaction (redactApplication's).
 */
export async function redactJobIn(
  trx: Kysely<Database>,
  orgId: string,
  jobId: string,
): Promise<'redacted' | 'already_redacted' | 'not_found'> {
  const job = await trx
    .selectFrom('verification_jobs')
    .select(['id', 'status', 'result', 'redacted_at'])
    .where('org_id', '=', orgId)
    .where('id', '=', jobId)
    .forUpdate()
    .executeTakeFirst();
  if (!job) return 'not_found';
  if (job.redacted_at) return 'already_redacted';
  await trx.deleteFrom('verification_job_images').where('job_id', '=', jobId).execute();
  const failure: JobFailure = { code: 'redacted', message: 'the job was redacted before its checks completed' };
  await trx
    .updateTable('verification_jobs')
    .set({
      expected_person: null,
      expected_person_sealed: null,
      // (a row from before migration 010 may still hold the document's fields in `result`)
      result: job.result ? JSON.stringify(splitResult(job.result).open) : null,
      result_sealed: null,
      selfie_hash: null,
      images_deleted_at: sql<Date>`coalesce(images_deleted_at, now())`,
      redacted_at: sql<Date>`now()`,
      ...(job.status === 'pending' ? { status: 'failed' as const, failure: JSON.stringify(failure), completed_at: sql<Date>`now()` } : {}),
    })
    .where('org_id', '=', orgId)
    .where('id', '=', jobId)
    .execute();
  await trx
    .updateTable('biometric_consents')
    .set({ client_sealed: null })
    .where('org_id', '=', orgId)
    .where('verification_job_id', '=', jobId)
    .execute();
  return 'redacted';
}

/** The same in a transaction of its own (or the caller's, when `db` is one). */
export async function redactVerificationJob(
  db: Kysely<Database>,
  orgId: string,
  jobId: string,
): Promise<'redacted' | 'already_redacted' | 'not_found'> {
  return db.isTransaction ? redactJobIn(db, orgId, jobId) : db.transaction().execute((trx) => redactJobIn(trx, orgId, jobId));
}

// --- data at rest: rows from before migration 010 --------------------------------------------

const BATCH = 100;

/**
 * Seals what jobs written before migration 010 hold in the clear (the expected person, the
 * document fields of the result, the images) and empties the clear columns. Rows another runner
 * holds are left to it. Returns how many rows were changed.
 */
export async function sealLegacyVerificationData(db: Kysely<Database>, ring: KeyRing): Promise<number> {
  const jobs = await inBatches(db, BATCH, async (trx) => {
    const rows = await trx
      .selectFrom('verification_jobs')
      .select(['id', 'expected_person', 'result', 'result_sealed'])
      .where((eb) =>
        eb.or([eb('expected_person', 'is not', null), eb.and([eb('result', 'is not', null), eb('result_sealed', 'is', null)])]),
      )
      .orderBy('id')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const j of rows) {
      const result = j.result && !j.result_sealed ? splitResult(j.result) : null;
      await trx
        .updateTable('verification_jobs')
        .set({
          ...(j.expected_person
            ? { expected_person: null, expected_person_sealed: sealJson(ring, j.expected_person, CONTEXT.expectedPerson(j.id)) }
            : {}),
          ...(result ? { result: JSON.stringify(result.open), result_sealed: sealJson(ring, result.sealed, CONTEXT.result(j.id)) } : {}),
        })
        .where('id', '=', j.id)
        .execute();
    }
    return rows.length;
  });
  const images = await inBatches(db, BATCH, async (trx) => {
    const rows = await trx
      .selectFrom('verification_job_images')
      .select(['job_id', 'kind', 'position', 'bytes'])
      .where('bytes', 'is not', null)
      .orderBy('job_id')
      .limit(BATCH)
      .forUpdate()
      .skipLocked()
      .execute();
    for (const i of rows) {
      await trx
        .updateTable('verification_job_images')
        .set({ bytes: null, bytes_sealed: seal(ring, i.bytes!, CONTEXT.image(i.job_id, i.kind, i.position)) })
        .where('job_id', '=', i.job_id)
        .where('kind', '=', i.kind)
        .where('position', '=', i.position)
        .execute();
    }
    return rows.length;
  });
  return jobs + images;
}

// --- retention (src/retention/activities.ts) -----------------------------------------------

/** Erases the images of up to `limit` finished jobs created before `cutoff` (results stay); how many jobs. */
export async function eraseJobImagesCreatedBefore(db: Kysely<Database>, orgId: string, cutoff: Date, limit: number): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const jobs = await trx
      .selectFrom('verification_jobs')
      .select('id')
      .where('org_id', '=', orgId)
      .where('status', '!=', 'pending')
      .where('images_deleted_at', 'is', null)
      .where('created_at', '<', cutoff as never)
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
    if (!jobs.length) return 0;
    const ids = jobs.map((j) => j.id);
    await trx.deleteFrom('verification_job_images').where('job_id', 'in', ids).execute();
    await trx.updateTable('verification_jobs').set({ images_deleted_at: new Date() }).where('id', 'in', ids).execute();
    return ids.length;
  });
}

/** Up to `limit` finished, unredacted jobs of the org created before `cutoff`. */
export async function jobsWithResultsCreatedBefore(db: Kysely<Database>, orgId: string, cutoff: Date, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('verification_jobs')
    .select('id')
    .where('org_id', '=', orgId)
    .where('status', '!=', 'pending')
    .where('redacted_at', 'is', null)
    .where('created_at', '<', cutoff as never)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.id);
}
