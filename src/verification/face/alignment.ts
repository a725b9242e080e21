// Geometry on RGB rasters: cropping/resampling a box, and aligning a face onto the
// ArcFace 112x112 template with a least-squares similarity transform (rotation,
// uniform scale, translation: no shear, unlike the 3-point affine in the model
// package's JS, which distorts faces and blurs genuine/impostor separation).
import type { DecodedImage } from '../imageDecode';

export type Raster = Pick<DecodedImage, 'data' | 'width' | 'height'>;
export type Point = [number, number];
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** ArcFace reference positions of [eye (image left), eye (image right), nose tip, mouth left, mouth right] in a 112x112 crop. */
export const ARCFACE_REFERENCE: readonly Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];
export const ALIGNED_SIZE = 112;

/** 2x3 affine matrix [a, b, tx, c, d, ty]: x' = a x + b y + tx, y' = c x + d y + ty. */
export type Affine = [number, number, number, number, number, number];

/**
 * Least-squares similarity transform (Umeyama without reflection) mapping `src` points onto `dst`.
 * Model: x' = s*cos*x - s*sin*y + tx, y' = s*sin*x + s*cos*y + ty.
 */
export function similarityTransform(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  let sx = 0,
    sy = 0,
    dx = 0,
    dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0];
    sy += src[i][1];
    dx += dst[i][0];
    dy += dst[i][1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let num1 = 0,
    num2 = 0,
    den = 0;
  for (let i = 0; i < n; i++) {
    const x = src[i][0] - sx,
      y = src[i][1] - sy;
    const u = dst[i][0] - dx,
      v = dst[i][1] - dy;
    num1 += x * u + y * v; // s*cos * sum(x^2+y^2)
    num2 += x * v - y * u; // s*sin * sum(x^2+y^2)
    den += x * x + y * y;
  }
  if (den === 0) throw new Error('similarityTransform: degenerate source points');
  const a = num1 / den,
    b = num2 / den; // a = s cos, b = s sin
  return [a, -b, dx - (a * sx - b * sy), b, a, dy - (b * sx + a * sy)];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  const ia = d / det,
    ib = -b / det,
    ic = -c / det,
    id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/**
 * Bilinear sample of `img` at (sx, sy) in pixel-centre coordinates, clamped to the image (border
 * pixels replicated); writes the RGB floats 0..255 to out[o], out[o + 1], out[o + 2].
 */
function sampleBilinear(img: Raster, sx: number, sy: number, out: Float32Array, o: number): void {
  const { data, width: W, height: H } = img;
  sx = sx < 0 ? 0 : sx > W - 1 ? W - 1 : sx;
  sy = sy < 0 ? 0 : sy > H - 1 ? H - 1 : sy;
  const x0 = Math.floor(sx),
    y0 = Math.floor(sy);
  const x1 = x0 + 1 < W ? x0 + 1 : x0,
    y1 = y0 + 1 < H ? y0 + 1 : y0;
  const fx = sx - x0,
    fy = sy - y0;
  const p00 = (y0 * W + x0) * 3,
    p01 = (y0 * W + x1) * 3,
    p10 = (y1 * W + x0) * 3,
    p11 = (y1 * W + x1) * 3;
  for (let ch = 0; ch < 3; ch++) {
    const top = data[p00 + ch] + (data[p01 + ch] - data[p00 + ch]) * fx;
    const bot = data[p10 + ch] + (data[p11 + ch] - data[p10 + ch]) * fx;
    out[o + ch] = top + (bot - top) * fy;
  }
}

/**
 * Warps `img` with the forward transform `m` (source -> destination) into an outW x outH RGB raster,
 * bilinear, border pixels replicated. Returns interleaved RGB floats 0..255 in a Float32Array.
 */
export function warpAffine(img: Raster, m: Affine, outW: number, outH: number): Float32Array {
  const [a, b, tx, c, d, ty] = invertAffine(m);
  const out = new Float32Array(outW * outH * 3);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) sampleBilinear(img, a * x + b * y + tx, c * x + d * y + ty, out, (y * outW + x) * 3);
  }
  return out;
}

/** Aligns a face given its 5 points (image coordinates) onto the 112x112 ArcFace template. RGB floats 0..255. */
export function alignFace(img: Raster, landmarks5: readonly Point[]): { pixels: Float32Array; size: number; transform: Affine } {
  const transform = similarityTransform(landmarks5, ARCFACE_REFERENCE);
  return { pixels: warpAffine(img, transform, ALIGNED_SIZE, ALIGNED_SIZE), size: ALIGNED_SIZE, transform };
}

/**
 * Resamples the axis-aligned region `box` of `img` (may extend past the edges: border replicated)
 * to outW x outH. Area-averages when shrinking (no aliasing when a large photo is squashed to the
 * detector's 320x240), bilinear when enlarging. Returns interleaved RGB floats 0..255.
 */
export function cropResize(img: Raster, box: Box, outW: number, outH: number): Float32Array {
  const { data, width: W, height: H } = img;
  const out = new Float32Array(outW * outH * 3);
  const bw = box.x2 - box.x1,
    bh = box.y2 - box.y1;
  const scaleX = bw / outW,
    scaleY = bh / outH;
  if (scaleX <= 1.5 && scaleY <= 1.5) {
    // bilinear, pixel centres aligned like cv2.resize
    for (let y = 0; y < outH; y++) {
      const sy = box.y1 + (y + 0.5) * scaleY - 0.5;
      for (let x = 0; x < outW; x++) sampleBilinear(img, box.x1 + (x + 0.5) * scaleX - 0.5, sy, out, (y * outW + x) * 3);
    }
    return out;
  }
  // area average over integer sample grid (step >= 1 source pixel), clamped at the borders
  const stepX = Math.max(1, Math.floor(scaleX / 2)),
    stepY = Math.max(1, Math.floor(scaleY / 2));
  for (let y = 0; y < outH; y++) {
    const ya = box.y1 + y * scaleY,
      yb = ya + scaleY;
    for (let x = 0; x < outW; x++) {
      const xa = box.x1 + x * scaleX,
        xb = xa + scaleX;
      let r = 0,
        g = 0,
        bl = 0,
        n = 0;
      for (let sy = Math.floor(ya); sy < yb; sy += stepY) {
        const cy = sy < 0 ? 0 : sy > H - 1 ? H - 1 : sy;
        for (let sx = Math.floor(xa); sx < xb; sx += stepX) {
          const cx = sx < 0 ? 0 : sx > W - 1 ? W - 1 : sx;
          const p = (cy * W + cx) * 3;
          r += data[p];
          g += data[p + 1];
          bl += data[p + 2];
          n++;
        }
      }
      const o = (y * outW + x) * 3;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = bl / n;
    }
  }
  return out;
}

/** Square box with side = box height (the detector's boxes are taller than wide), same centre, clipped to the image. */
export function squareBox(b: Box, W: number, H: number): Box {
  const side = b.y2 - b.y1;
  const cx = (b.x1 + b.x2) / 2,
    cy = (b.y1 + b.y2) / 2;
  return {
    x1: Math.max(0, cx - side / 2),
    y1: Math.max(0, cy - side / 2),
    x2: Math.min(W, cx + side / 2),
    y2: Math.min(H, cy + side / 2),
  };
}
