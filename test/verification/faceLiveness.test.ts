// Passive liveness on the 16-image dev set. Only what the model actually achieves is asserted:
// it rejects the printed photos, the tablet replay and the paper masks, and accepts the live
// captures; it does NOT catch the Doubango recapture, disguise or GAN samples (documented below).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/verification/imageDecode';
import { detectFaces } from '../../src/verification/face/detection';
import { LIVENESS_THRESHOLD, livenessCropBox, livenessScore, manipulationSignals } from '../../src/verification/face/liveness';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const rows = readFileSync(`${DATA}liveness/MANIFEST.tsv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => l.split('\t'))
  .map((r) => ({ file: r[0], label: r[1], attackType: r[6] }));

describe('liveness on the dev set', () => {
  const score = new Map<string, number>();
  beforeAll(async () => {
    for (const r of rows) {
      const img = await decodeImage(readFileSync(`${DATA}liveness/${r.file}`), { maxSide: 640 });
      const faces = await detectFaces(img);
      const largest = faces.reduce((a, b) => (b.box.y2 - b.box.y1 > a.box.y2 - a.box.y1 ? b : a));
      score.set(r.file, await livenessScore(img, largest.box));
    }
  });
  const live = () => rows.filter((r) => r.label === 'live');
  const caught = () => rows.filter((r) => r.label === 'spoof' && /print|replay|mask/.test(r.attackType));

  it('has 5 live and 8 print / replay / mask samples', () => {
    expect(live()).toHaveLength(5);
    expect(caught()).toHaveLength(8);
  });

  it('accepts every live capture', () => {
    for (const r of live()) expect(score.get(r.file), r.file).toBeGreaterThanOrEqual(LIVENESS_THRESHOLD);
  });

  it('rejects every printed photo, screen replay and paper mask', () => {
    for (const r of caught()) expect(score.get(r.file), r.file).toBeLessThan(LIVENESS_THRESHOLD);
  });

  it('scores every print / replay / mask attack below every live sample', () => {
    const minLive = Math.min(...live().map((r) => score.get(r.file)!));
    const maxAttack = Math.max(...caught().map((r) => score.get(r.file)!));
    expect(maxAttack).toBeLessThan(minLive);
  });

  it('known gap: the Doubango recapture, disguise and GAN samples are accepted as live', () => {
    // Kept as a test so an improvement (or a regression in the other direction) is noticed.
    const missed = rows.filter((r) => r.file.startsWith('spoof/doubango'));
    expect(missed).toHaveLength(3);
    for (const r of missed) expect(score.get(r.file), r.file).toBeGreaterThanOrEqual(LIVENESS_THRESHOLD);
  });
});

describe('liveness helpers', () => {
  it('the 2.7x crop stays inside the image, shifting rather than shrinking near the edge', () => {
    const b = livenessCropBox({ x1: 0, y1: 0, x2: 100, y2: 100 }, 640, 480);
    expect(b.x1).toBeGreaterThanOrEqual(0);
    expect(b.y1).toBeGreaterThanOrEqual(0);
    expect(b.x2 - b.x1).toBeCloseTo(270);
    expect(b.y2 - b.y1).toBeCloseTo(270);
  });

  it('flags screenshot-like uploads: an exact screen resolution and no EXIF', () => {
    expect(manipulationSignals({ originalWidth: 1170, originalHeight: 2532, hasExif: false })).toEqual({
      screenResolution: true,
      noExif: true,
    });
    expect(manipulationSignals({ originalWidth: 3024, originalHeight: 4032, hasExif: true })).toEqual({
      screenResolution: false,
      noExif: false,
    });
  });
});
