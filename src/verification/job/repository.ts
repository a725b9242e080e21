// Verification jobs and their images in PostgreSQL. Every function takes the org id and scopes
// its query by it (another org's job does not exist). Images are biometric data: they are only
// read here and by the checks activity, never logged, never returned by the API.
import { randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import type { Database, VerificationJobImagesTable, VerificationJobsTable } from '../../../migrations/database';
import type { ExpectedPerson } from './checks';
import type { JobFailure, VerificationResult } from './result';

export type JobRow = Omit<Selectable<VerificationJobsTable>, 'selfie_hash'>;
export type ImageKind = VerificationJobImagesTable['kind'];

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
  'result',
  'failure',
  'used_by_document_id',
  'images_deleted_at',
  'created_at',
  'completed_at',
] as const;

/** Inserts the job (pending) and its images in one transaction. */
export async function createJob(
  db: Kysely<Database>,
  p: { id?: string; orgId: string; expectedPerson?: ExpectedPerson | null; images: NewJobImage[] },
): Promise<JobRow> {
  const id = p.id ?? newJobId();
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('verification_jobs')
      .values({
        id,
        org_id: p.orgId,
        status: 'pending',
        expected_person: p.expectedPerson ? JSON.stringify(p.expectedPerson) : null,
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
        p.images.map((img, i) => ({
          job_id: id,
          kind: img.kind,
          position: img.position ?? (img.kind === 'selfieFrame' ? i : 0),
          content_type: img.contentType,
          bytes: img.bytes,
        })),
      )
      .execute();
    return row;
  });
}

export async function getJob(db: Kysely<Database>, orgId: string, id: string): Promise<JobRow | undefined> {
  return db.selectFrom('verification_jobs').select(JOB_COLUMNS).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
}

/** The job's images (selfie frames in upload order). Empty when they were erased. */
export async function loadJobImages(db: Kysely<Database>, orgId: string, jobId: string): Promise<JobImages> {
  const rows = await db
    .selectFrom('verification_job_images as i')
    .innerJoin('verification_jobs as j', 'j.id', 'i.job_id')
    .select(['i.kind', 'i.position', 'i.bytes'])
    .where('j.org_id', '=', orgId)
    .where('i.job_id', '=', jobId)
    .orderBy('i.position')
    .execute();
  const out: JobImages = { selfieFrames: [] };
  for (const r of rows) {
    if (r.kind === 'selfieFrame') out.selfieFrames.push(r.bytes);
    else out[r.kind] = r.bytes;
  }
  return out;
}

/** Erases the images, keeps the result. Returns the updated job, or undefined for an unknown job. */
export async function deleteJobImages(db: Kysely<Database>, orgId: string, id: string): Promise<JobRow | undefined> {
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
    return trx
      .updateTable('verification_jobs')
      .set({ images_deleted_at: new Date() })
      .where('id', '=', id)
      .where('org_id', '=', orgId)
      .returning(JOB_COLUMNS)
      .executeTakeFirstOrThrow();
  });
}

export async function storeSelfieHash(db: Kysely<Database>, orgId: string, jobId: string, hash: string): Promise<void> {
  await db.updateTable('verification_jobs').set({ selfie_hash: hash }).where('org_id', '=', orgId).where('id', '=', jobId).execute();
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
  outcome: { status: 'completed'; result: string } | { status: 'failed'; failure: string },
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
export function completeJob(db: Kysely<Database>, orgId: string, jobId: string, result: VerificationResult): Promise<boolean> {
  return finishPendingJob(db, orgId, jobId, { status: 'completed', result: JSON.stringify(result) });
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
): Promise<Pick<JobRow, 'status' | 'used_by_document_id' | 'result'> | undefined> {
  return trx
    .selectFrom('verification_jobs')
    .select(['status', 'used_by_document_id', 'result'])
    .where('org_id', '=', orgId)
    .where('id', '=', jobId)
    .forUpdate()
    .executeTakeFirst();
}

/** Marks a completed job as used by a document (idempotent for that document). Returns its result, or undefined if it cannot be claimed. */
export async function claimJobForDocument(
  trx: Kysely<Database>,
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
    .where((eb) => eb.or([eb('used_by_document_id', 'is', null), eb('used_by_document_id', '=', documentId)]))
    .returning('result')
    .executeTakeFirst();
  return claimed?.result;
}
