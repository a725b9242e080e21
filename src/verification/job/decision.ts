// Pure decision logic: what the check modules measured → per-check outcomes → scores and a
// decision (accept / review / reject / resubmit) with reason codes. No I/O, no models: every
// rule here is unit-tested in test/verificationJobsDecision.test.ts.
//
// Precedence (the most severe failure decides; reasonCodes lists every failure, most decisive first):
//  1. capture problems (unreadable image, no / several faces, too dark / blurred / small, no portrait
//     on the document) → resubmit: the face comparison is not trustworthy, the end user can fix it;
//  2. selfie_face_mismatch → reject;
//  3. document problems the user can fix with another document (expired, type not allowed) → resubmit;
//  4. signals for a person (liveness, reused selfie, unsure face match, MRZ, name / date of birth) → review;
//  5. otherwise accept.
import {
  FAILURE_CODES,
  type CheckName,
  type CheckResult,
  type Decision,
  type DecisionValue,
  type FailureCode,
  type ResultDocumentType,
  type Scores,
} from './result';

export interface ImageOutcome {
  /** Set when the bytes could not be decoded (code from imageDecode.ts). */
  error?: { code: string; reason: string };
  /** Capture-quality issues (imageQuality.ts), already phrased for the end user. */
  qualityIssues?: { code: string; reason: string }[];
}

export interface FaceOutcome {
  outcome: 'ok' | 'no_face' | 'multiple_faces' | 'face_too_small';
  faces: number;
  reason?: string;
}

export interface MatchOutcome {
  similarity: number;
  confidence: number;
  threshold: number;
}

export interface LivenessOutcome {
  /** Live probability 0..1 (median over the selfie and any selfie frames). */
  score: number;
  threshold: number;
  /** Selfie frames whose face is not the selfie's person (frames spliced from someone else). */
  framesOfAnotherPerson?: number;
}

export interface DocumentOutcome {
  documentType: ResultDocumentType;
  /** Classifier confidence 0..1. */
  confidence: number;
  /** MRZ document code (e.g. 'P', 'ID', 'V'), when an MRZ was read. */
  mrzDocumentCode: string | null;
  /** null: no MRZ read. */
  mrzValid: boolean | null;
  /** null: expiry date not read. */
  expired: boolean | null;
  fullNameRead: boolean;
  dateOfBirthRead: boolean;
}

export interface ExpectedPersonOutcome {
  /** null: no name was declared. */
  nameMatches: boolean | null;
  nameSimilarity: number | null;
  /** null: not declared or not read on the document. */
  dateOfBirthMatches: boolean | null;
  nameDeclared: boolean;
  dateOfBirthDeclared: boolean;
}

export interface CheckOutcomes {
  selfieImage: ImageOutcome;
  /** null when the selfie image could not be decoded. */
  selfieFace: FaceOutcome | null;
  /** idFront and (if sent) idBack. */
  documentImage: ImageOutcome;
  /** Portrait search on idFront; null when it could not be decoded. */
  documentFace: FaceOutcome | null;
  faceMatch: MatchOutcome | null;
  liveness: LivenessOutcome | null;
  /** Another job of the same org with (nearly) the same selfie; null: not reused; undefined: not checked. */
  reusedSelfie?: { otherJobId: string; distance: number } | null;
  /** null when no document image could be analysed. */
  document: DocumentOutcome | null;
  /** Document types the caller accepts (default: every recognised type). */
  allowedDocumentTypes?: readonly ResultDocumentType[];
  /** Set when the caller declared the expected person. */
  expectedPerson?: ExpectedPersonOutcome | null;
}

/** Below the face-match threshold by less than this (cosine), the comparison is "unsure": review, not reject. */
export const FACE_MATCH_REVIEW_MARGIN = 0.05;
export const DEFAULT_ALLOWED_DOCUMENT_TYPES: readonly ResultDocumentType[] = ['passport', 'drivers-license', 'identification', 'residence'];

const passed = (name: CheckName): CheckResult => ({ name, status: 'passed', code: null, reason: null });
const failed = (name: CheckName, code: FailureCode, reason: string): CheckResult => ({ name, status: 'failed', code, reason });
const na = (name: CheckName, reason: string): CheckResult => ({ name, status: 'not_applicable', code: null, reason });

const FACE_CODES: Record<Exclude<FaceOutcome['outcome'], 'ok'>, FailureCode> = {
  no_face: 'no_face_detected',
  multiple_faces: 'multiple_faces',
  face_too_small: 'face_too_small',
};

function imageCheck(name: CheckName, label: string, img: ImageOutcome, qualityCounts: boolean): CheckResult {
  if (img.error) {
    const code = (img.error.code in FAILURE_CODES ? img.error.code : 'image_unreadable') as FailureCode;
    return failed(name, code, `${label}: ${img.error.reason}`);
  }
  const issue = qualityCounts ? (img.qualityIssues ?? []).find((i) => i.code in FAILURE_CODES) : undefined;
  if (issue) return failed(name, issue.code as FailureCode, `${label}: ${issue.reason}`);
  return passed(name);
}

/** Turns what the modules measured into the result's `checks[]` (in CHECK_NAMES order). */
export function buildChecks(o: CheckOutcomes): CheckResult[] {
  const checks: CheckResult[] = [];
  const selfieUsable = !o.selfieImage.error && o.selfieFace?.outcome === 'ok';
  const portraitUsable = !o.documentImage.error && o.documentFace?.outcome === 'ok';
  const match = o.faceMatch;
  const matchFailed = !!match && match.similarity < match.threshold;

  // Selfie: capture quality always counts (a blurred or dark selfie weakens every face check).
  checks.push(imageCheck('selfie_image', 'Selfie', o.selfieImage, true));
  if (!o.selfieFace) checks.push(na('selfie_face', 'The selfie could not be decoded.'));
  else if (o.selfieFace.outcome === 'ok') checks.push(passed('selfie_face'));
  else
    checks.push(failed('selfie_face', FACE_CODES[o.selfieFace.outcome], o.selfieFace.reason ?? 'The selfie must show exactly one face.'));

  // Document image: quality issues count only when something they can explain went wrong (the
  // portrait did not match or was not found, or the document was not recognised) — specimen-grade
  // scans often measure "soft" yet read perfectly.
  const documentTrouble = matchFailed || !portraitUsable || !o.document || o.document.documentType === 'unknown';
  checks.push(imageCheck('document_image', 'ID photo', o.documentImage, documentTrouble));
  if (!o.documentFace) checks.push(na('document_portrait', 'The ID photo could not be decoded.'));
  else if (o.documentFace.outcome === 'ok') checks.push(passed('document_portrait'));
  else if (o.documentFace.outcome === 'face_too_small')
    checks.push(failed('document_portrait', 'face_too_small', o.documentFace.reason ?? 'The portrait on the document is too small.'));
  else if (o.documentFace.outcome === 'no_face') {
    checks.push(
      failed(
        'document_portrait',
        'selfie_document_missing_photo',
        'No portrait was found on the document. Photograph the side with your photo, flat and fully in the frame.',
      ),
    );
  } else checks.push(passed('document_portrait')); // several faces on a document: the main portrait was used

  if (!selfieUsable || !portraitUsable || !match) {
    checks.push(na('face_match', 'The selfie and the document portrait could not both be analysed.'));
  } else if (match.similarity >= match.threshold) {
    checks.push(passed('face_match'));
  } else if (match.similarity >= match.threshold - FACE_MATCH_REVIEW_MARGIN) {
    checks.push(
      failed(
        'face_match',
        'selfie_unverified_other',
        'The selfie and the document portrait could not be matched with confidence; a reviewer will compare them.',
      ),
    );
  } else {
    checks.push(failed('face_match', 'selfie_face_mismatch', 'The face in the selfie does not match the portrait on the document.'));
  }

  if (!selfieUsable || !o.liveness) checks.push(na('liveness', 'No usable selfie face to check.'));
  else if (o.liveness.framesOfAnotherPerson) {
    checks.push(failed('liveness', 'selfie_manipulated', 'The selfie frames do not all show the same person as the selfie.'));
  } else if (o.liveness.score < o.liveness.threshold) {
    checks.push(
      failed(
        'liveness',
        'selfie_manipulated',
        'The selfie looks like a photo of a printed picture or a screen rather than a live capture.',
      ),
    );
  } else checks.push(passed('liveness'));

  if (o.reusedSelfie === undefined || !selfieUsable) checks.push(na('selfie_reuse', 'Not checked.'));
  else if (o.reusedSelfie)
    checks.push(
      failed(
        'selfie_reuse',
        'selfie_manipulated',
        `The same selfie was already submitted in verification job ${o.reusedSelfie.otherJobId}.`,
      ),
    );
  else checks.push(passed('selfie_reuse'));

  const d = o.document;
  const allowed = o.allowedDocumentTypes ?? DEFAULT_ALLOWED_DOCUMENT_TYPES;
  if (!d) {
    for (const n of ['document_type', 'document_mrz', 'document_expiry'] as const)
      checks.push(na(n, 'The ID photo could not be analysed.'));
  } else {
    if (d.documentType === 'unknown') {
      if (d.mrzDocumentCode?.startsWith('V'))
        checks.push(
          failed(
            'document_type',
            'document_type_not_supported',
            'A visa is not accepted. Upload a passport, driving licence or identity card.',
          ),
        );
      else
        checks.push(
          failed(
            'document_type',
            'document_unverified_other',
            'The document was not recognised as a passport, driving licence, identity card or residence permit.',
          ),
        );
    } else if (!allowed.includes(d.documentType)) {
      checks.push(
        failed(
          'document_type',
          'document_type_not_supported',
          `A ${d.documentType} is not accepted here. Upload one of: ${allowed.join(', ')}.`,
        ),
      );
    } else checks.push(passed('document_type'));

    if (d.mrzValid === null) checks.push(na('document_mrz', 'No machine-readable zone was read.'));
    else if (d.mrzValid) checks.push(passed('document_mrz'));
    else checks.push(failed('document_mrz', 'document_mrz_invalid', 'The check digits of the machine-readable zone do not validate.'));

    if (d.expired === null) checks.push(na('document_expiry', 'The expiry date could not be read.'));
    else if (d.expired)
      checks.push(failed('document_expiry', 'document_expired', 'The document has expired. Upload a valid, unexpired document.'));
    else checks.push(passed('document_expiry'));
  }

  const e = o.expectedPerson;
  if (!e || !e.nameDeclared) checks.push(na('expected_name', 'No expected name was given.'));
  else if (!d || !d.fullNameRead)
    checks.push(
      failed(
        'expected_name',
        'document_unverified_other',
        "The name on the document could not be read to compare it with the applicant's name.",
      ),
    );
  else if (e.nameMatches) checks.push(passed('expected_name'));
  else checks.push(failed('expected_name', 'document_name_mismatch', "The name on the document does not match the applicant's name."));

  if (!e || !e.dateOfBirthDeclared) checks.push(na('expected_date_of_birth', 'No expected date of birth was given.'));
  else if (e.dateOfBirthMatches === null) checks.push(na('expected_date_of_birth', 'The date of birth could not be read on the document.'));
  else if (e.dateOfBirthMatches) checks.push(passed('expected_date_of_birth'));
  else
    checks.push(
      failed('expected_date_of_birth', 'document_dob_mismatch', "The date of birth on the document does not match the applicant's."),
    );

  return checks;
}

/** Checks whose resubmit codes mean "the capture is unusable": they outrank a face mismatch. */
const CAPTURE_CHECKS: ReadonlySet<CheckName> = new Set(['selfie_image', 'selfie_face', 'document_image', 'document_portrait']);

function severity(c: CheckResult): number {
  const value = FAILURE_CODES[c.code as FailureCode] ?? 'review';
  if (value === 'resubmit' && CAPTURE_CHECKS.has(c.name)) return 0;
  return { reject: 1, resubmit: 2, review: 3, accept: 4 }[value];
}
const VALUE_BY_SEVERITY: DecisionValue[] = ['resubmit', 'reject', 'resubmit', 'review', 'accept'];

/** The decision and its reason codes (unique, most decisive first; empty on accept). */
export function decide(checks: readonly CheckResult[]): Decision {
  const failures = checks.filter((c) => c.status === 'failed' && c.code);
  if (!failures.length) return { value: 'accept', reasonCodes: [] };
  const ordered = failures.map((c, i) => ({ c, s: severity(c), i })).sort((a, b) => a.s - b.s || a.i - b.i);
  return { value: VALUE_BY_SEVERITY[ordered[0].s], reasonCodes: [...new Set(ordered.map((x) => x.c.code!))] };
}

const clamp01 = (x: number) => (Number.isFinite(x) ? Math.min(1, Math.max(0, x)) : 0);

/**
 * Selfie capture quality 0..1 from imageQuality.ts measurements: face blur (full up to 0.45,
 * falling to 0 at the blur threshold), face brightness (full inside the comfortable band, falling to
 * 0 at the too-dark / too-bright thresholds) and face size (saturates at 2x the minimum), combined
 * by geometric mean. Any quality issue caps it at 0.3.
 */
export function selfieQualityScore(
  m: { faceBlur?: number; faceBrightness?: number; faceSize?: number },
  t: { maxFaceBlur: number; minFaceBrightness: number; maxFaceBrightness: number; minFaceSize: number },
  hasIssues: boolean,
): number {
  if (m.faceBrightness === undefined || m.faceSize === undefined) return 0;
  const sharpFrom = Math.min(0.45, t.maxFaceBlur - 0.05);
  const sharp =
    m.faceBlur === undefined ? 1 : m.faceBlur <= sharpFrom ? 1 : clamp01((t.maxFaceBlur - m.faceBlur) / (t.maxFaceBlur - sharpFrom));
  const band = 25;
  const b = m.faceBrightness;
  const bright =
    b < t.minFaceBrightness + band
      ? clamp01((b - t.minFaceBrightness) / band)
      : b > t.maxFaceBrightness - band
        ? clamp01((t.maxFaceBrightness - b) / band)
        : 1;
  const size = clamp01(m.faceSize / (2 * t.minFaceSize));
  const q = Math.cbrt(Math.max(sharp, 0.01) * Math.max(bright, 0.01) * Math.max(size, 0.01));
  return round3(hasIssues ? Math.min(q, 0.3) : q);
}

/**
 * Scores (all 0..1): faceMatch = calibrated confidence; liveness = live probability;
 * selfie = geometric mean of liveness and selfie quality; id = 0.4 × type confidence (0 when not
 * recognised) + 0.3 × MRZ (valid 1, none read 0.5, invalid 0) + 0.3 × expiry (valid 1, unknown 0.3, expired 0).
 */
export function computeScores(o: CheckOutcomes, selfieQuality: number): Scores {
  const selfieUsable = !o.selfieImage.error && o.selfieFace?.outcome === 'ok';
  const portraitUsable = !o.documentImage.error && o.documentFace?.outcome === 'ok';
  const faceMatch = selfieUsable && portraitUsable && o.faceMatch ? clamp01(o.faceMatch.confidence) : 0;
  const liveness = selfieUsable && o.liveness ? clamp01(o.liveness.score) : 0;
  const selfie = selfieUsable ? Math.sqrt(liveness * clamp01(selfieQuality)) : 0;
  let id = 0;
  const d = o.document;
  if (d) {
    const type = d.documentType === 'unknown' ? 0 : clamp01(d.confidence);
    const mrz = d.mrzValid === null ? 0.5 : d.mrzValid ? 1 : 0;
    const expiry = d.expired === null ? 0.3 : d.expired ? 0 : 1;
    id = 0.4 * type + 0.3 * mrz + 0.3 * expiry;
  }
  return { faceMatch: round3(faceMatch), selfie: round3(selfie), id: round3(id), liveness: round3(liveness) };
}

const round3 = (x: number) => Math.round(clamp01(x) * 1000) / 1000;
