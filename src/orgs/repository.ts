// Orgs and their API tokens. Tokens are stored as SHA-256 hashes only and shown once.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newApiToken = () => `v1.${randomBytes(32).toString('base64url')}`;

/** The org a live (not revoked) token belongs to. */
export async function orgOfToken(db: Kysely<Database>, tokenHash: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('api_tokens')
    .select(['org_id'])
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return row?.org_id;
}

/** Creates an org and returns a fresh API token for it (shown once, stored hashed). */
export async function createOrgWithToken(
  db: Kysely<Database>,
  name: string,
  token = newApiToken(),
): Promise<{ orgId: string; token: string }> {
  return db.transaction().execute(async (trx) => {
    const org = await trx.insertInto('orgs').values({ name }).returning('id').executeTakeFirstOrThrow();
    await trx
      .insertInto('api_tokens')
      .values({ org_id: org.id, token_hash: hashToken(token), description: 'created with the org', revoked_at: null })
      .execute();
    return { orgId: org.id, token };
  });
}

/** BOOTSTRAP_API_TOKEN: on an empty database, a default org that answers to that token. */
export async function bootstrapDefaultOrg(db: Kysely<Database>, token: string | undefined): Promise<string | null> {
  if (!token) return null;
  const any = await db.selectFrom('orgs').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const { orgId } = await createOrgWithToken(db, 'Default org', token);
  return orgId;
}
