// Passive anti-spoofing with fr_liveness.onnx (Silent-Face MiniFASNet family), plus cheap
// manipulation signals a caller can combine with it.
// Crop: the squared face box scaled 2.7x about its centre, shifted/capped to stay inside the
// image (Silent-Face's CropImage), resized to 128x128. Input: raw 0..255 floats, BGR, NCHW
// (the package's JS feeds RGB — bug #3 — which calls every face a spoof). Output: 3 logits;
// softmax class 0 = live.
import * as ort from 'onnxruntime-node';
import { modelSession } from '../modelFiles';
import { cropResize, type Box, type Raster } from './alignment';
import type { DecodedImage } from '../imageDecode';

const SIZE = 128;
export const LIVENESS_CROP_SCALE = 2.7;
/**
 * Live-probability threshold: below it the selfie is flagged as a possible presentation attack.
 * Chosen on the 16-image dev set (eval/liveness.ts; 5 live / 11 attacks), which is far too small
 * to set an operating point — treat the flag as one signal for review, not an automatic reject.
 */
export const LIVENESS_THRESHOLD = 0.5;

/** Silent-Face's crop box: scale about the centre, cap the scale to fit, shift back inside the image. */
export function livenessCropBox(box: Box, W: number, H: number, scale = LIVENESS_CROP_SCALE): Box {
  const bw = box.x2 - box.x1,
    bh = box.y2 - box.y1;
  const s = Math.min((H - 1) / bh, (W - 1) / bw, scale);
  const nw = bw * s,
    nh = bh * s;
  const cx = (box.x1 + box.x2) / 2,
    cy = (box.y1 + box.y2) / 2;
  let x1 = cx - nw / 2,
    y1 = cy - nh / 2,
    x2 = cx + nw / 2,
    y2 = cy + nh / 2;
  if (x1 < 0) {
    x2 -= x1;
    x1 = 0;
  }
  if (y1 < 0) {
    y2 -= y1;
    y1 = 0;
  }
  if (x2 > W - 1) {
    x1 -= x2 - W + 1;
    x2 = W - 1;
  }
  if (y2 > H - 1) {
    y1 -= y2 - H + 1;
    y2 = H - 1;
  }
  return { x1, y1, x2, y2 };
}

/** Probability (0..1) that the face is a live capture rather than a print / screen / mask. */
export async function livenessScore(img: Raster, faceBox: Box): Promise<number> {
  const rgb = cropResize(img, livenessCropBox(faceBox, img.width, img.height), SIZE, SIZE);
  const plane = SIZE * SIZE;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    input[i] = rgb[i * 3 + 2]; // B
    input[plane + i] = rgb[i * 3 + 1]; // G
    input[2 * plane + i] = rgb[i * 3]; // R
  }
  const session = await modelSession('face/fr_liveness.onnx');
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
  const logits = out[session.outputNames[0]].data as Float32Array;
  const m = Math.max(...logits);
  const e = Array.from(logits, (l) => Math.exp(l - m));
  return e[0] / e.reduce((s, x) => s + x, 0);
}

/**
 * 64-bit difference hash (dHash) of a grayscale 9x8 thumbnail, as 16 hex chars. Compute it on the
 * aligned face (robust to re-encoding and small crops): the same selfie uploaded again for another
 * applicant has a Hamming distance of a few bits; different captures of the same person differ by more.
 */
export function differenceHash(rgb: Float32Array | Buffer, width: number, height: number): string {
  const img: Raster = { data: rgb as Buffer, width, height };
  const small = cropResize(img, { x1: 0, y1: 0, x2: width, y2: height }, 9, 8);
  const g = (i: number) => 0.299 * small[i * 3] + 0.587 * small[i * 3 + 1] + 0.114 * small[i * 3 + 2];
  let hex = '';
  for (let y = 0; y < 8; y++) {
    let byte = 0;
    for (let x = 0; x < 8; x++) byte = (byte << 1) | (g(y * 9 + x) > g(y * 9 + x + 1) ? 1 : 0);
    hex += byte.toString(16).padStart(2, '0');
  }
  return hex;
}

/** Hamming distance between two hashes from differenceHash (0..64). */
export function hashDistance(a: string, b: string): number {
  let d = 0;
  for (let i = 0; i < a.length; i += 2) {
    let x = parseInt(a.slice(i, i + 2), 16) ^ parseInt(b.slice(i, i + 2), 16);
    while (x) {
      d += x & 1;
      x >>= 1;
    }
  }
  return d;
}
/** At or below this many differing bits two face hashes are treated as the same image. */
export const SAME_IMAGE_HASH_DISTANCE = 6;

/** Common screen sizes (either orientation): a "selfie" with exactly one of these sizes is often a screenshot. */
const SCREEN_SIZES = [
  [1920, 1080],
  [2560, 1440],
  [1366, 768],
  [1280, 720],
  [1440, 900],
  [1536, 864],
  [1280, 800],
  [2880, 1800],
  [2560, 1600],
  [1170, 2532],
  [1179, 2556],
  [1284, 2778],
  [1290, 2796],
  [1125, 2436],
  [1242, 2688],
  [828, 1792],
  [750, 1334],
  [1080, 2400],
  [1080, 2340],
  [1440, 3200],
  [1440, 3120],
  [1080, 1920],
  [720, 1600],
  [1080, 2280],
];

export interface ManipulationSignals {
  /** Upright original size equals a common screen resolution. */
  screenResolution: boolean;
  /** No EXIF block: usual for screenshots, web downloads and re-encodes; phone camera captures usually keep it. */
  noExif: boolean;
}

/** Cheap signs that a "selfie" is not a fresh camera capture. Signals only: never decisive alone. */
export function manipulationSignals(img: Pick<DecodedImage, 'originalWidth' | 'originalHeight' | 'hasExif'>): ManipulationSignals {
  const w = img.originalWidth,
    h = img.originalHeight;
  return {
    screenResolution: SCREEN_SIZES.some(([a, b]) => (w === a && h === b) || (w === b && h === a)),
    noExif: !img.hasExif,
  };
}
