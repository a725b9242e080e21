// Opens the engine's database: DATABASE_URL when set, else embedded PostgreSQL under DATA_DIR.
import type { Kysely } from 'kysely';
import type { Database } from '../../../migrations/database';
import type { Config } from '../config';
import { connectDatabase } from './connection';
import { startEmbeddedPostgresThread } from './embeddedPostgres';
import { migrate } from './migrate';

export async function openDatabase(config: Config): Promise<{ db: Kysely<Database>; url: string; close(): Promise<void> }> {
  if (config.DATABASE_URL) {
    const db = connectDatabase(config.DATABASE_URL);
    await migrate(db);
    return { db, url: config.DATABASE_URL, close: () => db.destroy() };
  }
  const embedded = await startEmbeddedPostgresThread(config.dataDir);
  const db = connectDatabase(embedded.url, 8);
  const close = async () => {
    await db.destroy();
    await embedded.stop();
  };
  try {
    await migrate(db);
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { db, url: embedded.url, close };
}
