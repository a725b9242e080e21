// The result of one verification job: THE contract the application workflow reads and the API
// returns (GET /verification-jobs/:id → attributes.result). One zod schema is the single source of
// the shape; the TypeScript types are inferred from it. Vocabulary: Stripe Identity's error codes
// (selfie_face_mismatch, document_expired, ...), Socure's decisions (accept / review / reject /
// resubmit with reason codes), Unit/Vouched's scores (faceMatch, selfie, id) and document types.
import { z } from 'zod';

export const DOCUMENT_TYPES = ['passport', 'drivers-license', 'identification', 'residence', 'unknown'] as const;
export type ResultDocumentType = (typeof DOCUMENT_TYPES)[number];

export const DECISIONS = ['accept', 'review', 'reject', 'resubmit'] as const;
export type DecisionValue = (typeof DECISIONS)[number];

/** Every check a job runs, in the order they appear in `checks[]`. */
export const CHECK_NAMES = [
  'selfie_image', // the selfie decodes and is of usable quality
  'selfie_face', // exactly one face in the selfie
  'document_image', // the ID photo(s) decode and are of usable quality
  'document_portrait', // the ID shows a portrait (selfie_document_missing_photo)
  'face_match', // selfie face vs document portrait (selfie_face_mismatch)
  'liveness', // passive presentation-attack check on the selfie (selfie_manipulated)
  'selfie_reuse', // the same selfie was not already used in another job of the org (fails as selfie_manipulated)
  'document_type', // the document is a recognised and allowed type
  'document_mrz', // the machine-readable zone (when the document has one) has valid check digits
  'document_expiry', // the document is not expired
  'expected_name', // the declared full name matches the document (document_name_mismatch)
  'expected_date_of_birth', // the declared date of birth matches the document (document_dob_mismatch)
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

/**
 * Failure codes and the decision each one leads to when it is the most severe failure.
 * `resubmit`: the end user can fix it by taking / uploading a new photo or another document
 * (the check's `reason` says how). `reject`: a confident negative. `review`: a signal a person
 * should look at (our passive liveness and reuse signals are never decisive alone).
 */
export const FAILURE_CODES = {
  // Image could not be used at all (decode errors from imageDecode.ts).
  image_empty: 'resubmit',
  image_unreadable: 'resubmit',
  image_too_large: 'resubmit',
  image_format_unsupported: 'resubmit',
  // Capture quality (imageQuality.ts) and face presence.
  image_too_dark: 'resubmit',
  image_too_bright: 'resubmit',
  image_blurred: 'resubmit',
  image_too_small: 'resubmit',
  face_too_small: 'resubmit',
  no_face_detected: 'resubmit',
  multiple_faces: 'resubmit',
  selfie_document_missing_photo: 'resubmit',
  // Face comparison and selfie integrity.
  selfie_face_mismatch: 'reject',
  /** Liveness flagged a presentation attack, or the same selfie was already used in another job of the org. */
  selfie_manipulated: 'review',
  selfie_unverified_other: 'review',
  // Document.
  document_expired: 'resubmit',
  document_type_not_supported: 'resubmit',
  document_mrz_invalid: 'review',
  document_unverified_other: 'review',
  // Declared person vs document.
  document_name_mismatch: 'review',
  document_dob_mismatch: 'review',
} as const satisfies Record<string, DecisionValue>;
export type FailureCode = keyof typeof FAILURE_CODES;

const unit = z.number().min(0).max(1);
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);

export const CheckResultSchema = z
  .object({
    name: z.enum(CHECK_NAMES),
    status: z.enum(['passed', 'failed', 'not_applicable']),
    /** A FailureCode when failed; null otherwise. */
    code: z.string().nullable(),
    /** Failed: a sentence the end user (or reviewer) can act on. Not applicable: why it did not run. */
    reason: z.string().nullable(),
  })
  .describe('One check; `code` is a failure code (e.g. selfie_face_mismatch) when `status` is failed.');
export type CheckResult = z.infer<typeof CheckResultSchema>;

export const DocumentFieldsSchema = z
  .object({
    fullName: z.string().nullable(),
    dateOfBirth: isoDate.nullable(),
    expirationDate: isoDate.nullable(),
    documentNumber: z.string().nullable(),
    /** The MRZ lines as read (only when an MRZ was found). */
    mrz: z.array(z.string()).optional(),
  })
  .describe('Fields read from the document (MRZ preferred, OCR text otherwise); null when not read.');
export type ResultDocumentFields = z.infer<typeof DocumentFieldsSchema>;

export const ScoresSchema = z.object({
  faceMatch: unit.describe(
    'Calibrated confidence 0..1 that the selfie and the document portrait are the same person; 0 when no comparison was possible.',
  ),
  selfie: unit.describe('Selfie score 0..1: liveness combined with selfie capture quality; 0 when no usable selfie face.'),
  id: unit.describe('Document confidence 0..1: type recognised, MRZ check digits valid, not expired.'),
  liveness: unit.describe('Probability 0..1 that the selfie is a live capture (not a print, screen or mask); 0 when not measured.'),
});
export type Scores = z.infer<typeof ScoresSchema>;

export const DecisionSchema = z.object({
  value: z.enum(DECISIONS),
  /** Failure codes behind the decision, most decisive first; empty on accept. */
  reasonCodes: z.array(z.string()),
});
export type Decision = z.infer<typeof DecisionSchema>;

export const VerificationResultSchema = z
  .object({
    documentType: z.enum(DOCUMENT_TYPES),
    /** ISO 3166-1 alpha-3 (ICAO code such as UTO for specimens), or null. */
    country: z.string().nullable(),
    fields: DocumentFieldsSchema,
    scores: ScoresSchema,
    checks: z.array(CheckResultSchema),
    decision: DecisionSchema,
    /** Raw measurements behind the scores, for reviewers and threshold tuning. No biometric data. */
    details: z.object({
      faceSimilarity: z.number().nullable(),
      faceMatchThreshold: z.number(),
      livenessThreshold: z.number(),
      selfieFaces: z.number().int().nullable(),
      documentFaces: z.number().int().nullable(),
      documentTypeConfidence: z.number().nullable(),
      mrzValid: z.boolean().nullable(),
      selfieFramesAnalysed: z.number().int(),
    }),
  })
  .describe('Result of a verification job: document type and fields, scores, per-check outcomes and the decision.');
export type VerificationResult = z.infer<typeof VerificationResultSchema>;

/** Why a job ended in status `failed` (internal errors after retries, images erased before it ran). */
export const JobFailureSchema = z.object({
  code: z.enum(['internal_error', 'images_deleted', 'job_not_found', 'workflow_start_failed', 'redacted']),
  message: z.string(),
});
export type JobFailure = z.infer<typeof JobFailureSchema>;
