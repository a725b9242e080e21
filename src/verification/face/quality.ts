// Capture-quality checks an end user can act on: too dark, too bright, blurred, too small.
// Measured on the decoded raster, on a grayscale copy with long side 256 (so numbers do not
// depend on the upload's resolution), and on the face box resampled to 112x112 when given:
//  - brightness: mean luma (BT.601) 0..255, and the 99th-percentile luma ("highlights");
//  - blur: the no-reference blur metric of Crete-Roffet et al. (2007): how little the image changes
//    when it is blurred again, 0 (sharp) .. 1 (blurred); contrast-independent, unlike the variance of
//    the Laplacian, which is also reported (`sharpness`) but overlapped between soft originals and
//    blurred copies on the dev data;
//  - resolution: the upright original size, and the face box side in original pixels.
// Thresholds: see QUALITY_THRESHOLDS (calibration in the comment there).
import { cropResize, type Box, type Raster } from './alignment';
import type { DecodedImage } from '../imageDecode';

export type QualityIssueCode = 'image_too_dark' | 'image_too_bright' | 'image_blurred' | 'image_too_small' | 'face_too_small';

export interface QualityIssue {
  code: QualityIssueCode;
  /** A sentence the end user can act on. */
  reason: string;
  value: number;
  threshold: number;
}

export interface QualityMeasurements {
  width: number;
  height: number;
  originalWidth: number;
  originalHeight: number;
  /** Mean luma of the whole image, 0..255. */
  brightness: number;
  /** 99th-percentile luma of the whole image, 0..255. */
  highlights: number;
  /** Crete-Roffet blur of the whole image at long side 256: 0 sharp .. 1 blurred. */
  blur: number;
  /** Laplacian variance of the whole image at long side 256 (informative; not used for the decision). */
  sharpness: number;
  /** Mean luma of the face box, when a face was given. */
  faceBrightness?: number;
  /** Crete-Roffet blur of the face box resampled to 112x112, when a face was given. */
  faceBlur?: number;
  /** Laplacian variance of the face box at 112x112 (informative). */
  faceSharpness?: number;
  /** Face box side in original-image pixels, when a face was given. */
  faceSize?: number;
}

export interface QualityReport {
  measurements: QualityMeasurements;
  issues: QualityIssue[];
}

/**
 * Calibration (scratch run over the dev data; test/verification/faceQuality.test.ts asserts samples of it):
 * originals = 279 LFW photos (every 4th), the 69 document photos with a real portrait, the 16 liveness
 * images; synthetic failures = the same darkened (sharp linear x0.25) or Gaussian-blurred (sigma 3 per
 * 250 px of long side). Measured [min .. max]:
 *   highlights (p99 luma, whole image): originals 158 .. 255; darkened 39 .. 67.
 *   face mean luma: originals 48 .. 189; darkened 12 .. 47; over-exposed (x3 + 150) 211 .. 252.
 *   blur (whole image): originals 0.11 .. 0.62; blurred 0.65 .. 0.84.
 *   blur (face 112x112): originals 0.26 .. 0.72 (all 1,115 LFW); blurred 0.60 .. 0.91 (LFW is soft;
 *   the whole-image measure separates better, the face measure catches a blurred face on a sharp background).
 * Result with these thresholds: 1,114 of 1,115 LFW photos, all 16 liveness and all 80 non-illustrated
 * document photos raise no issue; the LFW exception, Piers_Sellers_0001 (whole-image blur 0.722), is a
 * visibly blurred video still, so flagging it is right. 100 % of darkened and blurred
 * LFW / liveness copies and 100 % / 93 % of darkened / blurred document copies are flagged.
 */
export const QUALITY_THRESHOLDS = {
  /** whole-image 99th-percentile luma below this: too dark (no highlights anywhere). */
  minHighlights: 100,
  /** face mean luma below this: too dark even if the background is lit (backlit face). */
  minFaceBrightness: 35,
  /** face mean luma above this: overexposed. */
  maxFaceBrightness: 205,
  /** whole-image mean luma above this: washed out (used when there is no face box). */
  maxBrightness: 250,
  /** whole-image blur above this: blurred. */
  maxBlur: 0.68,
  /** face blur above this: blurred face. */
  maxFaceBlur: 0.74,
  /** upright original: shorter side at least this many pixels. */
  minShortSide: 150,
  /** face box side in original pixels, per role. */
  minFaceSize: { selfie: 80, document: 40 } as Record<'selfie' | 'document', number>,
};

interface GrayStats {
  mean: number;
  p99: number;
  lapVar: number;
  blur: number;
}

/**
 * Luma of `box` resampled to outW x outH. Shrinking: the mean of a 2x2 grid of samples inside each
 * output pixel's footprint (cheap: ~4 lookups per output pixel whatever the input size); enlarging or
 * near 1:1: bilinear.
 */
function grayResample(img: Raster, box: Box, outW: number, outH: number): Float32Array {
  const sx = (box.x2 - box.x1) / outW,
    sy = (box.y2 - box.y1) / outH;
  const out = new Float32Array(outW * outH);
  if (sx <= 1.5 && sy <= 1.5) {
    const rgb = cropResize(img, box, outW, outH);
    for (let i = 0; i < out.length; i++) out[i] = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
    return out;
  }
  const { data, width: W, height: H } = img;
  const xs = new Int32Array(outW * 2),
    ys = new Int32Array(outH * 2);
  for (let x = 0; x < outW; x++) for (let k = 0; k < 2; k++) xs[x * 2 + k] = clamp(Math.floor(box.x1 + (x + 0.25 + 0.5 * k) * sx), W);
  for (let y = 0; y < outH; y++) for (let k = 0; k < 2; k++) ys[y * 2 + k] = clamp(Math.floor(box.y1 + (y + 0.25 + 0.5 * k) * sy), H);
  for (let y = 0; y < outH; y++) {
    const r0 = ys[y * 2] * W,
      r1 = ys[y * 2 + 1] * W;
    for (let x = 0; x < outW; x++) {
      let v = 0;
      for (const r of [r0, r1])
        for (let k = 0; k < 2; k++) {
          const p = (r + xs[x * 2 + k]) * 3;
          v += 0.299 * data[p] + 0.587 * data[p + 1] + 0.114 * data[p + 2];
        }
      out[y * outW + x] = v / 4;
    }
  }
  return out;
}

/** Mean, 99th-percentile luma, Laplacian variance and Crete-Roffet blur of a luma raster. */
function grayStats(g: Float32Array, w: number, h: number): GrayStats {
  const n = w * h;
  const hist = new Uint32Array(256);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const v = g[i];
    sum += v;
    hist[Math.min(255, v | 0)]++;
  }
  let p99 = 255;
  for (let v = 0, c = 0; v < 256; v++) {
    c += hist[v];
    if (c >= 0.99 * n) {
      p99 = v;
      break;
    }
  }

  let s = 0,
    s2 = 0,
    k = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const l = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
      s += l;
      s2 += l * l;
      k++;
    }
  }
  const lm = k ? s / k : 0;

  // Crete-Roffet: re-blur with a 9-tap box filter along each axis; a sharp image loses much of its
  // neighbour-to-neighbour variation, an already blurred one little.
  const R = 4,
    T = 2 * R + 1;
  const bh = new Float32Array(n),
    bv = new Float32Array(n);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let acc = 0;
    for (let t = -R; t <= R; t++) acc += g[o + clamp(t, w)];
    for (let x = 0; x < w; x++) {
      bh[o + x] = acc / T;
      acc += g[o + clamp(x + R + 1, w)] - g[o + clamp(x - R, w)];
    }
  }
  for (let x = 0; x < w; x++) {
    let acc = 0;
    for (let t = -R; t <= R; t++) acc += g[clamp(t, h) * w + x];
    for (let y = 0; y < h; y++) {
      bv[y * w + x] = acc / T;
      acc += g[clamp(y + R + 1, h) * w + x] - g[clamp(y - R, h) * w + x];
    }
  }
  let dv = 0,
    dh = 0,
    vv = 0,
    vh = 0;
  for (let y = 1; y < h; y++) {
    for (let x = 1; x < w; x++) {
      const i = y * w + x;
      const Dv = Math.abs(g[i] - g[i - w]),
        Dh = Math.abs(g[i] - g[i - 1]);
      dv += Dv;
      dh += Dh;
      vv += Math.max(0, Dv - Math.abs(bv[i] - bv[i - w]));
      vh += Math.max(0, Dh - Math.abs(bh[i] - bh[i - 1]));
    }
  }
  const blur = Math.max(dv ? (dv - vv) / dv : 1, dh ? (dh - vh) / dh : 1);
  return { mean: sum / n, p99, lapVar: k ? s2 / k - lm * lm : 0, blur };
}
const clamp = (i: number, n: number) => (i < 0 ? 0 : i >= n ? n - 1 : i);

export function assessImageQuality(
  img: Raster & Partial<Pick<DecodedImage, 'originalWidth' | 'originalHeight'>>,
  opts: { faceBox?: Box; role?: 'selfie' | 'document' } = {},
): QualityReport {
  const T = QUALITY_THRESHOLDS;
  const originalWidth = img.originalWidth ?? img.width;
  const originalHeight = img.originalHeight ?? img.height;
  const k = Math.min(1, 256 / Math.max(img.width, img.height));
  const sw = Math.max(8, Math.round(img.width * k)),
    sh = Math.max(8, Math.round(img.height * k));
  const whole = grayStats(grayResample(img, { x1: 0, y1: 0, x2: img.width, y2: img.height }, sw, sh), sw, sh);
  const m: QualityMeasurements = {
    width: img.width,
    height: img.height,
    originalWidth,
    originalHeight,
    brightness: round(whole.mean),
    highlights: whole.p99,
    blur: round(whole.blur, 3),
    sharpness: round(whole.lapVar),
  };
  const issues: QualityIssue[] = [];
  const shortSide = Math.min(originalWidth, originalHeight);
  if (shortSide < T.minShortSide) {
    issues.push({
      code: 'image_too_small',
      value: shortSide,
      threshold: T.minShortSide,
      reason: `The photo is only ${originalWidth}x${originalHeight} pixels. Upload the original camera photo, not a thumbnail.`,
    });
  }
  let face: GrayStats | undefined;
  if (opts.faceBox) {
    const b = opts.faceBox;
    face = grayStats(grayResample(img, b, 112, 112), 112, 112);
    m.faceBrightness = round(face.mean);
    m.faceBlur = round(face.blur, 3);
    m.faceSharpness = round(face.lapVar);
    m.faceSize = Math.round((b.y2 - b.y1) * (originalHeight / img.height));
    const minFace = T.minFaceSize[opts.role ?? 'selfie'];
    if (m.faceSize < minFace) {
      issues.push({
        code: 'face_too_small',
        value: m.faceSize,
        threshold: minFace,
        reason:
          opts.role === 'document'
            ? 'The portrait on the document is too small. Take the photo closer so the document fills the frame.'
            : 'Your face is too small in the photo. Hold the camera closer so your face fills most of the frame.',
      });
    }
  }
  const dark = 'The photo is too dark. Move to a well-lit place, facing the light, and try again.';
  const bright = 'The photo is overexposed. Avoid direct light or flash on the face or document and try again.';
  if (whole.p99 < T.minHighlights) {
    issues.push({ code: 'image_too_dark', value: whole.p99, threshold: T.minHighlights, reason: dark });
  } else if (face && face.mean < T.minFaceBrightness) {
    issues.push({ code: 'image_too_dark', value: round(face.mean), threshold: T.minFaceBrightness, reason: dark });
  } else if (face ? face.mean > T.maxFaceBrightness : whole.mean > T.maxBrightness) {
    const v = face ? face.mean : whole.mean;
    issues.push({ code: 'image_too_bright', value: round(v), threshold: face ? T.maxFaceBrightness : T.maxBrightness, reason: bright });
  }
  const blurred = 'The photo is blurred. Hold the camera steady, let it focus, and try again.';
  if (whole.blur > T.maxBlur) {
    issues.push({ code: 'image_blurred', value: round(whole.blur, 3), threshold: T.maxBlur, reason: blurred });
  } else if (face && face.blur > T.maxFaceBlur) {
    issues.push({ code: 'image_blurred', value: round(face.blur, 3), threshold: T.maxFaceBlur, reason: blurred });
  }
  return { measurements: m, issues };
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
