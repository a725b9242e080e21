// Verification jobs for the benchmark. The checks (ONNX models) are benchmarked by
// bench:checks and would dominate this benchmark's CPU, so ONE real job runs through the real
// API (POST /verification-jobs with a real selfie and a real licence from ../shared/data), and
// the N jobs the run consumes are copies of that job's completed result, inserted straight into
// verification_jobs with fresh ids (a job verifies one document only).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import { hashToken } from '../../src/orgs/repository';
import { newJobId } from '../../src/verification/job/repository';
import { REPO_ROOT } from './engineProcess';

export const SHARED_DATA = resolve(REPO_ROOT, '../shared/data');

/** Default pair: an LFW face photo as the selfie, the Arizona sample licence (Mindee fixture) as the ID. */
export const DEFAULT_SELFIE = 'faces/lfw/Mark_Hamister/Mark_Hamister_0001.jpg';
export const DEFAULT_ID_FRONT = 'documents/driver_license/mindee__us_driver_license_default_sample.jpg';

/** The MANIFEST.tsv row of a file under ../shared/data (folder/MANIFEST.tsv, path relative to the folder). */
export function manifestRow(rel: string): Record<string, string> | null {
  const [top, ...rest] = rel.split('/');
  let text: string;
  try {
    text = readFileSync(resolve(SHARED_DATA, top, 'MANIFEST.tsv'), 'utf8');
  } catch {
    return null;
  }
  const [header, ...lines] = text.split('\n');
  const cols = header.split('\t');
  const want = rest.join('/');
  for (const l of lines) {
    const f = l.split('\t');
    if (f[0] === want) return Object.fromEntries(cols.map((c, i) => [c, f[i] ?? '']));
  }
  return null;
}

export interface RealJob {
  jobId: string;
  result: Record<string, any>;
  /** wall time from POST to completed, ms */
  ms: number;
  selfie: string;
  idFront: string;
}

/** Submits one verification job through the API and polls it until it completes (or fails / times out). */
export async function runRealJob(baseUrl: string, token: string, selfie: string, idFront: string, timeoutMs = 300_000): Promise<RealJob> {
  const form = new FormData();
  // The end user's consent, as a capture page relays it (every job needs one).
  form.append('consentTextVersion', 'bench-notice-1');
  form.append('consentAcceptedAt', new Date().toISOString());
  for (const [field, rel] of [
    ['selfie', selfie],
    ['idFront', idFront],
  ] as const) {
    const bytes = readFileSync(resolve(SHARED_DATA, rel));
    form.append(field, new Blob([new Uint8Array(bytes)]), rel.split('/').pop());
  }
  const t0 = performance.now();
  const res = await fetch(`${baseUrl}/verification-jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
  const created = (await res.json()) as any;
  if (res.status !== 202) throw new Error(`POST /verification-jobs answered ${res.status}: ${JSON.stringify(created).slice(0, 500)}`);
  const jobId = String(created.data.id);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await fetch(`${baseUrl}/verification-jobs/${jobId}`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as any;
    const a = body?.data?.attributes;
    if (a?.status === 'completed') return { jobId, result: a.result, ms: performance.now() - t0, selfie, idFront };
    if (a?.status === 'failed') throw new Error(`the real verification job ${jobId} failed: ${JSON.stringify(a.failure)}`);
    await new Promise((r2) => setTimeout(r2, 500));
  }
  throw new Error(`the real verification job ${jobId} did not complete within ${timeoutMs} ms`);
}

export async function orgIdForToken(db: Kysely<Database>, token: string): Promise<string> {
  const row = await db.selectFrom('api_tokens').select('org_id').where('token_hash', '=', hashToken(token)).executeTakeFirstOrThrow();
  return String(row.org_id);
}

/** Inserts `count` completed jobs carrying `result`, unused; returns their ids. */
export async function seedCompletedJobs(
  db: Kysely<Database>,
  orgId: string,
  result: Record<string, unknown>,
  count: number,
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newJobId());
  const json = JSON.stringify(result);
  const now = new Date();
  for (let i = 0; i < ids.length; i += 500) {
    await db
      .insertInto('verification_jobs')
      .values(
        ids.slice(i, i + 500).map((id) => ({
          id,
          org_id: orgId,
          status: 'completed' as const,
          expected_person: null,
          result: json,
          failure: null,
          selfie_hash: null,
          images_deleted_at: null,
          completed_at: now,
        })),
      )
      .execute();
  }
  return ids;
}
