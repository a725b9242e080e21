// Bearer API tokens, each scoped to one org. Tokens are compared by SHA-256 hash only.
import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import { ApiError } from '../platform/http/errors';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newApiToken = () => `v1.${randomBytes(32).toString('base64url')}`;

declare module 'express-serve-static-core' {
  interface Request { orgId: string }
}

export function requireApiToken(db: Kysely<Database>) {
  const cache = new Map<string, { orgId: string; until: number }>();
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const m = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
      if (!m) throw new ApiError(401, 'Unauthorized', 'an API token is required: send `Authorization: Bearer <token>`', { code: 'unauthorized' });
      const hash = hashToken(m[1]);
      const hit = cache.get(hash);
      if (hit && hit.until > Date.now()) {
        req.orgId = hit.orgId;
        return next();
      }
      const row = await db.selectFrom('api_tokens').select(['org_id']).where('token_hash', '=', hash).where('revoked_at', 'is', null).executeTakeFirst();
      if (!row) throw new ApiError(401, 'Unauthorized', 'the API token is not valid', { code: 'unauthorized' });
      // Short cache: revocation takes effect within 10 s.
      cache.set(hash, { orgId: row.org_id, until: Date.now() + 10_000 });
      req.orgId = row.org_id;
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** Creates an org and returns a fresh API token for it (shown once, stored hashed). */
export async function createOrgWithToken(db: Kysely<Database>, name: string, token = newApiToken()): Promise<{ orgId: string; token: string }> {
  return db.transaction().execute(async (trx) => {
    const org = await trx.insertInto('orgs').values({ name }).returning('id').executeTakeFirstOrThrow();
    await trx.insertInto('api_tokens').values({ org_id: org.id, token_hash: hashToken(token), description: 'created with the org', revoked_at: null }).execute();
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
