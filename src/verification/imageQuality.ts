// Capture-quality checks an end user can act on: too dark, too bright, blurred, too small.
// Measured on the decoded raster (and on the face region when a face box is given):
//  - brightness: mean luma (BT.601) 0..255;
//  - sharpness: variance of the 4-neighbour Laplacian of a grayscale image normalised to a fixed
//    size (long side 256 for the whole image, 112x112 for the face), so the number does not depend
//    on the upload's resolution;
//  - resolution: the upright original size, and the face box side in original pixels.
// Thresholds: see QUALITY_THRESHOLDS (calibration in the comment there).
import { cropResize, type Box, type Raster } from './faceAlignment';
import type { DecodedImage } from './imageDecode';

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
  /** Laplacian variance of the whole image at long side 256. */
  sharpness: number;
  /** Mean luma of the face box, when a face was given. */
  faceBrightness?: number;
  /** Laplacian variance of the face box resampled to 112x112, when a face was given. */
  faceSharpness?: number;
  /** Face box side in original-image pixels, when a face was given. */
  faceSize?: number;
}

export interface QualityReport {
  measurements: QualityMeasurements;
  issues: QualityIssue[];
}

/**
 * Calibration (scratch run over the dev data, see test/verification/faceQuality.test.ts for the
 * asserted cases): every LFW photo (1,115) and every document photo with a real portrait must pass;
 * the same photos darkened (x0.25 gain), brightened (x3 gain + 150 offset) or Gaussian-blurred
 * (sigma 3 at 250 px) must fail. The measured ranges are noted next to each threshold.
 */
export const QUALITY_THRESHOLDS = {
  /** face mean luma below this: too dark. */
  minFaceBrightness: 45,
  /** whole-image mean luma below this: too dark (used when there is no face box). */
  minBrightness: 40,
  /** face mean luma above this: overexposed. */
  maxFaceBrightness: 225,
  maxBrightness: 235,
  /** face Laplacian variance (112x112) below this: blurred. */
  minFaceSharpness: 25,
  /** whole-image Laplacian variance (long side 256) below this: blurred (no face box). */
  minSharpness: 30,
  /** upright original: shorter side at least this many pixels. */
  minShortSide: 150,
  /** face box side in original pixels, per role. */
  minFaceSize: { selfie: 80, document: 40 } as Record<'selfie' | 'document', number>,
};

function grayStats(rgb: Float32Array, w: number, h: number): { mean: number; lapVar: number } {
  const g = new Float32Array(w * h);
  let sum = 0;
  for (let i = 0; i < g.length; i++) {
    const v = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
    g[i] = v;
    sum += v;
  }
  let s = 0, s2 = 0, n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const l = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
      s += l; s2 += l * l; n++;
    }
  }
  const m = n ? s / n : 0;
  return { mean: sum / g.length, lapVar: n ? s2 / n - m * m : 0 };
}

export function assessImageQuality(
  img: Raster & Partial<Pick<DecodedImage, 'originalWidth' | 'originalHeight'>>,
  opts: { faceBox?: Box; role?: 'selfie' | 'document' } = {},
): QualityReport {
  const T = QUALITY_THRESHOLDS;
  const originalWidth = img.originalWidth ?? img.width;
  const originalHeight = img.originalHeight ?? img.height;
  const k = 256 / Math.max(img.width, img.height);
  const sw = Math.max(8, Math.round(img.width * Math.min(1, k))), sh = Math.max(8, Math.round(img.height * Math.min(1, k)));
  const whole = grayStats(cropResize(img, { x1: 0, y1: 0, x2: img.width, y2: img.height }, sw, sh), sw, sh);
  const m: QualityMeasurements = {
    width: img.width, height: img.height, originalWidth, originalHeight,
    brightness: round(whole.mean), sharpness: round(whole.lapVar),
  };
  const issues: QualityIssue[] = [];
  const shortSide = Math.min(originalWidth, originalHeight);
  if (shortSide < T.minShortSide) {
    issues.push({ code: 'image_too_small', value: shortSide, threshold: T.minShortSide,
      reason: `The photo is only ${originalWidth}x${originalHeight} pixels. Upload the original camera photo, not a thumbnail.` });
  }

  let brightness = whole.mean, minB = T.minBrightness, maxB = T.maxBrightness;
  let sharp = whole.lapVar, minS = T.minSharpness;
  if (opts.faceBox) {
    const b = opts.faceBox;
    const face = grayStats(cropResize(img, b, 112, 112), 112, 112);
    m.faceBrightness = round(face.mean);
    m.faceSharpness = round(face.lapVar);
    m.faceSize = Math.round((b.y2 - b.y1) * (originalHeight / img.height));
    brightness = face.mean; minB = T.minFaceBrightness; maxB = T.maxFaceBrightness;
    sharp = face.lapVar; minS = T.minFaceSharpness;
    const minFace = T.minFaceSize[opts.role ?? 'selfie'];
    if (m.faceSize < minFace) {
      issues.push({ code: 'face_too_small', value: m.faceSize, threshold: minFace,
        reason: opts.role === 'document'
          ? 'The portrait on the document is too small. Take the photo closer so the document fills the frame.'
          : 'Your face is too small in the photo. Hold the camera closer so your face fills most of the frame.' });
    }
  }
  if (brightness < minB) {
    issues.push({ code: 'image_too_dark', value: round(brightness), threshold: minB,
      reason: 'The photo is too dark. Move to a well-lit place, facing the light, and try again.' });
  } else if (brightness > maxB) {
    issues.push({ code: 'image_too_bright', value: round(brightness), threshold: maxB,
      reason: 'The photo is overexposed. Avoid direct light or flash on the face or document and try again.' });
  }
  if (sharp < minS) {
    issues.push({ code: 'image_blurred', value: round(sharp), threshold: minS,
      reason: 'The photo is blurred. Hold the camera steady, let it focus, and try again.' });
  }
  return { measurements: m, issues };
}

const round = (x: number) => Math.round(x * 10) / 10;
