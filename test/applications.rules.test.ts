// The pure decision rules behind the workflows (no engine needed): required documents,
// initial evaluation, selfie thresholds and the supported-document rule, status aggregation.
import { describe, expect, it } from 'vitest';
import { ageOn, evaluateApplicationRules } from '../src/applications/rules/evaluation';
import { requiredDocumentTypes } from '../src/applications/rules/requiredDocuments';
import { evaluateSelfie, type VerificationJobResult } from '../src/applications/rules/selfieEvaluation';
import { aggregateStatus } from '../src/applications/rules/status';
import { derivePersonStatus } from '../src/applications/rules/status';

const result = (o: Partial<VerificationJobResult> = {}): VerificationJobResult => ({
  documentType: 'drivers-license',
  scores: { faceMatch: 0.95, selfie: 0.9, id: 0.9 },
  decision: { value: 'accept', reasonCodes: [] },
  ...o,
});

describe('decision rules', () => {
  it('required documents follow useSelfieVerification and requireIdVerification', () => {
    expect(requiredDocumentTypes(undefined, true)).toEqual(['IdDocument']);
    expect(requiredDocumentTypes({ useSelfieVerification: 'Never' }, false)).toEqual(['Passport']);
    expect(requiredDocumentTypes({ useSelfieVerification: 'ReplaceIdentification' }, true)).toEqual(['SelfieVerification']);
    expect(requiredDocumentTypes({ useSelfieVerification: 'ReplaceIdentification', requireIdVerification: true }, false)).toEqual([
      'Passport',
      'SelfieVerification',
    ]);
    expect(requiredDocumentTypes({ useSelfieVerification: 'Always' }, true)).toEqual(['IdDocument', 'SelfieVerification']);
  });

  it('initial evaluation: age on the day, ID-theft score, duplicates; rules are configurable', () => {
    expect(ageOn('2008-06-15', '2026-06-14')).toBe(17);
    expect(ageOn('2008-06-15', '2026-06-15')).toBe(18);
    const p = { personId: '1', label: 'Applicant (A B)', dateOfBirth: '2008-06-15', hasDuplicateIdentity: false };
    expect(evaluateApplicationRules({ persons: [p] }, '2026-06-14')).toMatchObject({ outcome: 'Denied', reasonCode: 'Underage' });
    expect(
      evaluateApplicationRules({ persons: [p] }, '2026-06-14', {
        minimumAge: 16,
        idTheftScoreDenyAbove: 900,
        reviewDuplicateIdentity: true,
      }),
    ).toEqual({ outcome: 'Continue' });
    const adult = { ...p, dateOfBirth: '1990-01-01' };
    expect(evaluateApplicationRules({ idTheftScore: 901, persons: [adult] }, '2026-06-14')).toMatchObject({
      outcome: 'Denied',
      reasonCode: 'IdTheftScore',
    });
    expect(evaluateApplicationRules({ idTheftScore: 900, persons: [adult] }, '2026-06-14')).toEqual({ outcome: 'Continue' });
    expect(evaluateApplicationRules({ persons: [{ ...adult, hasDuplicateIdentity: true }] }, '2026-06-14')).toMatchObject({
      outcome: 'PendingReview',
      reasonCode: 'DuplicateIdentity',
    });
  });

  it('selfie evaluation: supported documents per person, thresholds and the job decision', () => {
    const us = { usPerson: true };
    const nonUs = { usPerson: false };
    expect(evaluateSelfie(result(), us)).toMatchObject({ documentStatus: 'Approved', verdict: 'Continue' });
    expect(evaluateSelfie(result({ documentType: 'identification' }), us).documentStatus).toBe('Approved');
    expect(evaluateSelfie(result({ documentType: 'residence' }), us)).toMatchObject({
      documentStatus: 'Invalid',
      verdict: 'Resubmit',
      reasonCode: 'UnsupportedDocumentType',
    });
    expect(evaluateSelfie(result({ documentType: 'passport' }), us).reasonCode).toBe('UnsupportedDocumentType');
    expect(evaluateSelfie(result({ documentType: 'drivers-license' }), nonUs).reasonCode).toBe('UnsupportedDocumentType');
    expect(evaluateSelfie(result({ documentType: 'passport' }), nonUs).documentStatus).toBe('Approved');
    // the supported-document rule comes first: even a rejected job of the wrong type asks for a new document
    expect(
      evaluateSelfie(result({ documentType: 'unknown', decision: { value: 'reject', reasonCodes: ['selfie_face_mismatch'] } }), us).verdict,
    ).toBe('Resubmit');
    expect(evaluateSelfie(result({ decision: { value: 'reject', reasonCodes: ['selfie_face_mismatch'] } }), us)).toMatchObject({
      verdict: 'Denied',
      reasonCode: 'selfie_face_mismatch',
    });
    expect(evaluateSelfie(result({ scores: { faceMatch: 0.2, selfie: 0.9, id: 0.9 } }), us)).toMatchObject({
      verdict: 'Denied',
      reasonCode: 'faceMatch_score_below_threshold',
    });
    expect(evaluateSelfie(result({ scores: { faceMatch: 0.6, selfie: 0.9, id: 0.9 } }), us)).toMatchObject({
      documentStatus: 'PendingReview',
      verdict: 'Continue',
    });
    expect(evaluateSelfie(result({ decision: { value: 'review', reasonCodes: ['selfie_manipulated'] } }), us)).toMatchObject({
      documentStatus: 'PendingReview',
      reasonCode: 'selfie_manipulated',
    });
    expect(evaluateSelfie(result({ decision: { value: 'resubmit', reasonCodes: ['image_blurred'] } }), us)).toMatchObject({
      documentStatus: 'Invalid',
      verdict: 'Resubmit',
      reasonCode: 'image_blurred',
    });
    // an unusable capture scores 0 on what it could not measure: the applicant is asked again, not denied
    expect(
      evaluateSelfie(
        result({
          documentType: 'unknown',
          scores: { faceMatch: 0, selfie: 0, id: 0 },
          decision: { value: 'resubmit', reasonCodes: ['no_face_detected'] },
        }),
        us,
      ),
    ).toMatchObject({ documentStatus: 'Invalid', verdict: 'Resubmit', reasonCode: 'no_face_detected' });
    const strict = { pass: { faceMatch: 0.99, selfie: 0.7, id: 0.7 }, fail: { faceMatch: 0.4, selfie: 0.3, id: 0.3 } };
    expect(evaluateSelfie(result(), us, strict).documentStatus).toBe('PendingReview');
  });

  it('selfie evaluation: the document must belong to the applicant (name and date of birth)', () => {
    const peter = { usPerson: true, fullName: 'Peter Parker', dateOfBirth: '1990-01-15' };
    const onDoc = (fullName: string | null, dateOfBirth: string | null) => result({ fields: { fullName, dateOfBirth } });
    expect(evaluateSelfie(onDoc('PARKER PETER', '1990-01-15'), peter)).toMatchObject({ documentStatus: 'Approved' });
    expect(evaluateSelfie(onDoc('MARY JANE WATSON', '1990-01-15'), peter)).toMatchObject({
      documentStatus: 'PendingReview',
      reasonCode: 'document_name_mismatch',
    });
    expect(evaluateSelfie(onDoc('PETER PARKER', '1991-01-15'), peter)).toMatchObject({
      documentStatus: 'PendingReview',
      reasonCode: 'document_dob_mismatch',
    });
    expect(evaluateSelfie(onDoc(null, null), peter)).toMatchObject({
      documentStatus: 'PendingReview',
      reasonCode: 'document_name_mismatch',
    });
    // a clear failure stays a failure whoever the document names
    expect(
      evaluateSelfie(
        result({ fields: { fullName: 'MARY JANE WATSON' }, decision: { value: 'reject', reasonCodes: ['selfie_face_mismatch'] } }),
        peter,
      ).verdict,
    ).toBe('Denied');
  });

  it('person and application statuses aggregate their parts', () => {
    expect(derivePersonStatus(['Required', 'Approved'], { denied: false })).toBe('AwaitingDocuments');
    expect(derivePersonStatus(['ReceivedFront'], { denied: false })).toBe('AwaitingDocuments');
    expect(derivePersonStatus(['PendingReview', 'Approved'], { denied: false })).toBe('PendingReview');
    expect(derivePersonStatus(['Approved', 'Approved'], { denied: false })).toBe('Approved');
    expect(derivePersonStatus(['Approved'], { denied: true })).toBe('Denied');
    expect(aggregateStatus(['Approved', 'AwaitingDocuments', 'PendingReview'])).toBe('AwaitingDocuments');
    expect(aggregateStatus(['Approved', 'PendingReview'])).toBe('PendingReview');
    expect(aggregateStatus(['Approved', 'Approved'])).toBe('Approved');
    expect(aggregateStatus(['Approved', 'Denied', 'AwaitingDocuments'])).toBe('Denied');
  });
});
