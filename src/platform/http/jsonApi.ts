// Request/response plumbing for JSON:API (`application/vnd.api+json`, as Unit's API).
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './errors';

export const JSON_API = 'application/vnd.api+json';

export function sendDocument(res: Response, status: number, body: unknown) {
  res.status(status).type(JSON_API).send(JSON.stringify(body));
}

/**
 * Parses JSON bodies sent as application/vnd.api+json or application/json; refuses other types on
 * writes. The limit is small: JSON.parse holds up every other request while it runs. (A route
 * that needs more, POST /verification-jobs, is mounted before this parser and bounds its own.)
 */
export function jsonApiBody(limit = '1mb') {
  const parse = express.json({ type: [JSON_API, 'application/json'], limit, strict: true });
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
    parse(req, res, (err?: unknown) => {
      if (err) return next(err);
      // PostgreSQL text and jsonb cannot hold U+0000 or half a UTF-16 pair: refuse here rather than fail later.
      const bad = unstorableText(req.body);
      if (bad) return next(new ApiError(400, 'Bad Request', `strings must not contain ${bad}`, { code: 'invalid_field' }));
      next();
    });
  };
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What in a string PostgreSQL cannot store, said for an error message; null when it can store it. */
export function unstorableInString(s: string): string | null {
  if (s.includes('\u0000')) return 'the NUL character (\\u0000)';
  if (LONE_SURROGATE.test(s)) return 'a lone UTF-16 surrogate (half of a \\uD800-\\uDFFF pair)';
  return null;
}

/** The same over every key and string of a parsed JSON body. */
export function unstorableText(v: unknown, depth = 0): string | null {
  if (typeof v === 'string') return unstorableInString(v);
  if (depth > 64 || v === null || typeof v !== 'object') return null;
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    const bad = unstorableInString(k) ?? unstorableText(x, depth + 1);
    if (bad) return bad;
  }
  return null;
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

/**
 * Bounds on how long one client may hold a connection: the headers within 20 s, the whole
 * request within 60 s (uploads included), idle keep-alive 5 s. Without them a slow client
 * keeps a socket, and its memory, for as long as it likes.
 */
export function boundClientTime(server: import('node:http').Server): import('node:http').Server {
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 5_000;
  server.on('clientError', answerClientError);
  return server;
}

/** What Node's HTTP parser refuses before express sees it, said as JSON:API errors. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'the request line and headers are too large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large', 'the chunk extensions are too large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'the request took too long to arrive'],
};

/**
 * Node's own answer to a request it cannot parse (a byte outside the URL's characters, headers
 * over 16 KB, a timeout) is a bare status line; this one carries a JSON:API error document, so
 * every error the API gives has the same shape.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex) {
  const s = socket as import('node:net').Socket;
  if (err.code !== 'ECONNRESET' && s.writable && s.bytesWritten === 0) {
    const [status, title, detail] = CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request', 'the request is not well-formed HTTP'];
    const body = JSON.stringify({ errors: [{ status: String(status), title, detail, code: 'malformed_request' }] });
    s.write(
      `HTTP/1.1 ${status} ${title}\r\nContent-Type: ${JSON_API}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  s.destroy(err);
}
