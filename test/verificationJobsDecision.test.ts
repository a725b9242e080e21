// The decision rules of a verification job (pure: no models, no database).
import { describe, expect, it } from 'vitest';
import {
  buildChecks,
  computeScores,
  decide,
  FACE_MATCH_REVIEW_MARGIN,
  selfieQualityScore,
  type CheckOutcomes,
} from '../src/verification/job/decision';
import { CHECK_NAMES, FAILURE_CODES } from '../src/verification/job/result';

const T = 0.35;
/** Everything fine: a live selfie that matches a valid, unexpired passport. */
const good = (over: Partial<CheckOutcomes> = {}): CheckOutcomes => ({
  selfieImage: { qualityIssues: [] },
  selfieFace: { outcome: 'ok', faces: 1 },
  documentImage: { qualityIssues: [] },
  documentFace: { outcome: 'ok', faces: 1 },
  faceMatch: { similarity: 0.8, confidence: 0.99, threshold: T },
  liveness: { score: 0.97, threshold: 0.5 },
  reusedSelfie: null,
  document: {
    documentType: 'passport',
    confidence: 0.99,
    mrzDocumentCode: 'P',
    mrzValid: true,
    expired: false,
    fullNameRead: true,
    dateOfBirthRead: true,
  },
  expectedPerson: null,
  ...over,
});
const run = (o: CheckOutcomes) => decide(buildChecks(o));
const check = (o: CheckOutcomes, name: string) => buildChecks(o).find((c) => c.name === name)!;

describe('verification decision', () => {
  it('accepts a live selfie that matches a valid document, with no reason codes and every check listed once', () => {
    const checks = buildChecks(good());
    expect(checks.map((c) => c.name)).toEqual([...CHECK_NAMES]);
    expect(decide(checks)).toEqual({ value: 'accept', reasonCodes: [] });
  });

  it('rejects a face mismatch, and routes a near-threshold comparison to review instead', () => {
    expect(run(good({ faceMatch: { similarity: 0.05, confidence: 0.001, threshold: T } }))).toEqual({
      value: 'reject',
      reasonCodes: ['selfie_face_mismatch'],
    });
    const unsure = run(good({ faceMatch: { similarity: T - FACE_MATCH_REVIEW_MARGIN / 2, confidence: 0.4, threshold: T } }));
    expect(unsure).toEqual({ value: 'review', reasonCodes: ['selfie_unverified_other'] });
  });

  it('asks for a new capture (resubmit) when the selfie is unusable, even if the comparison failed', () => {
    const blurred = good({
      selfieImage: { qualityIssues: [{ code: 'image_blurred', reason: 'The photo is blurred.' }] },
      faceMatch: { similarity: 0.1, confidence: 0.01, threshold: T },
    });
    expect(run(blurred)).toEqual({ value: 'resubmit', reasonCodes: ['image_blurred', 'selfie_face_mismatch'] });
    expect(check(blurred, 'selfie_image').reason).toMatch(/^Selfie: The photo is blurred/);
    expect(
      run(
        good({
          selfieImage: { error: { code: 'image_unreadable', reason: 'could not be decoded' } },
          selfieFace: null,
          faceMatch: null,
          liveness: null,
        }),
      ).reasonCodes[0],
    ).toBe('image_unreadable');
    expect(run(good({ selfieFace: { outcome: 'no_face', faces: 0 }, faceMatch: null })).value).toBe('resubmit');
    expect(run(good({ selfieFace: { outcome: 'multiple_faces', faces: 2 }, faceMatch: null })).reasonCodes).toEqual(['multiple_faces']);
  });

  it('reports a document without a portrait as selfie_document_missing_photo (resubmit) and skips the comparison', () => {
    const o = good({ documentFace: { outcome: 'no_face', faces: 0 }, faceMatch: null });
    expect(run(o)).toEqual({ value: 'resubmit', reasonCodes: ['selfie_document_missing_photo'] });
    expect(check(o, 'face_match').status).toBe('not_applicable');
  });

  it('counts document image quality only when it can explain a failure', () => {
    const soft = { qualityIssues: [{ code: 'image_blurred', reason: 'The photo is blurred.' }] };
    expect(run(good({ documentImage: soft })).value).toBe('accept');
    expect(run(good({ documentImage: soft, faceMatch: { similarity: 0.1, confidence: 0.01, threshold: T } }))).toEqual({
      value: 'resubmit',
      reasonCodes: ['image_blurred', 'selfie_face_mismatch'],
    });
  });

  it('flags a failed liveness check or a reused selfie as selfie_manipulated for review', () => {
    expect(run(good({ liveness: { score: 0.1, threshold: 0.5 } }))).toEqual({ value: 'review', reasonCodes: ['selfie_manipulated'] });
    const reused = good({ reusedSelfie: { otherJobId: 'vj_x', distance: 2 } });
    expect(run(reused)).toEqual({ value: 'review', reasonCodes: ['selfie_manipulated'] });
    expect(check(reused, 'selfie_reuse').reason).toContain('vj_x');
    expect(check(good({ reusedSelfie: undefined }), 'selfie_reuse').status).toBe('not_applicable');
  });

  it('asks for another document when it is expired or not an allowed type; an unrecognised one goes to review', () => {
    const doc = good().document!;
    expect(run(good({ document: { ...doc, expired: true } }))).toEqual({ value: 'resubmit', reasonCodes: ['document_expired'] });
    expect(run(good({ document: doc, allowedDocumentTypes: ['drivers-license', 'identification'] }))).toEqual({
      value: 'resubmit',
      reasonCodes: ['document_type_not_supported'],
    });
    expect(run(good({ document: { ...doc, documentType: 'unknown', mrzDocumentCode: 'V' } })).reasonCodes).toEqual([
      'document_type_not_supported',
    ]);
    expect(run(good({ document: { ...doc, documentType: 'unknown', mrzDocumentCode: null, mrzValid: null } }))).toEqual({
      value: 'review',
      reasonCodes: ['document_unverified_other'],
    });
    expect(run(good({ document: { ...doc, mrzValid: false } }))).toEqual({ value: 'review', reasonCodes: ['document_mrz_invalid'] });
    expect(check(good({ document: { ...doc, expired: null } }), 'document_expiry').status).toBe('not_applicable');
  });

  it('a face mismatch outranks an expired document; reason codes list every failure, most decisive first', () => {
    const o = good({
      faceMatch: { similarity: 0, confidence: 0, threshold: T },
      liveness: { score: 0.1, threshold: 0.5 },
      document: { ...good().document!, expired: true },
    });
    expect(run(o)).toEqual({ value: 'reject', reasonCodes: ['selfie_face_mismatch', 'document_expired', 'selfie_manipulated'] });
  });

  it('sends a declared name or date of birth that differs from the document to review', () => {
    const ep = { nameDeclared: true, dateOfBirthDeclared: true, nameSimilarity: 0.4, nameMatches: false, dateOfBirthMatches: false };
    expect(run(good({ expectedPerson: ep }))).toEqual({
      value: 'review',
      reasonCodes: ['document_name_mismatch', 'document_dob_mismatch'],
    });
    expect(run(good({ expectedPerson: { ...ep, nameMatches: true, dateOfBirthMatches: true } })).value).toBe('accept');
    const unread = good({ expectedPerson: { ...ep, nameMatches: null }, document: { ...good().document!, fullNameRead: false } });
    expect(check(unread, 'expected_name')).toMatchObject({ status: 'failed', code: 'document_unverified_other' });
  });

  it('scores stay in 0..1: faceMatch is the calibrated confidence, id rewards type + MRZ + validity', () => {
    const s = computeScores(good(), 0.9);
    expect(s.faceMatch).toBe(0.99);
    expect(s.liveness).toBe(0.97);
    expect(s.selfie).toBeCloseTo(Math.sqrt(0.97 * 0.9), 2);
    expect(s.id).toBeCloseTo(0.4 * 0.99 + 0.3 + 0.3, 3);
    const expired = computeScores(good({ document: { ...good().document!, expired: true, mrzValid: false } }), 0.9);
    expect(expired.id).toBeCloseTo(0.4 * 0.99, 3);
    const none = computeScores(good({ selfieFace: { outcome: 'no_face', faces: 0 }, faceMatch: null, liveness: null, document: null }), 0);
    expect(none).toEqual({ faceMatch: 0, selfie: 0, id: 0, liveness: 0 });
  });

  it('selfie quality is 1 for a sharp, well-lit, large face and capped when an issue was found', () => {
    const t = { maxFaceBlur: 0.72, minFaceBrightness: 35, maxFaceBrightness: 205, minFaceSize: 80 };
    expect(selfieQualityScore({ faceBlur: 0.3, faceBrightness: 120, faceSize: 200 }, t, false)).toBe(1);
    expect(selfieQualityScore({ faceBlur: 0.3, faceBrightness: 120, faceSize: 200 }, t, true)).toBe(0.3);
    expect(selfieQualityScore({ faceBlur: 0.7, faceBrightness: 40, faceSize: 90 }, t, false)).toBeLessThan(0.4);
  });

  it('every failure code maps to a decision', () => {
    for (const v of Object.values(FAILURE_CODES)) expect(['review', 'reject', 'resubmit']).toContain(v);
  });
});
