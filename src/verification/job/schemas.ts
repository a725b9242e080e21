// Request and response shapes of /verification-jobs (JSON:API), registered in the OpenAPI document.
import { z } from 'zod';
import { registry } from '../../platform/openapi/registry';
import { DOCUMENT_TYPES, JobFailureSchema, VerificationResultSchema } from './result';
import { JOB_ID } from './repository';

/** At most this many `selfieFrames` per job. */
export const MAX_SELFIE_FRAMES = 5;

/** Multipart field names that carry files, and the text fields; anything else is a 400 naming the field. */
export const FILE_FIELDS = ['selfie', 'idFront', 'idBack', 'selfieFrames'] as const;
export const CONSENT_FIELDS = ['consentTextVersion', 'consentAcceptedAt', 'consentIpAddress', 'consentUserAgent'] as const;
export const TEXT_FIELDS = ['expectedPerson', 'fullName', 'dateOfBirth', ...CONSENT_FIELDS] as const;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine(
    (s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s),
    'must be a valid calendar date',
  );

export const ExpectedPersonSchema = z
  .object({
    fullName: z.string().trim().min(1, 'must not be empty').max(200).optional(),
    dateOfBirth: isoDate.optional(),
  })
  .strict()
  .refine((p) => p.fullName !== undefined || p.dateOfBirth !== undefined, 'give fullName and/or dateOfBirth')
  .describe('The applicant as declared: compared with the document (document_name_mismatch / document_dob_mismatch → review).');
export type ExpectedPersonInput = z.infer<typeof ExpectedPersonSchema>;

/**
 * The end user's consent to the capture, recorded with the job (every biometric capture needs
 * one, as every vendor's capture flow opens with a consent screen that cannot be skipped).
 */
export const ConsentSchema = z
  .object({
    textVersion: z
      .string()
      .trim()
      .min(1, 'must name the consent notice the user accepted')
      .max(64)
      .describe('The version of the consent notice shown to the user (your own identifier, e.g. "biometrics-2026-11").'),
    acceptedAt: z.iso
      .datetime({ offset: true })
      .refine((v) => Date.parse(v) <= Date.now() + 5 * 60_000, 'must not be in the future')
      .refine((v) => Date.parse(v) >= Date.now() - 24 * 3600_000, 'must be within the last 24 hours (consent is given for this capture)')
      .describe('When the user accepted it.'),
    ipAddress: z.union([z.ipv4(), z.ipv6()]).optional().describe("The user's IP address as your capture page saw it (stored sealed)."),
    userAgent: z.string().min(1).max(512).optional().describe("The user's browser or app (stored sealed)."),
  })
  .strict();
export type ConsentInput = z.infer<typeof ConsentSchema>;

/** Standard or URL-safe base64, optionally as a data URL (`data:image/jpeg;base64,...`). */
const base64Image = z
  .string()
  .transform((s) => s.replace(/^data:[\w/+.-]+;base64,/, '').replace(/\s+/g, ''))
  .refine((s) => /^[A-Za-z0-9+/_-]*={0,2}$/.test(s), 'must be base64')
  .describe('Image bytes (JPEG, PNG, WebP or HEIC) in base64.');

export const CreateVerificationJobJson = z
  .object({
    data: z
      .object({
        type: z.literal('verificationJob'),
        attributes: z
          .object({
            selfie: base64Image,
            idFront: base64Image,
            idBack: base64Image.optional(),
            selfieFrames: z.array(base64Image).max(MAX_SELFIE_FRAMES).optional(),
            expectedPerson: ExpectedPersonSchema.optional(),
            // Required (refused with consent_required when absent, after the other fields are checked).
            consent: ConsentSchema.optional(),
          })
          .strict(),
      })
      .strict(),
  })
  .strict();
export type CreateVerificationJobJson = z.infer<typeof CreateVerificationJobJson>;

const binary = z.string().openapi({ type: 'string', format: 'binary' });
export const CreateVerificationJobMultipart = z
  .object({
    selfie: binary.describe('The selfie (JPEG, PNG, WebP or HEIC).'),
    idFront: binary.describe('The front of the identity document (the side with the portrait).'),
    idBack: binary.optional().describe('The back of the document (ID cards often carry the MRZ there).'),
    selfieFrames: z
      .array(binary)
      .max(MAX_SELFIE_FRAMES)
      .optional()
      .describe('Extra selfie frames (repeat the field); liveness is the median over all frames.'),
    expectedPerson: z.string().optional().describe('JSON {"fullName": ..., "dateOfBirth": "YYYY-MM-DD"}; or send the two fields below.'),
    fullName: z.string().optional(),
    dateOfBirth: z.string().optional(),
    consentTextVersion: z.string().describe('Required: the consent notice the user accepted (see ConsentSchema).'),
    consentAcceptedAt: z.string().describe('Required: when, ISO 8601.'),
    consentIpAddress: z.string().optional(),
    consentUserAgent: z.string().optional(),
  })
  .openapi('CreateVerificationJobMultipart');

export const VerificationJobStatus = z.enum(['pending', 'completed', 'failed']);

export const VerificationJobResource = z.object({
  type: z.literal('verificationJob'),
  id: z.string().describe('`vj_` + 20 random base62 characters.'),
  attributes: z.object({
    status: VerificationJobStatus,
    result: VerificationResultSchema.optional().describe('Present once status is completed.'),
    failure: JobFailureSchema.optional().describe(
      'Present when status is failed (internal error after retries, images erased before the checks ran).',
    ),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
    imagesDeleted: z.boolean(),
    consent: z
      .object({ textVersion: z.string(), acceptedAt: z.string(), recordedAt: z.string() })
      .nullable()
      .describe("The user's consent recorded with the job (null for jobs from before consent was required)."),
    redaction: z
      .object({ status: z.literal('redacted'), redactedAt: z.string() })
      .optional()
      .describe('Present once the job was redacted (POST /verification-jobs/{id}/redact): images, document fields and selfie hash erased.'),
  }),
  links: z.object({ self: z.string() }),
});
export const VerificationJobDocument = z.object({ data: VerificationJobResource });
export type VerificationJobDocument = z.infer<typeof VerificationJobDocument>;

export const VerificationJobParams = z.object({ id: z.string().regex(JOB_ID, 'not a verification job id') });

// ---- OpenAPI
registry.register('VerificationResult', VerificationResultSchema);
registry.register('VerificationJobFailure', JobFailureSchema);
registry.register('VerificationJob', VerificationJobResource);
registry.register('DocumentType', z.enum(DOCUMENT_TYPES));

const errorDoc = z.object({
  errors: z.array(
    z.object({
      status: z.string(),
      title: z.string(),
      detail: z.string(),
      code: z.string().optional(),
      source: z.object({ pointer: z.string().optional(), parameter: z.string().optional() }).optional(),
    }),
  ),
});
const jsonApi = (schema: z.ZodType) => ({ 'application/vnd.api+json': { schema } });
const err = (description: string) => ({ description, content: jsonApi(errorDoc) });

registry.registerPath({
  method: 'post',
  path: '/verification-jobs',
  tags: ['Verification jobs'],
  summary: 'Start a selfie + ID verification job',
  description:
    'Stores the images (org-scoped; erase them with DELETE /verification-jobs/{id}/images) and runs the checks asynchronously. ' +
    'Poll GET /verification-jobs/{id} until status is completed. Each file is limited to MAX_UPLOAD_BYTES; a JSON body to 15 MB ' +
    '(send larger images as multipart). Per org: at most VERIFICATION_JOBS_PER_MINUTE jobs a minute and VERIFICATION_QUEUE_PER_ORG unfinished.',
  request: {
    body: {
      required: true,
      content: { 'multipart/form-data': { schema: CreateVerificationJobMultipart }, ...jsonApi(CreateVerificationJobJson) },
    },
  },
  responses: {
    202: { description: 'The job, status pending.', content: jsonApi(VerificationJobDocument) },
    400: err('Missing / empty / non-image file, unknown field, invalid expectedPerson.'),
    413: err('A file or the request is larger than the limit.'),
    415: err('Neither multipart/form-data nor JSON.'),
    429: err('Over the rate limit (rate_limited) or the verification queue is full (verification_queue_full); see Retry-After.'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/verification-jobs/{id}',
  tags: ['Verification jobs'],
  summary: 'A verification job and, once completed, its result',
  request: { params: VerificationJobParams },
  responses: { 200: { description: 'The job.', content: jsonApi(VerificationJobDocument) }, 404: err('No such job in this org.') },
});
registry.registerPath({
  method: 'delete',
  path: '/verification-jobs/{id}/images',
  tags: ['Verification jobs'],
  summary: "Erase the job's images (the result is kept)",
  request: { params: VerificationJobParams },
  responses: { 204: { description: 'Erased (idempotent).' }, 404: err('No such job in this org.') },
});
registry.registerPath({
  method: 'post',
  path: '/verification-jobs/{id}/redact',
  tags: ['Verification jobs'],
  summary: "Erase the job's personal data (irreversible)",
  description:
    "Deletes the images and erases the expected person, the fields read from the document (name, date of birth, number, country), the selfie hash and the consent's client address and agent; status, decision, scores, checks and timestamps stay, and `redaction` is added. A pending job ends as failed (code `redacted`). A redacted job verifies no document. Redacting again answers the same.",
  request: { params: VerificationJobParams },
  responses: { 200: { description: 'The redacted job.', content: jsonApi(VerificationJobDocument) }, 404: err('No such job in this org.') },
});
