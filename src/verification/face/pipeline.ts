// The face path for one image: detect -> pick the face -> 68/5 landmarks -> align -> embed,
// plus capture quality and (selfies only) liveness. Every stage is timed so a benchmark can
// print where the milliseconds go. Inference goes through onnxruntime-node's async `run`, so
// several jobs in one worker interleave; the JS stages are a few ms each.
import { detectFaces, type DetectedFace } from './detection';
import { detectLandmarks68, landmarks5From68 } from './landmarks';
import { alignFace, ALIGNED_SIZE, type Box, type Point } from './alignment';
import { faceEmbedding } from './embedding';
import { assessImageQuality, QUALITY_THRESHOLDS, type QualityReport } from './quality';
import { differenceHash, livenessScore, LIVENESS_THRESHOLD, manipulationSignals, type ManipulationSignals } from './liveness';
import { decodeImage, type DecodedImage } from '../imageDecode';

export type FaceRole = 'selfie' | 'document';

export interface FaceTimings {
  decode?: number;
  detect: number;
  landmarks?: number;
  align?: number;
  embed?: number;
  liveness?: number;
  quality: number;
  total: number;
}

export interface LivenessResult {
  /** Probability 0..1 that the capture is live (not a print/screen/mask). */
  score: number;
  /** score >= LIVENESS_THRESHOLD. A weak signal (see liveness.ts): route failures to review. */
  live: boolean;
  threshold: number;
  /** dHash of the aligned face (16 hex chars): compare with other jobs' hashes (hashDistance) to spot a reused selfie. */
  faceHash: string;
  signals: ManipulationSignals;
}

export interface PrimaryFace {
  /** Squared box in decoded-image pixels. */
  box: Box;
  /** Same box in original-image pixels. */
  originalBox: Box;
  score: number;
  /** [eye, eye, nose, mouth corner, mouth corner] in decoded-image pixels. */
  landmarks5: Point[];
}

interface Common {
  role: FaceRole;
  /** Faces the detector found (after NMS). */
  faces: number;
  boxes: { box: Box; score: number }[];
  quality: QualityReport;
  timings: FaceTimings;
}

export type FaceAnalysis =
  | (Common & { outcome: 'ok'; face: PrimaryFace; embedding: Float32Array; liveness?: LivenessResult })
  | (Common & { outcome: 'no_face'; reason: string })
  | (Common & { outcome: 'multiple_faces'; reason: string })
  | (Common & { outcome: 'face_too_small'; reason: string; face: Omit<PrimaryFace, 'landmarks5'> });

export type FaceOutcome = FaceAnalysis['outcome'];

/** A second selfie face whose box side is at least this fraction of the main one counts as another person in the picture. */
export const COMPARABLE_FACE_RATIO = 0.5;

const side = (b: Box) => Math.max(b.x2 - b.x1, b.y2 - b.y1);
const now = () => performance.now();
const ms = (t: number) => Math.round((now() - t) * 100) / 100;

function pickPrimary(faces: DetectedFace[], role: FaceRole): DetectedFace {
  if (role === 'selfie') return faces.reduce((a, b) => (side(b.box) > side(a.box) ? b : a));
  // Document: among the confident detections, the largest (the main portrait, not the small ghost image).
  const best = faces[0].score;
  return faces.filter((f) => f.score >= best - 0.1).reduce((a, b) => (side(b.box) > side(a.box) ? b : a));
}

export async function analyseFace(decoded: DecodedImage, opts: { role: FaceRole }): Promise<FaceAnalysis> {
  const { role } = opts;
  const t0 = now();
  let t = now();
  let faces = await detectFaces(decoded, { tiles: role === 'document' });
  if (faces.length === 0 && role === 'selfie') faces = await detectFaces(decoded, { tiles: 'always' });
  const timings: FaceTimings = { detect: ms(t), quality: 0, total: 0 };
  const boxes = faces.map((f) => ({ box: f.box, score: f.score }));
  const sx = decoded.originalWidth / decoded.width,
    sy = decoded.originalHeight / decoded.height;

  const finish = <T extends FaceAnalysis>(r: T): T => {
    timings.total = ms(t0);
    return r;
  };
  const quality = (faceBox?: Box) => {
    const tq = now();
    const q = assessImageQuality(decoded, { faceBox, role });
    timings.quality = ms(tq);
    return q;
  };

  if (faces.length === 0) {
    return finish({
      outcome: 'no_face',
      role,
      faces: 0,
      boxes,
      quality: quality(),
      timings,
      reason:
        role === 'selfie'
          ? 'No face was found. Look straight at the camera with your whole face in the frame.'
          : 'No portrait was found on the document. Photograph the side with the photo, flat and fully in the frame.',
    });
  }
  const primary = pickPrimary(faces, role);
  if (role === 'selfie') {
    const others = faces.filter((f) => f !== primary && side(f.box) >= COMPARABLE_FACE_RATIO * side(primary.box));
    if (others.length > 0) {
      return finish({
        outcome: 'multiple_faces',
        role,
        faces: faces.length,
        boxes,
        quality: quality(primary.box),
        timings,
        reason: 'More than one face is in the photo. Take the selfie alone.',
      });
    }
  }
  const originalBox = { x1: primary.box.x1 * sx, y1: primary.box.y1 * sy, x2: primary.box.x2 * sx, y2: primary.box.y2 * sy };
  const q = quality(primary.box);
  const faceSize = side(originalBox);
  if (faceSize < QUALITY_THRESHOLDS.minFaceSize[role]) {
    return finish({
      outcome: 'face_too_small',
      role,
      faces: faces.length,
      boxes,
      quality: q,
      timings,
      face: { box: primary.box, originalBox, score: primary.score },
      reason: q.issues.find((i) => i.code === 'face_too_small')?.reason ?? 'The face is too small.',
    });
  }

  t = now();
  const landmarks5 = landmarks5From68(await detectLandmarks68(decoded, primary.box));
  timings.landmarks = ms(t);
  t = now();
  const aligned = alignFace(decoded, landmarks5);
  timings.align = ms(t);
  // Embedding and liveness are independent: run them concurrently (onnxruntime runs each on its own
  // thread, so on 2 cores the selfie's two models overlap). Their timings therefore overlap too.
  const embedStart = now();
  const embedP = faceEmbedding(aligned.pixels).then((e) => {
    timings.embed = ms(embedStart);
    return e;
  });
  let liveness: LivenessResult | undefined;
  if (role === 'selfie') {
    const ls = now();
    const score = await livenessScore(decoded, primary.box);
    liveness = {
      score,
      live: score >= LIVENESS_THRESHOLD,
      threshold: LIVENESS_THRESHOLD,
      faceHash: differenceHash(aligned.pixels, ALIGNED_SIZE, ALIGNED_SIZE),
      signals: manipulationSignals(decoded),
    };
    timings.liveness = ms(ls);
  }
  const embedding = await embedP;
  return finish({
    outcome: 'ok',
    role,
    faces: faces.length,
    boxes,
    quality: q,
    timings,
    face: { box: primary.box, originalBox, score: primary.score, landmarks5 },
    embedding,
    liveness,
  });
}

/**
 * Long side to decode to, per role. Decoding dominates latency, and libjpeg only shrinks on load by
 * factors of 2, 4, 8: a 12 MP selfie decoded to 640 costs a fraction of decoding it to 1280. A selfie
 * face fills the frame, and every model input is <= 320 px, so 640 loses nothing; a document portrait
 * can be 5 % of the frame, so documents keep 1280.
 */
export const MAX_SIDE: Record<FaceRole, number> = { selfie: 640, document: 1280 };

/** Decode + analyse, with the decode time included in `timings.decode` and `timings.total`. Throws ImageDecodeError. */
export async function analyseFaceBytes(
  bytes: Buffer,
  opts: { role: FaceRole; maxSide?: number },
): Promise<FaceAnalysis & { image: Omit<DecodedImage, 'data'> }> {
  const t = now();
  const decoded = await decodeImage(bytes, { maxSide: opts.maxSide ?? MAX_SIDE[opts.role] });
  const decodeMs = ms(t);
  const r = await analyseFace(decoded, { role: opts.role });
  r.timings.decode = decodeMs;
  r.timings.total = Math.round((r.timings.total + decodeMs) * 100) / 100;
  const { data: _data, ...image } = decoded;
  return Object.assign(r, { image });
}
