// 68-point facial landmarks with fr_landmark.onnx, and the 5-point reduction used for alignment.
// Input [1,1,64,64]: exactly the squared face box, resized to 64x64, grayscale, / 256.
// Output: 136 values = 68 (x, y) pairs normalised to the crop.
import * as ort from 'onnxruntime-node';
import { modelSession } from '../modelFiles';
import { cropResize, type Box, type Point, type Raster } from './alignment';

const SIZE = 64;

/** Returns the 68 landmarks in image coordinates (iBUG 300-W order, 0-based). */
export async function detectLandmarks68(img: Raster, box: Box): Promise<Point[]> {
  const rgb = cropResize(img, box, SIZE, SIZE);
  const input = new Float32Array(SIZE * SIZE);
  for (let i = 0; i < input.length; i++) {
    input[i] = (0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2]) / 256;
  }
  const session = await modelSession('face/fr_landmark.onnx');
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 1, SIZE, SIZE]) });
  const v = out[session.outputNames[0]].data as Float32Array;
  const w = box.x2 - box.x1,
    h = box.y2 - box.y1;
  const pts: Point[] = [];
  for (let i = 0; i < 68; i++) pts.push([box.x1 + v[i * 2] * w, box.y1 + v[i * 2 + 1] * h]);
  return pts;
}

const mean = (pts: Point[], idx: number[]): Point => [
  idx.reduce((s, i) => s + pts[i][0], 0) / idx.length,
  idx.reduce((s, i) => s + pts[i][1], 0) / idx.length,
];

/** 5 points in ArcFace order: eye (image left), eye (image right), nose tip, mouth corner left, mouth corner right. */
export function landmarks5From68(p: Point[]): Point[] {
  return [mean(p, [37, 38, 40, 41]), mean(p, [43, 44, 46, 47]), p[30], mean(p, [48, 60]), mean(p, [54, 64])];
}
