// Ids taken from a BIGSERIAL's sequence before the insert, for rows whose sealed columns bind
// their own id (src/platform/crypto/envelope.ts: the context): sealed before anything is written.
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../../migrations/database';

export async function reserveIds(db: Kysely<Database>, table: keyof Database & string, count: number): Promise<string[]> {
  if (count === 0) return [];
  const { rows } = await sql<{ id: string }>`
    SELECT nextval(pg_get_serial_sequence(${table}, 'id'))::text AS id FROM generate_series(1, ${count})`.execute(db);
  return rows.map((r) => r.id);
}
