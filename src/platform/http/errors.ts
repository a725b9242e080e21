// JSON:API error documents: every failure the API returns has this shape.
import type { NextFunction, Request, Response } from 'express';
import { ZodError, type ZodType } from 'zod';
import { log } from '../log';

export interface ApiErrorObject {
  status: string;
  title: string;
  detail: string;
  code?: string;
  source?: { pointer?: string; parameter?: string };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly extra: Partial<ApiErrorObject> = {},
  ) {
    super(detail);
  }
  toObjects(): ApiErrorObject[] {
    return [{ status: String(this.status), title: this.title, detail: this.message, ...this.extra }];
  }
}

export class ValidationError extends ApiError {
  constructor(readonly objects: ApiErrorObject[]) {
    super(400, 'Bad Request', objects.map((o) => o.detail).join('; '));
  }
  override toObjects() {
    return this.objects;
  }
}

export const notFound = (what: string, id: string) => new ApiError(404, 'Not Found', `${what} ${id} was not found`, { code: 'not_found' });
export const conflict = (detail: string, code = 'conflict') => new ApiError(409, 'Conflict', detail, { code });

/** Turns zod issues into one error object per field, each pointing at the offending member. */
export function fromZod(
  err: ZodError,
  base: '' | '/data/attributes' | string = '',
  kind: 'pointer' | 'parameter' = 'pointer',
): ValidationError {
  return new ValidationError(
    err.issues.map((issue) => {
      const path = issue.path.map(String);
      const where = kind === 'pointer' ? { pointer: `${base}/${path.join('/')}` } : { parameter: path.join('.') };
      let detail = issue.message;
      if (issue.code === 'unrecognized_keys') detail = `unknown field(s): ${issue.keys.join(', ')}`;
      const field = path.length ? path.join('.') : 'body';
      return { status: '400', title: 'Bad Request', detail: `${field}: ${detail}`, code: 'invalid_field', source: where };
    }),
  );
}

export function parseOr400<T>(schema: ZodType<T>, value: unknown, base = '', kind: 'pointer' | 'parameter' = 'pointer'): T {
  const r = schema.safeParse(value);
  if (!r.success) throw fromZod(r.error, base, kind);
  return r.data;
}

export function sendErrors(res: Response, status: number, errors: ApiErrorObject[]) {
  res.status(status).type('application/vnd.api+json').send(JSON.stringify({ errors }));
}

// express recognises error middleware by its arity of 4.
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction) {
  if (err instanceof ApiError) return sendErrors(res, err.status, err.toObjects());
  const e = err as { type?: string; status?: number; message?: string; code?: string };
  if (e?.type === 'entity.parse.failed')
    return sendErrors(res, 400, [
      { status: '400', title: 'Bad Request', detail: 'the request body is not valid JSON', code: 'malformed_json' },
    ]);
  if (e?.type === 'entity.too.large' || e?.code === 'LIMIT_FILE_SIZE')
    return sendErrors(res, 413, [
      { status: '413', title: 'Payload Too Large', detail: 'the request body exceeds the size limit', code: 'payload_too_large' },
    ]);
  if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported')
    return sendErrors(res, 415, [{ status: '415', title: 'Unsupported Media Type', detail: e.message ?? 'unsupported encoding' }]);
  if (e?.code && String(e.code).startsWith('LIMIT_'))
    return sendErrors(res, 400, [{ status: '400', title: 'Bad Request', detail: `upload rejected: ${e.message}`, code: 'invalid_upload' }]);
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500)
    return sendErrors(res, e.status, [{ status: String(e.status), title: 'Bad Request', detail: e.message ?? 'bad request' }]);
  log.error('unhandled API error', {
    method: req.method,
    // The Web UI's codec path carries its secret.
    path: req.path.replace(/^(\/codec\/ui\/)[^/]+/i, '$1[redacted]'),
    error: e?.message,
    stack: (err as Error)?.stack?.split('\n').slice(0, 6).join(' | '),
  });
  sendErrors(res, 500, [{ status: '500', title: 'Internal Server Error', detail: 'an unexpected error occurred; it has been logged' }]);
}
