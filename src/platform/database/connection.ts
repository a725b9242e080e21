import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Database } from '../../../migrations/database';

// BIGINT ids stay strings (API ids are strings); DATE stays 'YYYY-MM-DD' (no time-zone shifts).
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export function connectDatabase(url: string, maxConnections = 10): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: url, max: maxConnections });
  pool.on('error', () => {
    /* idle client errors are surfaced on next use */
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** Whether the database answers a trivial query (the health check). */
export async function databaseAnswers(db: Kysely<Database>): Promise<boolean> {
  return sql`select 1`.execute(db).then(
    () => true,
    () => false,
  );
}
