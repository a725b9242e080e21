// Turns a completed verification job's result into a document status and what it means for
// the person: thresholds on the scores, the job's own decision, and Unit's supported-document
// rule (US person → drivers-license or identification; non-US person → passport).
import { compareExpectedPerson } from '../../verification/document/fields';
import type { DocumentStatus, PersonVerdict } from '../domain';

export interface ScoreThresholds {
  faceMatch: number;
  selfie: number;
  id: number;
}
export interface SelfieThresholds {
  /** At or above all of these (and a job decision of accept): the document is approved. */
  pass: ScoreThresholds;
  /** Below any of these: a clear failure, the person is denied. */
  fail: ScoreThresholds;
}

export const DEFAULT_SELFIE_THRESHOLDS: SelfieThresholds = {
  pass: { faceMatch: 0.8, selfie: 0.7, id: 0.7 },
  fail: { faceMatch: 0.4, selfie: 0.3, id: 0.3 },
};

export type VerifiedDocumentType = 'passport' | 'drivers-license' | 'identification' | 'residence' | 'unknown';

export interface VerificationJobResult {
  documentType: VerifiedDocumentType | string;
  scores: { faceMatch: number; selfie: number; id: number; liveness?: number };
  checks?: Array<{ name: string; status: 'passed' | 'failed' | 'not_applicable'; code?: string; reason?: string }>;
  decision: { value: 'accept' | 'review' | 'reject' | 'resubmit'; reasonCodes?: string[] };
  fields?: Record<string, unknown>;
}

export interface SelfieEvaluation {
  documentStatus: Extract<DocumentStatus, 'Approved' | 'Invalid' | 'PendingReview'>;
  verdict: PersonVerdict;
  reasonCode: string | null;
  reason: string | null;
}

export function supportedDocumentTypes(usPerson: boolean): VerifiedDocumentType[] {
  return usPerson ? ['drivers-license', 'identification'] : ['passport'];
}

const SCORES = ['faceMatch', 'selfie', 'id'] as const;

/** The person the document must belong to: a job proves the identity on *its* document only. */
export interface PersonOnApplication {
  usPerson: boolean;
  fullName?: string;
  dateOfBirth?: string;
}

export function evaluateSelfie(
  result: VerificationJobResult,
  person: PersonOnApplication,
  thresholds: SelfieThresholds = DEFAULT_SELFIE_THRESHOLDS,
): SelfieEvaluation {
  const codes = result.decision.reasonCodes ?? [];
  // An unusable capture (blurred, no face, unreadable) scores 0 everywhere: ask again, don't deny.
  if (result.decision.value === 'resubmit') {
    return {
      documentStatus: 'Invalid',
      verdict: 'Resubmit',
      reasonCode: codes[0] ?? 'PoorQuality',
      reason: `selfie verification must be repeated: ${codes.join(', ') || 'poor quality'}`,
    };
  }
  const supported = supportedDocumentTypes(person.usPerson);
  if (!supported.includes(result.documentType as VerifiedDocumentType)) {
    return {
      documentStatus: 'Invalid',
      verdict: 'Resubmit',
      reasonCode: 'UnsupportedDocumentType',
      reason: `${person.usPerson ? 'a US person (with an SSN)' : 'a non-US person (with a passport)'} must present ${supported.join(' or ')}; the verification found ${result.documentType}`,
    };
  }
  const below = SCORES.filter((k) => !(Number(result.scores?.[k]) >= thresholds.fail[k]));
  if (result.decision.value === 'reject' || below.length > 0) {
    const reasonCode = codes[0] ?? `${below[0]}_score_below_threshold`;
    const detail = [...codes, ...below.map((k) => `${k} ${result.scores?.[k]} < ${thresholds.fail[k]}`)].join(', ');
    return { documentStatus: 'Invalid', verdict: 'Denied', reasonCode, reason: `selfie verification failed: ${detail}` };
  }
  // The selfie matches the document; the document must match the applicant, or a valid job for
  // someone else's face and ID would verify this person. Unreadable or different → a human looks.
  if (person.fullName) {
    const fields = (result.fields ?? {}) as { fullName?: string | null; dateOfBirth?: string | null };
    const cmp = compareExpectedPerson(
      { fullName: person.fullName, dateOfBirth: person.dateOfBirth ?? null },
      { fullName: fields.fullName ?? null, dateOfBirth: fields.dateOfBirth ?? null },
    );
    if (!cmp.nameMatches || cmp.dateOfBirthMatches !== true) {
      const reasonCode = !cmp.nameMatches ? 'document_name_mismatch' : 'document_dob_mismatch';
      const what =
        !fields.fullName || !fields.dateOfBirth ? 'could not be read from the document' : 'on the document differ from the applicant';
      return {
        documentStatus: 'PendingReview',
        verdict: 'Continue',
        reasonCode,
        reason: `manual review: the name or date of birth ${what}`,
      };
    }
  }
  const allPass = SCORES.every((k) => Number(result.scores?.[k]) >= thresholds.pass[k]);
  if (result.decision.value === 'accept' && allPass)
    return { documentStatus: 'Approved', verdict: 'Continue', reasonCode: null, reason: null };
  return {
    documentStatus: 'PendingReview',
    verdict: 'Continue',
    reasonCode: codes[0] ?? null,
    reason: codes.length ? `manual review: ${codes.join(', ')}` : 'manual review: scores between thresholds',
  };
}
