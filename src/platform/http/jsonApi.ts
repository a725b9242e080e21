// Request/response plumbing for JSON:API (`application/vnd.api+json`, as Unit's API).
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './errors';

export const JSON_API = 'application/vnd.api+json';

export function sendDocument(res: Response, status: number, body: unknown) {
  res.status(status).type(JSON_API).send(JSON.stringify(body));
}

/** POST paths allowed a larger JSON body than the default (inline base64 images): path -> bytes. Routes register theirs. */
export const largerJsonBodyLimits = new Map<string, number>();

/** Parses JSON bodies sent as application/vnd.api+json or application/json; refuses other types on writes. */
export function jsonApiBody(limit = '1mb') {
  const parse = express.json({ type: [JSON_API, 'application/json'], limit, strict: true });
  const larger = new Map<number, ReturnType<typeof express.json>>();
  const parserFor = (bytes: number) => {
    let p = larger.get(bytes);
    if (!p) larger.set(bytes, (p = express.json({ type: [JSON_API, 'application/json'], limit: bytes, strict: true })));
    return p;
  };
  return (req: Request, res: Response, next: NextFunction) => {
    if (!['POST', 'PATCH', 'PUT'].includes(req.method)) return next();
    const ct = req.header('content-type') ?? '';
    if (
      ct.startsWith('multipart/form-data') ||
      ct.startsWith('image/') ||
      ct.startsWith('application/pdf') ||
      ct.startsWith('application/octet-stream')
    )
      return next();
    const len = Number(req.header('content-length') ?? '0');
    if (!ct && len === 0) return next();
    if (!/^application\/(vnd\.api\+)?json\b/.test(ct)) {
      return next(
        new ApiError(415, 'Unsupported Media Type', `Content-Type must be ${JSON_API} (got ${ct || 'none'})`, {
          code: 'unsupported_media_type',
        }),
      );
    }
    const bigger = req.method === 'POST' ? largerJsonBodyLimits.get(req.path) : undefined;
    (bigger ? parserFor(bigger) : parse)(req, res, (err?: unknown) => {
      if (err) return next(err);
      // PostgreSQL text and jsonb cannot hold U+0000: refuse it here rather than fail later.
      if (containsNul(req.body))
        return next(new ApiError(400, 'Bad Request', 'strings must not contain the NUL character (\\u0000)', { code: 'invalid_field' }));
      next();
    });
  };
}

function containsNul(v: unknown, depth = 0): boolean {
  if (typeof v === 'string') return v.includes('\u0000');
  if (depth > 64 || v === null || typeof v !== 'object') return false;
  return Object.entries(v as Record<string, unknown>).some(([k, x]) => k.includes('\u0000') || containsNul(x, depth + 1));
}

/** Query strings with a NUL (%00) are refused for the same reason. */
export function refuseNulInQuery(req: Request, _res: Response, next: NextFunction) {
  if (/%00/.test(req.originalUrl))
    return next(new ApiError(400, 'Bad Request', 'the query must not contain the NUL character (%00)', { code: 'invalid_parameter' }));
  next();
}

/** `page[limit]`, `page[offset]` with Unit's defaults (100, max 1000). */
export function pageParams(q: Request['query']): { limit: number; offset: number } {
  const page = (q.page ?? {}) as Record<string, string>;
  const limit = page.limit === undefined ? 100 : Number(page.limit);
  const offset = page.offset === undefined ? 0 : Number(page.offset);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new ApiError(400, 'Bad Request', 'page[limit] must be an integer from 1 to 1000', { source: { parameter: 'page[limit]' } });
  if (!Number.isInteger(offset) || offset < 0 || offset > 1_000_000_000)
    throw new ApiError(400, 'Bad Request', 'page[offset] must be an integer from 0 to 1000000000', {
      source: { parameter: 'page[offset]' },
    });
  return { limit, offset };
}

/** Wraps an async route so rejections reach the error handler. */
export const route = (fn: (req: Request, res: Response) => Promise<unknown>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch(next);
};
