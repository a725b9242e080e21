// The engine as `npm start` runs it (embedded PostgreSQL on disk, the Temporal dev server with its
// SQLite file, the worker, the API): after an applicant with an SSN, one with a passport and a
// verification job that reads a passport's number, neither number appears in plain bytes in any
// file under DATA_DIR (the database files, Temporal's stored history) nor in the engine's logs.
// Control strings stored in the clear on purpose (an email, a workflow id, a log line) are found
// by the same search, so the search itself works.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/platform/temporal/devServer';
import { person, randomPassport, randomSsn } from './support/applicationFixtures';
import { dataFile, DOCUMENTS, jobForm, lfw } from './support/verificationFixtures';

const ROOT = resolve(import.meta.dirname, '..');
const TOKEN = `bootstrap-${Date.now()}-plaintext-test`;
/** The test passport's document number (ICAO 9303 specimen), read by OCR into the job's result. */
const DOCUMENT_NUMBER = 'L898902C3';

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

describe('no personal data in plain bytes at rest or in logs', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'engine-plaintext-'));
  let engine: ChildProcess;
  let logs = '';
  let api = '';
  const ssn = randomSsn();
  const passport = randomPassport();
  const email = `control-${Date.now()}@example.com`;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(api + path, {
      method,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body && !(body instanceof FormData) ? { 'content-type': 'application/vnd.api+json' } : {}),
      },
      body: body instanceof FormData ? body : body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as any };
  };

  beforeAll(async () => {
    const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
    api = `http://127.0.0.1:${port}`;
    // The embedded defaults: no DATABASE_URL, no TEMPORAL_ADDRESS, keys generated under DATA_DIR.
    const { DATABASE_URL: _db, TEMPORAL_ADDRESS: _t, DATA_ENCRYPTION_KEYS: _k, IDENTITY_INDEX_KEY: _i, ...inherited } = process.env;
    engine = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/main.ts')], {
      cwd: ROOT,
      env: {
        ...inherited,
        DATA_DIR: dataDir,
        PORT: String(port),
        TEMPORAL_DEV_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(uiPort),
        BOOTSTRAP_API_TOKEN: TOKEN,
        LOG_LEVEL: 'debug',
        VERIFICATION_WARM_UP: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    engine.stdout!.on('data', (d) => (logs += d));
    engine.stderr!.on('data', (d) => (logs += d));
    const until = Date.now() + 150_000;
    for (;;) {
      if (Date.now() > until) throw new Error(`the engine did not start:\n${logs.slice(-3000)}`);
      const ok = await fetch(`${api}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  }, 180_000);

  afterAll(() => {
    if (engine.exitCode === null) engine.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('finds neither the SSN, the passport number nor the document number in the database files, Temporal’s files or the logs', async () => {
    const base = { ...person(), email };
    const withSsn = await call('POST', '/applications', { data: { type: 'individualApplication', attributes: { ...base, ssn } } });
    expect(withSsn.status).toBe(201);
    const { ssn: _ssn, ...noSsn } = base as Record<string, unknown>;
    const withPassport = await call('POST', '/applications', {
      data: { type: 'individualApplication', attributes: { ...noSsn, passport, nationality: 'GB' } },
    });
    expect(withPassport.status).toBe(201);

    const job = await call(
      'POST',
      '/verification-jobs',
      jobForm({ selfie: dataFile(lfw('Morgan_Freeman', 1)), idFront: dataFile(DOCUMENTS.passport) }),
    );
    expect(job.status).toBe(202);
    let result: any;
    for (const until = Date.now() + 120_000; Date.now() < until; await new Promise((r) => setTimeout(r, 500))) {
      const got = await call('GET', `/verification-jobs/${job.body.data.id}`);
      if (got.body.data.attributes.status !== 'pending') {
        result = got.body.data.attributes.result;
        break;
      }
    }
    // The job read the number (so it was there to leak).
    expect(result?.fields?.documentNumber).toBe(DOCUMENT_NUMBER);

    // Stop the engine so everything is flushed to its files.
    const exited = new Promise((r) => engine.once('exit', r));
    engine.kill('SIGTERM');
    await exited;

    const stored = filesUnder(dataDir).filter((f) => statSync(f).size > 0);
    const databaseFiles = stored.filter((f) => !f.includes('temporal'));
    const temporalFiles = stored.filter((f) => f.includes('temporal'));
    expect(databaseFiles.length).toBeGreaterThan(10);
    expect(temporalFiles.length).toBeGreaterThan(0);
    const contains = (paths: string[], needle: string) => paths.filter((f) => readFileSync(f).includes(Buffer.from(needle)));

    for (const secret of [ssn, passport, DOCUMENT_NUMBER]) {
      expect(contains(databaseFiles, secret), `${secret} in the database files`).toEqual([]);
      expect(contains(temporalFiles, secret), `${secret} in Temporal's files`).toEqual([]);
      expect(logs.includes(secret), `${secret} in the logs`).toBe(false);
    }
    // The same search finds what is stored in the clear.
    expect(contains(databaseFiles, email).length).toBeGreaterThan(0);
    expect(contains(temporalFiles, `application-${withSsn.body.data.id}`).length).toBeGreaterThan(0);
    expect(logs).toContain('engine started');
  });
});
