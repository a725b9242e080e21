// /verification-jobs: upload a selfie and an ID photo, get a job id at once (202), poll for the
// result. Images are biometric data: validated here, stored with the job in one transaction,
// never logged and never sent to Temporal (the workflow only gets {jobId, orgId}).
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { sniffFileType, type FileType } from '../../platform/http/fileSignature';
import type { EngineDeps } from '../../platform/deps';
import { ApiError, parseOr400, ValidationError, type ApiErrorObject } from '../../platform/http/errors';
import { JSON_API, route, sendDocument, unstorableInString, unstorableText } from '../../platform/http/jsonApi';
import { rateLimitPerOrg } from '../../platform/http/rateLimit';
import { log } from '../../platform/log';
import {
  CONSENT_FIELDS,
  ConsentSchema,
  CreateVerificationJobJson,
  ExpectedPersonSchema,
  FILE_FIELDS,
  MAX_SELFIE_FRAMES,
  TEXT_FIELDS,
  VerificationJobParams,
  type ConsentInput,
  type ExpectedPersonInput,
  type VerificationJobDocument,
} from './schemas';
import {
  assertQueueHasRoom,
  consentOfJob,
  createJob,
  deleteJobImages,
  failJob,
  getJob,
  redactVerificationJob,
  VerificationQueueFull,
  type JobRow,
  type NewJobImage,
  type ConsentView,
  type QueueBounds,
} from './repository';
import type { JobFailure, VerificationResult } from './result';

const PATH = '/verification-jobs';
/** Files a job may carry at once: selfie, idFront, idBack and the frames. */
const MAX_FILES = 3 + MAX_SELFIE_FRAMES;
/**
 * The most a JSON job (base64 images) may weigh. Parsing and decoding it is synchronous (~70 ms for
 * 15 MB here) and holds up every other request meanwhile; larger images go as multipart, streamed.
 */
const MAX_JSON_JOB_BYTES = 15 * 1024 * 1024;
/** Told to a client whose job the queue refused: a job takes a few seconds, the queue moves on soon. */
const QUEUE_FULL_RETRY_AFTER_S = 10;

/** Image types a job accepts, recognised by their first bytes (the declared content type is not trusted). */
const JOB_IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/heic'] as const satisfies readonly FileType[];
export const sniffImageType = (b: Buffer) => sniffFileType(b, JOB_IMAGE_TYPES);

interface Upload {
  files: { kind: NewJobImage['kind']; field: string; bytes: Buffer }[];
  expectedPerson: ExpectedPersonInput | null;
  /** Read after the files are checked (their errors come first); absent is a 400. */
  consent: () => ConsentInput;
}

const pointerError = (field: string, detail: string, code = 'invalid_field'): ApiErrorObject => ({
  status: '400',
  title: 'Bad Request',
  detail,
  code,
  source: { pointer: `/data/attributes/${field}` },
});

/** Size, emptiness and type of every file; required files present. Throws 400 / 413. */
function validateFiles(files: Upload['files'], maxBytes: number) {
  const errors: ApiErrorObject[] = [];
  for (const required of ['selfie', 'idFront'] as const) {
    if (!files.some((f) => f.kind === required)) errors.push(pointerError(required, `${required} is required`, 'missing_field'));
  }
  for (const f of files) {
    if (f.bytes.length > maxBytes) {
      throw new ApiError(413, 'Payload Too Large', `${f.field} is ${f.bytes.length} bytes; the limit is ${maxBytes} bytes per file`, {
        code: 'payload_too_large',
        source: { pointer: `/data/attributes/${f.field}` },
      });
    }
    if (f.bytes.length === 0) errors.push(pointerError(f.field, `${f.field} is empty (0 bytes)`, 'empty_file'));
    else if (!sniffImageType(f.bytes))
      errors.push(pointerError(f.field, `${f.field} is not a JPEG, PNG, WebP or HEIC image`, 'invalid_image'));
  }
  if (errors.length) throw new ValidationError(errors);
}

function expectedPersonFromFields(body: Record<string, unknown>): ExpectedPersonInput | null {
  for (const [k, v] of Object.entries(body)) {
    const bad = typeof v === 'string' ? unstorableInString(v) : null;
    if (bad) throw new ValidationError([pointerError(k, `${k} must not contain ${bad}`)]);
  }
  const unknown = Object.keys(body).filter((k) => !(TEXT_FIELDS as readonly string[]).includes(k));
  if (unknown.length) {
    const fileField = unknown.find((k) => (FILE_FIELDS as readonly string[]).includes(k));
    if (fileField) throw new ValidationError([pointerError(fileField, `${fileField} must be sent as a file`)]);
    throw new ValidationError(
      unknown.map((k) => pointerError(k, `unknown field: ${k} (expected ${[...FILE_FIELDS, ...TEXT_FIELDS].join(', ')})`, 'unknown_field')),
    );
  }
  const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  if (str('expectedPerson') !== undefined) {
    if (str('fullName') !== undefined || str('dateOfBirth') !== undefined) {
      throw new ValidationError([pointerError('expectedPerson', 'send either expectedPerson (JSON) or fullName/dateOfBirth, not both')]);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(str('expectedPerson')!);
    } catch {
      throw new ValidationError([
        pointerError('expectedPerson', 'expectedPerson must be a JSON object {"fullName": ..., "dateOfBirth": "YYYY-MM-DD"}'),
      ]);
    }
    return parseOr400(ExpectedPersonSchema, parsed, '/data/attributes/expectedPerson');
  }
  if (str('fullName') === undefined && str('dateOfBirth') === undefined) return null;
  return parseOr400(ExpectedPersonSchema, { fullName: str('fullName'), dateOfBirth: str('dateOfBirth') }, '/data/attributes');
}

/** The consent sent as multipart text fields (consentTextVersion, consentAcceptedAt, …). */
function consentFromFields(body: Record<string, unknown>): ConsentInput {
  const str = (k: (typeof CONSENT_FIELDS)[number]) => (typeof body[k] === 'string' ? (body[k] as string) : undefined);
  if (str('consentTextVersion') === undefined && str('consentAcceptedAt') === undefined) throw consentRequired('consentTextVersion');
  const parsed = ConsentSchema.safeParse({
    textVersion: str('consentTextVersion'),
    acceptedAt: str('consentAcceptedAt'),
    ipAddress: str('consentIpAddress'),
    userAgent: str('consentUserAgent'),
  });
  if (parsed.success) return parsed.data;
  const field = {
    textVersion: 'consentTextVersion',
    acceptedAt: 'consentAcceptedAt',
    ipAddress: 'consentIpAddress',
    userAgent: 'consentUserAgent',
  };
  throw new ValidationError(
    parsed.error.issues.map((i) => {
      const name = field[String(i.path[0]) as keyof typeof field] ?? 'consent';
      return pointerError(name, `${name}: ${i.message}`);
    }),
  );
}

const consentRequired = (field: string) =>
  new ValidationError([
    pointerError(
      field,
      "every biometric capture needs the end user's consent: send the consent notice's version and when the user accepted it " +
        '(multipart: consentTextVersion, consentAcceptedAt; JSON: attributes.consent.textVersion, .acceptedAt)',
      'consent_required',
    ),
  ]);

function toResource(row: JobRow, consent: ConsentView | null): VerificationJobDocument {
  const iso = (d: unknown) => (d === null || d === undefined ? null : new Date(d as string).toISOString());
  return {
    data: {
      type: 'verificationJob',
      id: row.id,
      attributes: {
        status: row.status,
        ...(row.status === 'completed' && row.result ? { result: row.result as unknown as VerificationResult } : {}),
        ...(row.status === 'failed' && row.failure ? { failure: row.failure as unknown as JobFailure } : {}),
        createdAt: iso(row.created_at)!,
        completedAt: iso(row.completed_at),
        imagesDeleted: row.images_deleted_at !== null,
        consent,
        ...(row.redacted_at ? { redaction: { status: 'redacted' as const, redactedAt: iso(row.redacted_at)! } } : {}),
      },
      links: { self: `${PATH}/${row.id}` },
    },
  };
}

export function verificationJobRoutes(deps: EngineDeps): Router {
  const router = Router();
  const maxBytes = deps.config.MAX_UPLOAD_BYTES;
  // JSON bodies carry base64 (4/3 of the bytes) for up to 3 files, plus a little structure; at most MAX_JSON_JOB_BYTES.
  const maxJsonBytes = Math.min(MAX_JSON_JOB_BYTES, Math.ceil((maxBytes * 4) / 3) * 3 + 64 * 1024);
  const maxMultipartBytes = maxBytes * 3 + 256 * 1024;
  const bounds: QueueBounds = { perOrg: deps.config.VERIFICATION_QUEUE_PER_ORG, total: deps.config.VERIFICATION_QUEUE_MAX };

  /** Each job costs seconds of CPU: a tighter rate than other requests, before the body is read. */
  const jobRate = rateLimitPerOrg(deps.config.VERIFICATION_JOBS_PER_MINUTE, 'verification jobs');
  const queueFull = (res: Response, err: VerificationQueueFull) => {
    res.setHeader('Retry-After', String(QUEUE_FULL_RETRY_AFTER_S));
    return new ApiError(429, 'Too Many Requests', `${err.message}; submit it again once some have finished`, {
      code: 'verification_queue_full',
    });
  };
  /** A full queue refuses the job before its images are uploaded (createJob checks again, strictly). */
  const queueHasRoom = (req: Request, res: Response, next: NextFunction) => {
    assertQueueHasRoom(deps.db, req.orgId, bounds).then(
      () => next(),
      (err: unknown) => next(err instanceof VerificationQueueFull ? queueFull(res, err) : err),
    );
  };

  const parseJson = express.json({ type: [JSON_API, 'application/json'], limit: maxJsonBytes, strict: true });
  /** The JSON form (this route is mounted before the app's JSON parser, whose limit is 1 MB). */
  const jsonBody = (req: Request, res: Response, next: NextFunction) => {
    if (!/^application\/(vnd\.api\+)?json\b/.test(req.header('content-type') ?? '')) return next();
    parseJson(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large')
        return next(
          new ApiError(
            413,
            'Payload Too Large',
            `a JSON verification job may be at most ${maxJsonBytes} bytes; send larger images as multipart/form-data`,
            { code: 'payload_too_large' },
          ),
        );
      if (err) return next(err);
      const bad = unstorableText(req.body);
      if (bad) return next(new ApiError(400, 'Bad Request', `strings must not contain ${bad}`, { code: 'invalid_field' }));
      next();
    });
  };

  const upload = multer({
    storage: multer.memoryStorage(),
    // A few spare text fields so an unknown one is reported by name (below), not as "too many fields".
    limits: {
      fileSize: maxBytes,
      files: MAX_FILES,
      fields: TEXT_FIELDS.length + 8,
      fieldSize: 16 * 1024,
      parts: MAX_FILES + TEXT_FIELDS.length + 8,
    },
  }).fields([
    { name: 'selfie', maxCount: 1 },
    { name: 'idFront', maxCount: 1 },
    { name: 'idBack', maxCount: 1 },
    { name: 'selfieFrames', maxCount: MAX_SELFIE_FRAMES },
  ]);

  /** multer with its errors turned into JSON:API errors that name the field. */
  const multipart = (req: Request, res: Response, next: NextFunction) => {
    if (!(req.header('content-type') ?? '').startsWith('multipart/form-data')) return next();
    const len = Number(req.header('content-length') ?? '0');
    const tooLarge = (bytes: number) =>
      new ApiError(
        413,
        'Payload Too Large',
        `the request is over ${bytes} bytes; the limit is ${maxMultipartBytes} bytes in all, ${maxBytes} per file`,
        {
          code: 'payload_too_large',
        },
      );
    /** Reads (and drops) the rest of the body, then answers: the client sees the 413, not a reset. */
    const refuseAfterDraining = (error: ApiError) => {
      let done = false;
      const finish = () => {
        if (!done) {
          done = true;
          next(error);
        }
      };
      req.on('error', () => undefined);
      req.once('end', finish);
      req.once('close', finish);
      req.resume();
    };
    if (len > maxMultipartBytes) return refuseAfterDraining(tooLarge(len));
    // A chunked body has no Content-Length: count what arrives, and stop reading past the limit.
    let received = 0;
    let refused = false;
    upload(req, res, (err: unknown) => {
      if (refused) return; // answered already
      if (!err) return next();
      if (err instanceof multer.MulterError) {
        const field = err.field;
        const where = field ? { source: { pointer: `/data/attributes/${field}` } } : {};
        switch (err.code) {
          case 'LIMIT_FILE_SIZE':
            return next(
              new ApiError(413, 'Payload Too Large', `${field ?? 'a file'} is larger than the limit of ${maxBytes} bytes`, {
                code: 'payload_too_large',
                ...where,
              }),
            );
          case 'LIMIT_UNEXPECTED_FILE':
            return next(
              new ApiError(
                400,
                'Bad Request',
                (FILE_FIELDS as readonly string[]).includes(field ?? '')
                  ? `too many files in ${field} (selfie, idFront, idBack: one each; selfieFrames: at most ${MAX_SELFIE_FRAMES})`
                  : `unknown file field: ${field} (expected ${FILE_FIELDS.join(', ')})`,
                { code: 'unknown_field', ...where },
              ),
            );
          case 'LIMIT_FIELD_KEY':
          case 'LIMIT_FIELD_VALUE':
          case 'LIMIT_FIELD_COUNT':
          case 'LIMIT_PART_COUNT':
          case 'LIMIT_FILE_COUNT':
            return next(
              new ApiError(400, 'Bad Request', `upload rejected: ${err.message}${field ? ` (${field})` : ''}`, {
                code: 'invalid_upload',
                ...where,
              }),
            );
        }
      }
      const e = err as { message?: string };
      next(
        new ApiError(400, 'Bad Request', `the multipart body could not be read: ${e?.message ?? 'malformed'}`, { code: 'invalid_upload' }),
      );
    });
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received <= maxMultipartBytes || refused) return;
      refused = true;
      req.unpipe();
      refuseAfterDraining(tooLarge(maxMultipartBytes));
    });
  };

  router.post(
    PATH,
    jobRate,
    queueHasRoom,
    multipart,
    jsonBody,
    route(async (req, res) => {
      const ct = req.header('content-type') ?? '';
      let up: Upload;
      if (ct.startsWith('multipart/form-data')) {
        const files = (req.files ?? {}) as Record<string, Express.Multer.File[]>;
        const fields = (req.body ?? {}) as Record<string, unknown>;
        const expectedPerson = expectedPersonFromFields(fields);
        up = {
          expectedPerson,
          consent: () => consentFromFields(fields),
          files: Object.entries(files).flatMap(([field, list]) =>
            list.map((f, i) => ({
              kind: (field === 'selfieFrames' ? 'selfieFrame' : field) as NewJobImage['kind'],
              field: field === 'selfieFrames' ? `selfieFrames/${i}` : field,
              bytes: f.buffer,
            })),
          ),
        };
      } else if (/^application\/(vnd\.api\+)?json\b/.test(ct)) {
        const body = parseOr400(CreateVerificationJobJson, req.body);
        const a = body.data.attributes;
        const b64 = (s: string) => Buffer.from(s, 'base64');
        up = {
          expectedPerson: a.expectedPerson ?? null,
          consent: () => {
            if (!a.consent) throw consentRequired('consent');
            return a.consent;
          },
          files: [
            { kind: 'selfie', field: 'selfie', bytes: b64(a.selfie) },
            { kind: 'idFront', field: 'idFront', bytes: b64(a.idFront) },
            ...(a.idBack !== undefined ? [{ kind: 'idBack' as const, field: 'idBack', bytes: b64(a.idBack) }] : []),
            ...(a.selfieFrames ?? []).map((s, i) => ({ kind: 'selfieFrame' as const, field: `selfieFrames/${i}`, bytes: b64(s) })),
          ],
        };
      } else {
        throw new ApiError(415, 'Unsupported Media Type', `send multipart/form-data or application/vnd.api+json (got ${ct || 'none'})`, {
          code: 'unsupported_media_type',
        });
      }
      validateFiles(up.files, maxBytes);
      const consent = up.consent();

      const job = await createJob(
        deps.db,
        deps.config.keyRing,
        {
          orgId: req.orgId,
          expectedPerson: up.expectedPerson,
          consent: { ...consent, recordedByKeyId: req.apiKey.keyId },
          images: up.files.map((f, i) => ({
            kind: f.kind,
            position: f.kind === 'selfieFrame' ? i : 0,
            contentType: sniffImageType(f.bytes)!,
            bytes: f.bytes,
          })),
        },
        bounds,
      ).catch((err: unknown) => {
        throw err instanceof VerificationQueueFull ? queueFull(res, err) : err;
      });
      try {
        await deps.temporal.workflow.start('verificationJobWorkflow', {
          taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
          workflowId: `verification-job-${job.id}`,
          args: [{ jobId: job.id, orgId: req.orgId }],
        });
      } catch (err) {
        log.error('could not start the verification workflow', { jobId: job.id, error: (err as Error).message });
        await failJob(deps.db, req.orgId, job.id, {
          code: 'workflow_start_failed',
          message: 'the checks could not be scheduled; submit the job again',
        });
        throw new ApiError(503, 'Service Unavailable', 'the verification job could not be scheduled; try again', { code: 'unavailable' });
      }
      res.setHeader('Location', `${PATH}/${job.id}`);
      sendDocument(res, 202, toResource(job, await consentOfJob(deps.db, req.orgId, job.id)));
    }),
  );

  router.get(
    `${PATH}/:id`,
    route(async (req, res) => {
      const job = await findOr404(req);
      sendDocument(res, 200, toResource(job, await consentOfJob(deps.db, req.orgId, job.id)));
    }),
  );

  router.delete(
    `${PATH}/:id/images`,
    route(async (req, res) => {
      const { id } = await findOr404(req);
      await deleteJobImages(deps.db, deps.config.keyRing, req.orgId, id);
      res.status(204).end();
    }),
  );

  // Erasure on request (Stripe's `redact`; redactVerificationJob says what is kept): again answers the same.
  router.post(
    `${PATH}/:id/redact`,
    route(async (req, res) => {
      const { id } = await findOr404(req);
      await redactVerificationJob(deps.db, req.orgId, id);
      const job = await findOr404(req);
      sendDocument(res, 200, toResource(job, await consentOfJob(deps.db, req.orgId, id)));
    }),
  );

  async function findOr404(req: Request): Promise<JobRow> {
    const id = String(req.params.id);
    const notFound = new ApiError(404, 'Not Found', `verification job ${id} was not found`, { code: 'not_found' });
    if (!VerificationJobParams.safeParse({ id }).success) throw notFound;
    const job = await getJob(deps.db, deps.config.keyRing, req.orgId, id);
    if (!job) throw notFound;
    return job;
  }

  return router;
}
