// Face detection with fr_detect.onnx (Ultra-Light-Fast RFB-320 family).
// Input: the region resized to 320x240 (aspect not kept), (x - 127) / 128, RGB, NCHW.
// Outputs `scores` [1,N,2] (already soft-maxed, column 1 = face) and `boxes` [1,N,4]
// (already decoded, normalised corners): no prior decoding here.
// Small faces (the portrait on an ID card photo) vanish when a large image is squashed to
// 320x240, so on request the image is also scanned in overlapping tiles and the boxes merged.
import * as ort from 'onnxruntime-node';
import { modelSession } from '../modelFiles';
import sharp from 'sharp';
import { squareBox, type Box, type Raster } from './alignment';

export interface DetectedFace {
  /** Squared box (side = detector box height), clipped to the image, in image pixels. */
  box: Box;
  /** The detector's raw (unsquared) box. */
  rawBox: Box;
  score: number;
}

export const DETECT_SCORE_THRESHOLD = 0.7;
export const DETECT_NMS_IOU = 0.3;
const IN_W = 320,
  IN_H = 240;
/** With tiles: true, the tiles are scanned unless a face at least this fraction of the image's short side was found. */
export const SMALL_FACE_FRACTION = 0.15;
/** Tile detections smaller than this (image pixels) are dropped: on the document set they were all false (guilloche, text). */
export const MIN_TILE_FACE = 20;

export interface DetectOptions {
  /**
   * Also scan overlapping tiles (for small faces, e.g. ID portraits). true: only when the whole-image
   * pass found no face taller than SMALL_FACE_FRACTION of the short side; 'always': unconditionally.
   */
  tiles?: boolean | 'always';
  scoreThreshold?: number;
}

export function iou(a: Box, b: Box): number {
  const ix = Math.max(0, Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1));
  const iy = Math.max(0, Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1));
  const inter = ix * iy;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy NMS: keeps the highest-scoring box of every overlapping group. Input need not be sorted. */
export function nms<T extends { rawBox: Box; score: number }>(items: T[], iouThreshold = DETECT_NMS_IOU): T[] {
  const sorted = [...items].sort((p, q) => q.score - p.score);
  const kept: T[] = [];
  for (const it of sorted) if (kept.every((k) => iou(k.rawBox, it.rawBox) <= iouThreshold)) kept.push(it);
  return kept;
}

/** Runs the detector on one region of the image; boxes come back in image coordinates, before NMS. */
async function detectRegion(img: Raster, region: Box, threshold: number): Promise<{ rawBox: Box; score: number }[]> {
  // libvips (SIMD, anti-aliased reduce) is ~3x faster than a JS resampler here.
  const left = Math.round(region.x1),
    top = Math.round(region.y1);
  const width = Math.round(region.x2) - left,
    height = Math.round(region.y2) - top;
  region = { x1: left, y1: top, x2: left + width, y2: top + height };
  let pipeline = sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } });
  if (width !== img.width || height !== img.height) pipeline = pipeline.extract({ left, top, width, height });
  const rgb = await pipeline.resize(IN_W, IN_H, { fit: 'fill' }).raw().toBuffer();
  const plane = IN_W * IN_H;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    input[i] = (rgb[i * 3] - 127) / 128;
    input[plane + i] = (rgb[i * 3 + 1] - 127) / 128;
    input[2 * plane + i] = (rgb[i * 3 + 2] - 127) / 128;
  }
  const session = await modelSession('face/fr_detect.onnx');
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, IN_H, IN_W]) });
  const scores = out.scores.data as Float32Array;
  const boxes = out.boxes.data as Float32Array;
  const rw = region.x2 - region.x1,
    rh = region.y2 - region.y1;
  const found: { rawBox: Box; score: number }[] = [];
  for (let i = 0; i < scores.length / 2; i++) {
    const s = scores[i * 2 + 1];
    if (s < threshold) continue;
    found.push({
      score: s,
      rawBox: {
        x1: region.x1 + boxes[i * 4] * rw,
        y1: region.y1 + boxes[i * 4 + 1] * rh,
        x2: region.x1 + boxes[i * 4 + 2] * rw,
        y2: region.y1 + boxes[i * 4 + 3] * rh,
      },
    });
  }
  return found;
}

/** Overlapping tiles: a 2x2 grid of 60%-size tiles (20% overlap: any face up to 20% of the image fits whole in one). */
function tileRegions(W: number, H: number): Box[] {
  const tw = W * 0.6,
    th = H * 0.6;
  const tiles: Box[] = [];
  for (const y of [0, H - th]) for (const x of [0, W - tw]) tiles.push({ x1: x, y1: y, x2: x + tw, y2: y + th });
  return tiles;
}

/** Detects faces; returns them sorted by score (highest first), after NMS, with squared boxes. */
export async function detectFaces(img: Raster, opts: DetectOptions = {}): Promise<DetectedFace[]> {
  const threshold = opts.scoreThreshold ?? DETECT_SCORE_THRESHOLD;
  const src = img;
  const W = src.width,
    H = src.height;
  let cands = await detectRegion(src, { x1: 0, y1: 0, x2: W, y2: H }, threshold);
  // Tiles only help faces that are small in the frame: skip them when a large face was already found.
  // (On the 69 document photos with a portrait the whole-image pass alone found every portrait; tiles
  // recover small ones in large frames, e.g. a passport photographed on a table.)
  const largest = cands.reduce((m, c) => Math.max(m, c.rawBox.y2 - c.rawBox.y1), 0);
  const tilesWanted = opts.tiles === 'always' || (opts.tiles && largest < SMALL_FACE_FRACTION * Math.min(W, H));
  if (tilesWanted) {
    for (const t of tileRegions(W, H)) {
      // A box touching an inner tile edge is likely a cut-off face: the full image or another tile covers it.
      const inner = (await detectRegion(src, t, threshold)).filter(({ rawBox: b }) => {
        const m = 2;
        if (b.y2 - b.y1 < MIN_TILE_FACE) return false;
        return (
          (t.x1 <= 0 || b.x1 > t.x1 + m) &&
          (t.y1 <= 0 || b.y1 > t.y1 + m) &&
          (t.x2 >= W || b.x2 < t.x2 - m) &&
          (t.y2 >= H || b.y2 < t.y2 - m)
        );
      });
      cands = cands.concat(inner);
    }
  }
  return nms(cands).map((c) => ({ score: c.score, rawBox: c.rawBox, box: squareBox(c.rawBox, W, H) }));
}
