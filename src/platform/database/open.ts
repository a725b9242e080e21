// Opens the engine's database: DATABASE_URL when set, else embedded PostgreSQL under DATA_DIR.
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../../../migrations/database';
import type { Config } from '../config';
import { connectDatabase } from './connection';
import { startEmbeddedPostgresThread } from './embeddedPostgres';
import { migrate } from './migrate';

/** Where a running engine leaves its embedded database's URL (with its password) for `npm run admin`; mode 0600. */
export const embeddedUrlFile = (dataDir: string) => join(dataDir, 'embedded-postgres.url');

export async function openDatabase(config: Config): Promise<{ db: Kysely<Database>; url: string; close(): Promise<void> }> {
  if (config.DATABASE_URL) {
    const db = connectDatabase(config.DATABASE_URL);
    await migrate(db);
    return { db, url: config.DATABASE_URL, close: () => db.destroy() };
  }
  const embedded = await startEmbeddedPostgresThread(config.dataDir);
  const db = connectDatabase(embedded.url, 8);
  const close = async () => {
    rmSync(embeddedUrlFile(config.dataDir), { force: true });
    await db.destroy();
    await embedded.stop();
  };
  try {
    await migrate(db);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  writeFileSync(embeddedUrlFile(config.dataDir), embedded.url + '\n', { mode: 0o600 });
  chmodSync(embeddedUrlFile(config.dataDir), 0o600); // a file left by an earlier run keeps its mode otherwise
  return { db, url: embedded.url, close };
}
