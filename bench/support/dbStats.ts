// Database writes per application: PostgreSQL's cumulative statistics (pg_stat_database for
// transactions and rows, pg_stat_user_tables per table) before and after a run. Works on a
// real PostgreSQL and on PGlite (single-user PostgreSQL keeps the same counters).
import { sql, type Kysely } from 'kysely';
import type { Database } from '../../migrations/database';

export interface DbSnapshot {
  xactCommit: number;
  xactRollback: number;
  tupInserted: number;
  tupUpdated: number;
  tupDeleted: number;
  tables: Map<string, { ins: number; upd: number; del: number }>;
}

export async function dbSnapshot(db: Kysely<Database>): Promise<DbSnapshot> {
  // Backends flush their counters about once a second when idle; read a fresh snapshot.
  await sql`select pg_stat_clear_snapshot()`.execute(db);
  const d = (
    await sql<{ xact_commit: string; xact_rollback: string; tup_inserted: string; tup_updated: string; tup_deleted: string }>`
    select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted from pg_stat_database where datname = current_database()`.execute(
      db,
    )
  ).rows[0];
  const t = (
    await sql<{ relname: string; n_tup_ins: string; n_tup_upd: string; n_tup_del: string }>`
    select relname, n_tup_ins, n_tup_upd, n_tup_del from pg_stat_user_tables`.execute(db)
  ).rows;
  return {
    xactCommit: Number(d?.xact_commit ?? 0),
    xactRollback: Number(d?.xact_rollback ?? 0),
    tupInserted: Number(d?.tup_inserted ?? 0),
    tupUpdated: Number(d?.tup_updated ?? 0),
    tupDeleted: Number(d?.tup_deleted ?? 0),
    tables: new Map(t.map((r) => [r.relname, { ins: Number(r.n_tup_ins), upd: Number(r.n_tup_upd), del: Number(r.n_tup_del) }])),
  };
}

export interface DbDelta {
  commits: number;
  rollbacks: number;
  inserted: number;
  updated: number;
  deleted: number;
  tables: Array<{ table: string; ins: number; upd: number; del: number }>;
}

export function dbDelta(a: DbSnapshot, b: DbSnapshot): DbDelta {
  const tables = [...b.tables]
    .map(([table, v]) => {
      const p = a.tables.get(table) ?? { ins: 0, upd: 0, del: 0 };
      return { table, ins: v.ins - p.ins, upd: v.upd - p.upd, del: v.del - p.del };
    })
    .filter((r) => r.ins || r.upd || r.del)
    .sort((x, y) => y.ins + y.upd + y.del - (x.ins + x.upd + x.del));
  return {
    commits: b.xactCommit - a.xactCommit,
    rollbacks: b.xactRollback - a.xactRollback,
    inserted: b.tupInserted - a.tupInserted,
    updated: b.tupUpdated - a.tupUpdated,
    deleted: b.tupDeleted - a.tupDeleted,
    tables,
  };
}
