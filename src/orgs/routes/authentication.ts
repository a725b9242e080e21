// Bearer API tokens, each scoped to one org: every request but /health and /openapi.json names its org this way.
import type { NextFunction, Request, Response } from 'express';
import type { Kysely } from 'kysely';
import type { Database } from '../../../migrations/database';
import { ApiError } from '../../platform/http/errors';
import { hashToken, orgOfToken } from '../repository';

declare module 'express-serve-static-core' {
  interface Request {
    orgId: string;
  }
}

export function requireApiToken(db: Kysely<Database>) {
  const cache = new Map<string, { orgId: string; until: number }>();
  return async (req: Request, _res: Response, next: NextFunction) => {
    try {
      const m = /^Bearer\s+(\S+)$/i.exec(req.header('authorization') ?? '');
      if (!m)
        throw new ApiError(401, 'Unauthorized', 'an API token is required: send `Authorization: Bearer <token>`', { code: 'unauthorized' });
      const hash = hashToken(m[1]);
      const hit = cache.get(hash);
      if (hit && hit.until > Date.now()) {
        req.orgId = hit.orgId;
        return next();
      }
      const orgId = await orgOfToken(db, hash);
      if (!orgId) throw new ApiError(401, 'Unauthorized', 'the API token is not valid', { code: 'unauthorized' });
      // Short cache: revocation takes effect within 10 s.
      cache.set(hash, { orgId, until: Date.now() + 10_000 });
      req.orgId = orgId;
      next();
    } catch (err) {
      next(err);
    }
  };
}
