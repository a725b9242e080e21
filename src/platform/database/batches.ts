import type { Kysely } from 'kysely';
import type { Database } from '../../../migrations/database';

/** Runs `batch` (one transaction each) until it handles fewer than `size` rows; the total handled. */
export async function inBatches(db: Kysely<Database>, size: number, batch: (trx: Kysely<Database>) => Promise<number>): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction().execute(batch);
    total += n;
    if (n < size) return total;
  }
}
