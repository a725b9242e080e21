// 512-d face embedding with fr_feature.onnx (MobileFaceNet class) from a 112x112 aligned face.
// Input [1,3,112,112], (x - 127) / 128, channel order BGR (measured on the LFW dev pairs:
// see EMBEDDING_CHANNEL_ORDER). Output: 512 floats, L2-normalised here, compared by cosine.
import * as ort from 'onnxruntime-node';
import { modelSession } from '../modelFiles';
import { ALIGNED_SIZE } from './alignment';

export const EMBEDDING_SIZE = 512;
/**
 * BGR was chosen by measurement (eval/faces.ts on the 600 LFW dev pairs, similarity alignment):
 * BGR gives the higher AUC / TAR@FAR — see the numbers in faceMatch.ts. Changing this requires
 * re-running the evaluation and re-choosing the threshold.
 */
export let EMBEDDING_CHANNEL_ORDER: 'BGR' | 'RGB' = 'BGR';
/** For the evaluation only: compare channel orders. */
export function setEmbeddingChannelOrder(order: 'BGR' | 'RGB'): void {
  EMBEDDING_CHANNEL_ORDER = order;
}

/** `aligned`: interleaved RGB floats 0..255, 112x112 (from alignFace). Returns an L2-normalised embedding. */
export async function faceEmbedding(aligned: Float32Array): Promise<Float32Array> {
  const plane = ALIGNED_SIZE * ALIGNED_SIZE;
  if (aligned.length !== plane * 3) throw new Error(`faceEmbedding: expected ${plane * 3} values, got ${aligned.length}`);
  const input = new Float32Array(3 * plane);
  const [c0, c1, c2] = EMBEDDING_CHANNEL_ORDER === 'BGR' ? [2, 1, 0] : [0, 1, 2];
  for (let i = 0; i < plane; i++) {
    input[i] = (aligned[i * 3 + c0] - 127) / 128;
    input[plane + i] = (aligned[i * 3 + c1] - 127) / 128;
    input[2 * plane + i] = (aligned[i * 3 + c2] - 127) / 128;
  }
  const session = await modelSession('face/fr_feature.onnx');
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]) });
  const v = Float32Array.from(out[session.outputNames[0]].data as Float32Array);
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i] * v[i];
  n = Math.sqrt(n) || 1;
  for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/** Cosine similarity in [-1, 1]; plain cosine, no mean subtraction (the package's JS bug #1). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosineSimilarity: length ${a.length} vs ${b.length}`);
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na && nb ? dot / Math.sqrt(na * nb) : 0;
}
