// One verification job's checks, given the image bytes: decode → quality → faces → match →
// liveness → document → decision. No database, no Temporal: the activity, the benchmark and the
// evaluation all call runVerificationJob. Returns the small result (no images, no embeddings),
// the per-stage timings and the selfie's perceptual hash (for reuse detection across jobs).
//
// Stages run one after the other inside a job (two cores: a worker gets its parallelism from
// running several jobs at once), so each stage's timing is its own cost.
import { analyseDocument, type DocumentAnalysis } from '../document/analysis';
import { compareExpectedPerson, isExpired } from '../document/fields';
import { analyseFace, type FaceAnalysis } from '../face/pipeline';
import { cosineSimilarity } from '../face/embedding';
import { matchFaces } from '../face/match';
import { decodeImage, ImageDecodeError, type DecodedImage } from '../imageDecode';
import { QUALITY_THRESHOLDS } from '../face/quality';
import { LIVENESS_THRESHOLD, hashDistance, SAME_IMAGE_HASH_DISTANCE } from '../face/liveness';
import { FACE_MATCH_THRESHOLD } from '../face/match';
import { loadOcrModels } from '../document/ocr';
import { modelSession } from '../modelFiles';
import {
  buildChecks,
  computeScores,
  decide,
  selfieQualityScore,
  type CheckOutcomes,
  type DocumentOutcome,
  type ExpectedPersonOutcome,
  type FaceOutcome,
  type ImageOutcome,
} from './decision';
import { VerificationResultSchema, type ResultDocumentType, type VerificationResult } from './result';

export interface ExpectedPerson {
  fullName?: string | null;
  dateOfBirth?: string | null;
}

export interface VerificationJobInput {
  selfie: Buffer;
  idFront: Buffer;
  idBack?: Buffer | null;
  /** Extra selfie frames (a short burst): liveness is the median over all frames. At most MAX_SELFIE_FRAMES are used. */
  selfieFrames?: Buffer[];
  expectedPerson?: ExpectedPerson | null;
  allowedDocumentTypes?: readonly ResultDocumentType[];
  /** "Today" for the expiry check (tests, evaluation); default now. */
  today?: Date;
  /** Looks for an earlier job (same org) whose selfie is the same image (see sameSelfie); null when none. Omitted: not checked. */
  findReusedSelfie?: (selfieHash: string) => Promise<{ otherJobId: string; distance: number } | null>;
}

/** Milliseconds per stage. Face stages are summed over all images analysed (selfie, document, frames). */
export interface StageTimings {
  decode: number;
  quality: number;
  detect: number;
  landmarks: number;
  align: number;
  embed: number;
  liveness: number;
  ocr: number;
  document: number;
  /** Selfie + document face analysis, decode included. */
  facePath: number;
  total: number;
}

export interface VerificationJobOutput {
  result: VerificationResult;
  timings: StageTimings;
  /** dHash of the aligned selfie face (16 hex chars), or null when there was no usable selfie face. */
  selfieHash: string | null;
}

export const MAX_SELFIE_FRAMES = 5;

const now = () => performance.now();
const r2 = (x: number) => Math.round(x * 100) / 100;

type Decoded = { ok: true; image: DecodedImage; ms: number } | { ok: false; error: { code: string; reason: string }; ms: number };

async function decode(bytes: Buffer | undefined | null): Promise<Decoded> {
  const t = now();
  try {
    const image = await decodeImage(bytes ?? Buffer.alloc(0));
    return { ok: true, image, ms: now() - t };
  } catch (err) {
    if (err instanceof ImageDecodeError) return { ok: false, error: { code: err.code, reason: err.message }, ms: now() - t };
    throw err;
  }
}

function faceOutcome(a: FaceAnalysis): FaceOutcome {
  return { outcome: a.outcome, faces: a.faces, reason: 'reason' in a ? a.reason : undefined };
}

function addFaceTimings(t: StageTimings, a: FaceAnalysis) {
  t.detect += a.timings.detect;
  t.quality += a.timings.quality;
  t.landmarks += a.timings.landmarks ?? 0;
  t.align += a.timings.align ?? 0;
  t.embed += a.timings.embed ?? 0;
  t.liveness += a.timings.liveness ?? 0;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Front first; the back fills what the front lacks (ID cards carry the MRZ on the back). */
function mergeDocuments(front: DocumentAnalysis | null, back: DocumentAnalysis | null): DocumentAnalysis | null {
  if (!front || !back) return front ?? back;
  const mrz = front.mrz?.valid ? front.mrz : back.mrz?.valid ? back.mrz : (front.mrz ?? back.mrz);
  const typed = front.documentType !== 'unknown' ? front : back;
  const f = front.fields,
    b = back.fields;
  const preferBack = !front.mrz?.valid && !!back.mrz?.valid;
  const pick = <K extends keyof typeof f>(k: K) => (preferBack ? (b[k] ?? f[k]) : (f[k] ?? b[k]));
  return {
    ...typed,
    mrz,
    country: typed.country ?? front.country ?? back.country,
    ocrLines: [...front.ocrLines, ...back.ocrLines],
    fields: {
      fullName: pick('fullName'),
      surname: pick('surname'),
      givenNames: pick('givenNames'),
      dateOfBirth: pick('dateOfBirth'),
      expirationDate: pick('expirationDate'),
      documentNumber: pick('documentNumber'),
      country: pick('country'),
      source: f.source === 'none' ? b.source : f.source,
    },
    // Summed key by key (the document module's timing keys may grow).
    timings: Object.fromEntries(
      Object.entries(front.timings).map(([k, v]) => [k, v + ((back.timings as Record<string, number>)[k] ?? 0)]),
    ) as DocumentAnalysis['timings'],
  };
}

export async function runVerificationJob(input: VerificationJobInput): Promise<VerificationJobOutput> {
  const t0 = now();
  const timings: StageTimings = {
    decode: 0,
    quality: 0,
    detect: 0,
    landmarks: 0,
    align: 0,
    embed: 0,
    liveness: 0,
    ocr: 0,
    document: 0,
    facePath: 0,
    total: 0,
  };

  // ---- face path: selfie and document portrait
  const tFace = now();
  const selfieDecoded = await decode(input.selfie);
  const frontDecoded = await decode(input.idFront);
  timings.decode += selfieDecoded.ms + frontDecoded.ms;
  const selfieFace = selfieDecoded.ok ? await analyseFace(selfieDecoded.image, { role: 'selfie' }) : null;
  const documentFace = frontDecoded.ok ? await analyseFace(frontDecoded.image, { role: 'document' }) : null;
  if (selfieFace) addFaceTimings(timings, selfieFace);
  if (documentFace) addFaceTimings(timings, documentFace);
  const match =
    selfieFace?.outcome === 'ok' && documentFace?.outcome === 'ok' ? matchFaces(selfieFace.embedding, documentFace.embedding) : null;
  timings.facePath = now() - tFace;

  // ---- liveness over the selfie and its frames
  let liveness: CheckOutcomes['liveness'] = null;
  let framesAnalysed = 0;
  if (selfieFace?.outcome === 'ok' && selfieFace.liveness) {
    const scores = [selfieFace.liveness.score];
    let framesOfAnotherPerson = 0;
    for (const frame of (input.selfieFrames ?? []).slice(0, MAX_SELFIE_FRAMES)) {
      const d = await decode(frame);
      timings.decode += d.ms;
      if (!d.ok) continue;
      const a = await analyseFace(d.image, { role: 'selfie' });
      addFaceTimings(timings, a);
      if (a.outcome !== 'ok' || !a.liveness) continue;
      framesAnalysed++;
      scores.push(a.liveness.score);
      if (cosineSimilarity(a.embedding, selfieFace.embedding) < FACE_MATCH_THRESHOLD) framesOfAnotherPerson++;
    }
    liveness = { score: median(scores), threshold: LIVENESS_THRESHOLD, framesOfAnotherPerson };
  }

  // ---- same selfie already used in this org?
  const selfieHash = selfieFace?.outcome === 'ok' && selfieFace.liveness ? selfieFace.liveness.faceHash : null;
  let reusedSelfie: CheckOutcomes['reusedSelfie'];
  if (selfieHash && input.findReusedSelfie) {
    reusedSelfie = await input.findReusedSelfie(selfieHash);
  }

  // ---- document: OCR, MRZ, type, fields (front, and back when sent)
  const backDecoded = input.idBack && input.idBack.length ? await decode(input.idBack) : null;
  if (backDecoded) timings.decode += backDecoded.ms;
  const tDoc = now();
  const frontDoc = frontDecoded.ok ? await analyseDocument(frontDecoded.image, { today: input.today }) : null;
  const backDoc = backDecoded?.ok ? await analyseDocument(backDecoded.image, { today: input.today }) : null;
  const doc = mergeDocuments(frontDoc, backDoc);
  timings.document = now() - tDoc;
  timings.ocr =
    (frontDoc?.timings.ocrMs ?? 0) +
    (frontDoc?.timings.mrzRereadMs ?? 0) +
    (backDoc?.timings.ocrMs ?? 0) +
    (backDoc?.timings.mrzRereadMs ?? 0);

  const document: DocumentOutcome | null = doc && {
    documentType: doc.documentType,
    confidence: doc.classification.confidence,
    mrzDocumentCode: doc.mrz?.documentCode ?? null,
    mrzValid: doc.mrz ? doc.mrz.valid : null,
    expired: isExpired(doc.fields.expirationDate, input.today ?? new Date()),
    fullNameRead: !!doc.fields.fullName,
    dateOfBirthRead: !!doc.fields.dateOfBirth,
  };

  let expectedPerson: ExpectedPersonOutcome | null = null;
  const ep = input.expectedPerson;
  if (ep && (ep.fullName || ep.dateOfBirth)) {
    const cmp = doc && ep.fullName ? compareExpectedPerson({ fullName: ep.fullName, dateOfBirth: ep.dateOfBirth }, doc.fields) : null;
    const dobMatches =
      ep.dateOfBirth && doc?.fields.dateOfBirth ? ep.dateOfBirth.slice(0, 10) === doc.fields.dateOfBirth.slice(0, 10) : null;
    expectedPerson = {
      nameDeclared: !!ep.fullName,
      dateOfBirthDeclared: !!ep.dateOfBirth,
      nameMatches: cmp ? cmp.nameMatches : null,
      nameSimilarity: cmp ? cmp.nameSimilarity : null,
      dateOfBirthMatches: dobMatches,
    };
  }

  // ---- checks, scores, decision
  const imageOutcome = (d: Decoded | null, face: FaceAnalysis | null): ImageOutcome =>
    !d ? {} : !d.ok ? { error: d.error } : { qualityIssues: (face?.quality.issues ?? []).filter((i) => i.code !== 'face_too_small') };
  const documentImage = imageOutcome(frontDecoded, documentFace);
  if (!documentImage.error && backDecoded && !backDecoded.ok)
    documentImage.error = { ...backDecoded.error, reason: `back side: ${backDecoded.error.reason}` };

  const outcomes: CheckOutcomes = {
    selfieImage: imageOutcome(selfieDecoded, selfieFace),
    selfieFace: selfieFace && faceOutcome(selfieFace),
    documentImage,
    documentFace: documentFace && faceOutcome(documentFace),
    faceMatch: match && { similarity: match.similarity, confidence: match.confidence, threshold: match.threshold },
    liveness,
    reusedSelfie,
    document,
    allowedDocumentTypes: input.allowedDocumentTypes,
    expectedPerson,
  };
  const checks = buildChecks(outcomes);
  const sq =
    selfieFace?.outcome === 'ok'
      ? selfieQualityScore(selfieFace.quality.measurements, qualityThresholds(), selfieFace.quality.issues.length > 0)
      : 0;
  const result: VerificationResult = {
    documentType: doc?.documentType ?? 'unknown',
    country: doc?.country ?? null,
    fields: {
      fullName: doc?.fields.fullName ?? null,
      dateOfBirth: doc?.fields.dateOfBirth ?? null,
      expirationDate: doc?.fields.expirationDate ?? null,
      documentNumber: doc?.fields.documentNumber ?? null,
      ...(doc?.mrz ? { mrz: doc.mrz.lines } : {}),
    },
    scores: computeScores(outcomes, sq),
    checks,
    decision: decide(checks),
    details: {
      faceSimilarity: match ? Math.round(match.similarity * 10000) / 10000 : null,
      faceMatchThreshold: FACE_MATCH_THRESHOLD,
      livenessThreshold: LIVENESS_THRESHOLD,
      selfieFaces: selfieFace?.faces ?? null,
      documentFaces: documentFace?.faces ?? null,
      documentTypeConfidence: doc ? doc.classification.confidence : null,
      mrzValid: doc?.mrz ? doc.mrz.valid : null,
      selfieFramesAnalysed: framesAnalysed,
    },
  };
  timings.total = now() - t0;
  for (const k of Object.keys(timings) as (keyof StageTimings)[]) timings[k] = r2(timings[k]);
  // The contract is checked on the way out: a shape drift fails here, not in the application workflow.
  return { result: VerificationResultSchema.parse(result), timings, selfieHash };
}

/** Adapter: the selfie thresholds of imageQuality.ts (read defensively: that module is still being tuned). */
function qualityThresholds() {
  const t = QUALITY_THRESHOLDS as unknown as Record<string, unknown>;
  const num = (k: string, d: number) => (typeof t[k] === 'number' ? (t[k] as number) : d);
  return {
    maxFaceBlur: num('maxFaceBlur', 0.72),
    minFaceBrightness: num('minFaceBrightness', 35),
    maxFaceBrightness: num('maxFaceBrightness', 205),
    minFaceSize: (t.minFaceSize as Record<string, number> | undefined)?.selfie ?? 80,
  };
}

/** Hamming distance between two selfie hashes when they are the same image (re-encoded / re-cropped), else null. */
export function sameSelfie(a: string, b: string): number | null {
  if (a.length !== b.length) return null;
  const d = hashDistance(a, b);
  return d <= SAME_IMAGE_HASH_DISTANCE ? d : null;
}

/** Loads every model the job uses (face detection, landmarks, embedding, liveness, OCR) so the first job does not pay for it. */
export async function warmUpVerificationModels(): Promise<void> {
  await Promise.all([
    modelSession('face/fr_detect.onnx'),
    modelSession('face/fr_landmark.onnx'),
    modelSession('face/fr_feature.onnx'),
    modelSession('face/fr_liveness.onnx'),
    loadOcrModels(),
  ]);
}
