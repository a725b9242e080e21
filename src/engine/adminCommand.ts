// `npm run admin -- <command>`: orgs and API keys from a shell, against the engine's database
// (DATABASE_URL; else the running engine's embedded database; else DATA_DIR's, opened here when
// no engine runs). A new token is printed once, alone on the last line of output.
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import { createKey, createOrgWithKey, findOrg, listKeys, revokeKey, rotateKey } from '../orgs/repository';
import { isScope, SCOPES, type Scope } from '../orgs/scopes';
import { loadConfig } from '../platform/config';
import { connectDatabase, databaseAnswers } from '../platform/database/connection';
import { migrate } from '../platform/database/migrate';
import { embeddedUrlFile, openDatabase } from '../platform/database/open';
import { rewrapStoredData } from './storedData';

const USAGE = `usage: npm run admin -- <command> [options]
  create-org  --name NAME                       an org and its first key (applications, admin)
  create-key  --org ID --scopes a,b --name NAME [--expires ISO-8601]
              scopes: ${SCOPES.join(', ')} (operator: create orgs, decode Temporal payloads)
  list-keys   --org ID
  revoke-key  --org ID --key KEY_ID
  rotate-key  --org ID --key KEY_ID             a new token; the old key is revoked
  rewrap-data                                   after a key rotation: every sealed value to the first key of
                                                DATA_ENCRYPTION_KEYS; identity index under IDENTITY_INDEX_KEY`;

class UsageError extends Error {}

async function openEngineDatabase(): Promise<{ db: Kysely<Database>; close(): Promise<void> }> {
  const config = loadConfig();
  if (config.DATABASE_URL) {
    const db = connectDatabase(config.DATABASE_URL, 2);
    await migrate(db);
    return { db, close: () => db.destroy() };
  }
  const file = embeddedUrlFile(config.dataDir);
  if (existsSync(file)) {
    const db = connectDatabase(readFileSync(file, 'utf8').trim(), 2);
    if (await databaseAnswers(db)) return { db, close: () => db.destroy() };
    await db.destroy(); // left by an engine that did not stop cleanly
  }
  const opened = await openDatabase(config);
  return { db: opened.db, close: opened.close };
}

function required(values: Record<string, string | undefined>, name: string): string {
  const v = values[name];
  if (!v) throw new UsageError(`--${name} is required`);
  return v;
}

function parseScopes(list: string): Scope[] {
  const scopes = list.split(',').map((s) => s.trim());
  const unknown = scopes.filter((s) => !isScope(s));
  if (unknown.length || scopes.length === 0) throw new UsageError(`unknown scope ${unknown.join(', ')}: choose from ${SCOPES.join(', ')}`);
  return scopes as Scope[];
}

async function run(argv: string[], out: (line: string) => void): Promise<void> {
  const [command, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      org: { type: 'string' },
      scopes: { type: 'string' },
      key: { type: 'string' },
      expires: { type: 'string' },
    },
    strict: true,
  });
  if (!command || command === 'help' || command === '--help') throw new UsageError('');
  const known = ['create-org', 'create-key', 'list-keys', 'revoke-key', 'rotate-key', 'rewrap-data'];
  if (!known.includes(command)) throw new UsageError(`unknown command ${command}`);

  const { db, close } = await openEngineDatabase();
  try {
    const org = async () => {
      const id = required(values, 'org');
      if (!(await findOrg(db, id))) throw new UsageError(`no org ${id}`);
      return id;
    };
    switch (command) {
      case 'create-org': {
        const { org: created, key } = await createOrgWithKey(db, required(values, 'name'));
        out(`org ${created.orgId} "${created.name}"; key ${key.keyId} (${key.scopes.join(', ')}); its token, shown once:`);
        out(key.token);
        break;
      }
      case 'create-key': {
        const orgId = await org();
        const expires = values.expires ? new Date(values.expires) : null;
        if (expires && !(expires.getTime() > Date.now())) throw new UsageError('--expires must be a date-time in the future');
        const key = await createKey(db, orgId, {
          name: required(values, 'name'),
          scopes: parseScopes(required(values, 'scopes')),
          expiresAt: expires,
        });
        out(`key ${key.keyId} "${key.name}" (${key.scopes.join(', ')}) for org ${orgId}; its token, shown once:`);
        out(key.token);
        break;
      }
      case 'list-keys': {
        for (const k of await listKeys(db, await org(), { limit: 1000, offset: 0 }))
          out(
            [
              k.keyId,
              k.name,
              k.scopes.join(','),
              `created ${k.createdAt.toISOString()}`,
              k.expiresAt ? `expires ${k.expiresAt.toISOString()}` : '',
              k.revokedAt ? `REVOKED ${k.revokedAt.toISOString()}` : '',
            ]
              .filter(Boolean)
              .join('\t'),
          );
        break;
      }
      case 'revoke-key': {
        const key = await revokeKey(db, await org(), required(values, 'key'));
        if (!key) throw new UsageError(`no key ${values.key} in org ${values.org}`);
        out(`key ${key.keyId} revoked at ${key.revokedAt!.toISOString()} (API processes drop it within 10 s)`);
        break;
      }
      case 'rotate-key': {
        const key = await rotateKey(db, await org(), required(values, 'key'));
        if (!key) throw new UsageError(`no live key ${values.key} in org ${values.org}`);
        out(`key ${values.key} revoked; new key ${key.keyId} (${key.scopes.join(', ')}); its token, shown once:`);
        out(key.token);
        break;
      }
      case 'rewrap-data': {
        const ring = loadConfig().keyRing;
        const { rewrapped, reindexed } = await rewrapStoredData(db, ring);
        out(
          `re-wrapped ${rewrapped} sealed values under key ${ring.activeKeyId}; recomputed ${reindexed} identity keys and request hashes`,
        );
        out(
          ring.keyIds.length > 1
            ? `nothing in the database is sealed under ${ring.keyIds.slice(1).join(', ')} any more; keep them in DATA_ENCRYPTION_KEYS ` +
                'while Temporal may still hold payloads they sealed (open workflows, and closed ones within the namespace retention)'
            : 'every sealed value is under the only key',
        );
        break;
      }
    }
  } finally {
    await close();
  }
}

try {
  await run(process.argv.slice(2), (line) => process.stdout.write(line + '\n'));
} catch (err) {
  if (err instanceof UsageError) {
    if (err.message) process.stderr.write(`admin: ${err.message}\n`);
    process.stderr.write(USAGE + '\n');
    process.exit(2);
  }
  process.stderr.write(`admin: ${(err as Error).message}\n`);
  process.exit(1);
}
