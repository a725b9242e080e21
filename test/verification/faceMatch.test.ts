// Face match on real LFW pairs: genuine pairs score above FACE_MATCH_THRESHOLD, impostor pairs
// below it. 20 pairs of each kind, taken at a fixed stride from the standard pairsDevTrain list
// (not hand-picked); the full measurement is `npx tsx eval/faces.ts`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseFaceBytes } from '../../src/verification/face/pipeline';
import { cosineSimilarity } from '../../src/verification/face/embedding';
import { FACE_MATCH_THRESHOLD, matchConfidence, matchFaces } from '../../src/verification/face/match';
import { alignFace, ARCFACE_REFERENCE, similarityTransform, type Point } from '../../src/verification/face/alignment';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const pairs = readFileSync(`${DATA}faces/pairs.tsv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .filter((r) => r[3] === 'lfw-pairsDevTrain')
  .map(([a, b, label]) => ({ a, b, same: label === 'same' }));
const every15th = <T>(xs: T[]) => xs.filter((_, i) => i % 15 === 0).slice(0, 20);
const GENUINE = every15th(pairs.filter((p) => p.same));
const IMPOSTOR = every15th(pairs.filter((p) => !p.same));

async function embed(file: string): Promise<Float32Array> {
  // Press photos often show bystanders; the 'document' role takes the main face instead of refusing.
  const r = await analyseFaceBytes(readFileSync(`${DATA}faces/${file}`), { role: 'document' });
  if (r.outcome !== 'ok') throw new Error(`${file}: ${r.outcome}`);
  return r.embedding;
}

describe('face match on LFW pairs', () => {
  const scores = { genuine: [] as number[], impostor: [] as number[] };
  beforeAll(async () => {
    for (const p of GENUINE) scores.genuine.push(matchFaces(await embed(p.a), await embed(p.b)).similarity);
    for (const p of IMPOSTOR) scores.impostor.push(matchFaces(await embed(p.a), await embed(p.b)).similarity);
  });

  it('uses 20 genuine and 20 impostor pairs', () => {
    expect(scores.genuine).toHaveLength(20);
    expect(scores.impostor).toHaveLength(20);
  });

  it('accepts at least 19 of 20 genuine pairs (same person, different photos)', () => {
    expect(scores.genuine.filter((s) => s >= FACE_MATCH_THRESHOLD).length).toBeGreaterThanOrEqual(19);
  });

  it('rejects all 20 impostor pairs (different people)', () => {
    expect(scores.impostor.filter((s) => s >= FACE_MATCH_THRESHOLD)).toEqual([]);
  });

  it('separates the two groups clearly: median genuine score is far above the median impostor score', () => {
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[10];
    expect(med(scores.genuine) - med(scores.impostor)).toBeGreaterThan(0.4);
  });

  it('maps similarity to a monotonic confidence in 0..1, high for genuine and low for impostor pairs', () => {
    expect(matchConfidence(-1)).toBeLessThan(0.001);
    expect(matchConfidence(1)).toBeGreaterThan(0.999);
    expect(matchConfidence(0.5)).toBeGreaterThan(matchConfidence(0.3));
    const medG = [...scores.genuine].sort((a, b) => a - b)[10],
      medI = [...scores.impostor].sort((a, b) => a - b)[10];
    expect(matchConfidence(medG)).toBeGreaterThan(0.95);
    expect(matchConfidence(medI)).toBeLessThan(0.05);
  });

  it('an image compared with itself has similarity 1', async () => {
    const e = await embed(GENUINE[0].a);
    expect(cosineSimilarity(e, e)).toBeCloseTo(1, 5);
    expect(matchFaces(e, e).match).toBe(true);
  });
});

describe('alignment', () => {
  it('the similarity transform maps the reference points onto themselves after a rotation + scale + shift', () => {
    const angle = 0.3,
      s = 2.5;
    const moved: Point[] = ARCFACE_REFERENCE.map(([x, y]) => [
      s * (Math.cos(angle) * x - Math.sin(angle) * y) + 40,
      s * (Math.sin(angle) * x + Math.cos(angle) * y) + 7,
    ]);
    const [a, b, tx, c, d, ty] = similarityTransform(moved, ARCFACE_REFERENCE);
    moved.forEach(([x, y], i) => {
      expect(a * x + b * y + tx).toBeCloseTo(ARCFACE_REFERENCE[i][0], 6);
      expect(c * x + d * y + ty).toBeCloseTo(ARCFACE_REFERENCE[i][1], 6);
    });
  });

  it('produces a 112x112 RGB face', () => {
    const img = { data: Buffer.alloc(200 * 200 * 3, 128), width: 200, height: 200 };
    const { pixels, size } = alignFace(
      img,
      ARCFACE_REFERENCE.map(([x, y]) => [x + 40, y + 40] as Point),
    );
    expect(size).toBe(112);
    expect(pixels.length).toBe(112 * 112 * 3);
    expect(pixels[0]).toBeCloseTo(128);
  });
});
