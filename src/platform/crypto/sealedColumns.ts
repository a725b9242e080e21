// Sealed columns as the maintenance passes see them. Each capability's repository describes the
// BYTEA columns it seals (table, the columns naming a row, the context its values are sealed
// under); key rotation re-wraps every value of every such column whose data key is wrapped by a
// key other than the active one. Only the data keys change: the data is not re-encrypted.
import { sql, type Kysely } from 'kysely';
import type { KeyRing } from './keyRing';
import { KeyRingError } from './keyRing';
import { open, openJson, rewrap } from './envelope';
import type { Database } from '../../../migrations/database';

export interface SealedColumn {
  table: string;
  column: string;
  /** The columns that identify a row; `context` is built from their values. */
  key: readonly string[];
  context(row: Record<string, unknown>): string;
}

/** The first bytes of every value sealed under the ring's active key (see envelope.ts's layout). */
function activePrefix(ring: KeyRing): Buffer {
  const id = Buffer.from(ring.activeKeyId, 'utf8');
  return Buffer.concat([Buffer.from([1, id.length]), id]);
}

/**
 * Re-wraps, in batches (each its own transaction), every value of the column not wrapped by the
 * active key. Rows another runner holds are skipped (a concurrent run takes them). Returns how
 * many were re-wrapped; throws, naming the row, on a value that does not open with this ring.
 */
export async function rewrapColumn(db: Kysely<Database>, ring: KeyRing, c: SealedColumn, batchSize = 200): Promise<number> {
  const prefix = activePrefix(ring);
  const col = sql.ref(c.column);
  let total = 0;
  for (;;) {
    const n = await db.transaction().execute(async (trx) => {
      const { rows } = await sql<Record<string, unknown>>`
        SELECT ${sql.join(c.key.map((k) => sql.ref(k)))}, ${col} AS sealed FROM ${sql.table(c.table)}
        WHERE ${col} IS NOT NULL AND substring(${col} FROM 1 FOR ${prefix.length}) <> ${prefix}
        LIMIT ${batchSize} FOR UPDATE SKIP LOCKED`.execute(trx);
      for (const row of rows) {
        const context = c.context(row);
        let rewrapped: Buffer;
        try {
          rewrapped = rewrap(ring, row.sealed as Buffer, context);
        } catch (err) {
          throw new KeyRingError(`${c.table}.${c.column} (${context}) does not open with this key ring: ${(err as Error).message}`);
        }
        const where = sql.join(
          c.key.map((k) => sql`${sql.ref(k)} = ${row[k]}`),
          sql` AND `,
        );
        await sql`UPDATE ${sql.table(c.table)} SET ${col} = ${rewrapped} WHERE ${where}`.execute(trx);
      }
      return rows.length;
    });
    total += n;
    if (n < batchSize) return total;
  }
}

/** open(), with an error that names what did not open (a value copied from elsewhere, a key missing from the ring). */
export function openSealed(ring: KeyRing, sealed: Buffer, context: string): Buffer {
  try {
    return open(ring, sealed, context);
  } catch (err) {
    throw new KeyRingError(`sealed ${context} does not open: ${(err as Error).message}`);
  }
}

export const openSealedJson = <T>(ring: KeyRing, sealed: Buffer, context: string): T => {
  try {
    return openJson<T>(ring, sealed, context);
  } catch (err) {
    throw new KeyRingError(`sealed ${context} does not open: ${(err as Error).message}`);
  }
};
