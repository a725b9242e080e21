// The embedded default (DATABASE_URL unset): PostgreSQL (PGlite) on a thread of its own,
// persisted under DATA_DIR, migrated on open.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config';
import { openDatabase } from '../src/platform/database/open';

describe('embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'engine-embedded-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('keeps what was written across a restart, and gives each of many concurrent queries its own answer', async () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = await openDatabase(config);
    const org = await first.db.insertInto('orgs').values({ name: 'Persisted Org' }).returning('id').executeTakeFirstOrThrow();
    // Several pooled connections at once: every answer is its own query's.
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => first.db.selectNoFrom((eb) => eb.val(i).as('n')).executeTakeFirstOrThrow()),
    );
    expect(answers.map((a) => Number(a.n))).toEqual(Array.from({ length: 40 }, (_, i) => i));
    await first.close();

    const again = await openDatabase(config);
    try {
      const row = await again.db.selectFrom('orgs').select('name').where('id', '=', org.id).executeTakeFirst();
      expect(row?.name).toBe('Persisted Org');
    } finally {
      await again.close();
    }
  }, 60_000);
});
