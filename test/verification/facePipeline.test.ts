// analyseFace outcomes: one face -> ok with landmarks, embedding, quality, liveness and timings;
// no face, two people, a face too small -> a typed outcome with a reason the user can act on;
// documents -> the main portrait, found even when it is small in the frame.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { analyseFace, analyseFaceBytes } from '../../src/verification/face/pipeline';
import { decodeImage } from '../../src/verification/imageDecode';
import { EMBEDDING_SIZE } from '../../src/verification/face/embedding';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const read = (f: string) => readFileSync(`${DATA}${f}`);
const TIGER = 'faces/lfw/Tiger_Woods/Tiger_Woods_0019.jpg';
const EMMIT = 'faces/lfw/Emmit_Smith/Emmit_Smith_0001.jpg';

describe('analyseFace on a selfie', () => {
  it('returns the face, 5 landmarks, a unit-length 512-d embedding, quality, liveness and per-stage timings', async () => {
    const r = await analyseFaceBytes(read('liveness/live/silentface__image_T1.jpg'), { role: 'selfie' });
    expect(r.outcome).toBe('ok');
    if (r.outcome !== 'ok') return;
    expect(r.faces).toBe(1);
    expect(r.face.landmarks5).toHaveLength(5);
    const [eyeL, eyeR, nose, mouthL, mouthR] = r.face.landmarks5;
    expect(eyeL[0]).toBeLessThan(eyeR[0]); // image-left eye first
    expect(nose[1]).toBeGreaterThan(eyeL[1]);
    expect(mouthL[1]).toBeGreaterThan(nose[1]);
    expect(mouthR[0]).toBeGreaterThan(mouthL[0]);
    expect(r.embedding).toHaveLength(EMBEDDING_SIZE);
    expect(Math.hypot(...r.embedding)).toBeCloseTo(1, 4);
    expect(r.quality.issues).toEqual([]);
    expect(r.liveness?.score).toBeGreaterThan(0.5);
    expect(r.liveness?.faceHash).toMatch(/^[0-9a-f]{16}$/);
    for (const k of ['decode', 'detect', 'landmarks', 'align', 'embed', 'liveness', 'quality', 'total'] as const)
      expect(r.timings[k]).toBeTypeOf('number');
  });

  it('an image with no face reports no_face (a flat grey picture)', async () => {
    const grey = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const r = await analyseFaceBytes(grey, { role: 'selfie' });
    expect(r.outcome).toBe('no_face');
    expect(r.faces).toBe(0);
  });

  it('two people side by side are reported as multiple_faces, with both boxes', async () => {
    const [a, b] = await Promise.all([TIGER, EMMIT].map((f) => sharp(read(f)).toBuffer()));
    const both = await sharp({ create: { width: 500, height: 250, channels: 3, background: '#fff' } })
      .composite([
        { input: a, left: 0, top: 0 },
        { input: b, left: 250, top: 0 },
      ])
      .jpeg()
      .toBuffer();
    const r = await analyseFaceBytes(both, { role: 'selfie' });
    expect(r.outcome).toBe('multiple_faces');
    expect(r.faces).toBe(2);
    const centresX = r.boxes.map((x) => (x.box.x1 + x.box.x2) / 2).sort((p, q) => p - q);
    expect(centresX[0]).toBeLessThan(250);
    expect(centresX[1]).toBeGreaterThan(250);
  });

  it('a face far from the camera is face_too_small', async () => {
    const small = await sharp(read(TIGER)).extract({ left: 55, top: 55, width: 140, height: 140 }).resize(45, 45).toBuffer();
    const scene = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#9a9a9a' } })
      .composite([{ input: small, left: 300, top: 200 }])
      .jpeg()
      .toBuffer();
    const r = await analyseFaceBytes(scene, { role: 'selfie' });
    expect(r.outcome).toBe('face_too_small');
    expect(r.quality.issues.map((i) => i.code)).toContain('face_too_small');
  });

  it("the same selfie uploaded twice has the same face hash; another person's selfie does not", async () => {
    const { hashDistance } = await import('../../src/verification/face/liveness');
    const t1 = await analyseFaceBytes(read(TIGER), { role: 'selfie' });
    const t2 = await analyseFaceBytes(await sharp(read(TIGER)).jpeg({ quality: 70 }).toBuffer(), { role: 'selfie' });
    const e = await analyseFaceBytes(read(EMMIT), { role: 'selfie' });
    if (t1.outcome !== 'ok' || t2.outcome !== 'ok' || e.outcome !== 'ok') throw new Error('expected faces');
    expect(hashDistance(t1.liveness!.faceHash, t2.liveness!.faceHash)).toBeLessThanOrEqual(6);
    expect(hashDistance(t1.liveness!.faceHash, e.liveness!.faceHash)).toBeGreaterThan(6);
  });
});

describe('analyseFace on a document', () => {
  it('the back of an ID card, which has no portrait, reports no_face', async () => {
    for (const f of [
      'national_id/passporteye__100_id-che.jpg',
      'residence_permit/passporteye__100_id-usa.jpg',
      'national_id/passporteye__77_card-cmw.png',
    ]) {
      const r = await analyseFaceBytes(read(`documents/${f}`), { role: 'document' });
      expect(r.outcome, f).toBe('no_face');
    }
  });

  it('a driving licence with a ghost image uses the large portrait, not the small copy', async () => {
    const r = await analyseFaceBytes(read('documents/driver_license/usdl-samples__California_s.jpg'), { role: 'document' });
    expect(r.outcome).toBe('ok');
    if (r.outcome !== 'ok') return;
    expect(r.faces).toBeGreaterThanOrEqual(2);
    const sides = r.boxes.map((b) => b.box.y2 - b.box.y1);
    expect(r.face.box.y2 - r.face.box.y1).toBe(Math.max(...sides));
    expect(r.liveness).toBeUndefined();
  });

  it('finds the portrait on every passport data page in the dev set that has one', async () => {
    const rows = readFileSync(`${DATA}documents/MANIFEST.tsv`, 'utf8')
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t'));
    const passports = rows.filter((r) => r[1] === 'passport' && (r[8] === 'real' || r[8] === 'real-small')).map((r) => r[0]);
    expect(passports.length).toBeGreaterThan(15);
    for (const f of passports) {
      const r = await analyseFace(await decodeImage(read(`documents/${f}`)), { role: 'document' });
      expect(r.outcome, f).toBe('ok');
    }
  });
});
