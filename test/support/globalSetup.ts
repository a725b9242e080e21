// Once per test run: a real Temporal dev server (or TEMPORAL_ADDRESS), a real PostgreSQL
// database (a fresh one on DATABASE_URL's server, or embedded PGlite), workflows bundled once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { connectDatabase } from '../../src/platform/database/connection';
import { startEmbeddedPostgres } from '../../src/platform/database/embeddedPostgres';
import { migrate } from '../../src/platform/database/migrate';
import { freePort, startDevServer } from '../../src/platform/temporal/devServer';
import { WORKFLOWS_PATH } from '../../src/engine/worker';
import { newKeyMaterial } from '../../src/platform/crypto/keyRing';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    databaseUrl: string;
    workflowBundlePath: string;
    /** One key ring for the run (every test engine shares the database). */
    dataEncryptionKeys: string;
    identityIndexKey: string;
  }
}

export default async function setup(project: TestProject) {
  const stops: Array<() => Promise<void>> = [];

  let temporalAddress = process.env.TEMPORAL_ADDRESS;
  if (!temporalAddress) {
    const server = await startDevServer({ port: await freePort(), headless: true });
    stops.push(server.stop);
    temporalAddress = server.address;
  }

  let databaseUrl: string;
  if (process.env.DATABASE_URL) {
    const name = `engine_test_${Date.now()}_${process.pid}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    stops.push(async () => {
      const c = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await c.end();
    });
  } else {
    const embedded = await startEmbeddedPostgres('memory');
    stops.push(embedded.stop);
    databaseUrl = embedded.url;
  }
  const db = connectDatabase(databaseUrl, 1);
  await migrate(db);
  await db.destroy();

  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never,
  });
  const workflowBundlePath = join(mkdtempSync(join(tmpdir(), 'wf-bundle-')), 'workflows.js');
  writeFileSync(workflowBundlePath, code);

  project.provide('temporalAddress', temporalAddress);
  project.provide('databaseUrl', databaseUrl);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('dataEncryptionKeys', `test1:${newKeyMaterial()}`);
  project.provide('identityIndexKey', newKeyMaterial());

  return async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
}
