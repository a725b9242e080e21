// Bearer API keys: every request but /health and /openapi.json names its key, hence its org and
// what it may do (scopes.ts decides per route, deny by default).
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import type { Database } from '../../../migrations/database';
import { ApiError, notFound } from '../../platform/http/errors';
import { hashToken, keyOfToken, type ApiKeyIdentity } from '../repository';
import { scopesFor, type Scope } from '../scopes';

declare module 'express-serve-static-core' {
  interface Request {
    orgId: string;
    apiKey: ApiKeyIdentity;
  }
}

/** Revocation reaches every API process within this long. */
const KEY_CACHE_MS = 10_000;
const MAX_CACHED_KEYS = 10_000;
/** Token hash → the key it names, shared by this process's middleware. */
const cache = new Map<string, { key: ApiKeyIdentity; until: number }>();

/** A key revoked through this process stops working here at once (other processes: within KEY_CACHE_MS). */
export function forgetCachedKey(keyId: string): void {
  for (const [hash, entry] of cache) if (entry.key.keyId === keyId) cache.delete(hash);
}

const unauthorized = (detail: string) => new ApiError(401, 'Unauthorized', detail, { code: 'unauthorized' });

const forbidden = (key: ApiKeyIdentity, needed: readonly Scope[]) =>
  new ApiError(
    403,
    'Forbidden',
    `this API key (scopes: ${key.scopes.join(', ') || 'none'}) may not do this: it needs the ${needed.join(' or ')} scope`,
    { code: 'insufficient_scope' },
  );

/** Authenticates the request's key; then `authorize` (by default: the route table in scopes.ts) decides. */
export function requireApiToken(
  db: Kysely<Database>,
  authorize: (req: Request) => readonly Scope[] | null = (req) => scopesFor(req.method, req.path),
) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const m = /^Bearer\s+(\S{1,512})$/i.exec(req.header('authorization') ?? '');
      if (!m) throw unauthorized('an API key is required: send `Authorization: Bearer <token>`');
      const hash = hashToken(m[1]);
      const now = Date.now();
      let key = cache.get(hash);
      if (!key || key.until <= now || (key.key.expiresAt && key.key.expiresAt.getTime() <= now)) {
        cache.delete(hash);
        const found = await keyOfToken(db, hash, new Date(now));
        if (!found) throw unauthorized('the API key is not valid (unknown, revoked or expired)');
        if (cache.size >= MAX_CACHED_KEYS) cache.clear();
        key = { key: found, until: now + KEY_CACHE_MS };
        cache.set(hash, key);
      }
      req.apiKey = key.key;
      req.orgId = key.key.orgId;
      const needed = authorize(req);
      if (!needed) throw notFound('route', `${req.method} ${req.path}`);
      if (!needed.some((s) => key.key.scopes.includes(s))) throw forbidden(key.key, needed);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** For routers mounted outside the general middleware (say, ahead of CORS preflights): a key with one of these scopes. */
export const requireScope = (db: Kysely<Database>, ...scopes: Scope[]) => requireApiToken(db, () => scopes);
