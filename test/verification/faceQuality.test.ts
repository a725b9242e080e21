// Capture-quality issues the end user can fix: real photos pass, darkened / overexposed / blurred /
// thumbnail copies of the same photos are flagged with the matching code and a readable reason.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/verification/imageDecode';
import { detectFaces } from '../../src/verification/face/detection';
import { assessImageQuality, type QualityIssueCode } from '../../src/verification/face/quality';

const DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
const lfw = readFileSync(`${DATA}faces/MANIFEST.tsv`, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((l) => `${DATA}faces/${l.split('\t')[0]}`);
/** 12 LFW photos spread over the alphabet, not hand-picked. */
const SAMPLE = lfw.filter((_, i) => i % Math.floor(lfw.length / 12) === 0).slice(0, 12);
const DOCS = [
  'passport/passporteye__100_pass-bdr.jpg',
  'driver_license/usdl-samples__California_s.jpg',
  'national_id/mindee__idcard_fr_new_sample.jpg',
].map((f) => `${DATA}documents/${f}`);

async function issuesOf(bytes: Buffer, role: 'selfie' | 'document' = 'selfie'): Promise<QualityIssueCode[]> {
  const img = await decodeImage(bytes);
  const [face] = await detectFaces(img, { tiles: role === 'document' });
  const q = assessImageQuality(img, { faceBox: face?.box, role });
  for (const i of q.issues) expect(i.reason.length).toBeGreaterThan(20);
  return q.issues.map((i) => i.code);
}
const blurred = async (b: Buffer) => {
  const { width = 250, height = 250 } = await sharp(b).metadata();
  return sharp(b)
    .blur((3 * Math.max(width, height)) / 250)
    .jpeg()
    .toBuffer();
};

describe('image quality', () => {
  it('real LFW photos and document photos raise no issue', async () => {
    for (const f of SAMPLE) expect(await issuesOf(readFileSync(f)), f).toEqual([]);
    for (const f of DOCS) expect(await issuesOf(readFileSync(f), 'document'), f).toEqual([]);
  });

  it('a darkened copy is too dark', async () => {
    for (const f of [...SAMPLE.slice(0, 6), ...DOCS]) {
      const dark = await sharp(readFileSync(f)).linear(0.25, 0).jpeg().toBuffer();
      expect(await issuesOf(dark), f).toContain('image_too_dark');
    }
  });

  it('an overexposed copy is too bright', async () => {
    const f = SAMPLE[1];
    const bright = await sharp(readFileSync(f)).linear(2, 60).jpeg().toBuffer();
    expect(await issuesOf(bright), f).toContain('image_too_bright');
  });

  it('a blurred copy is blurred', async () => {
    for (const f of [...SAMPLE.slice(0, 6), ...DOCS]) expect(await issuesOf(await blurred(readFileSync(f))), f).toContain('image_blurred');
  });

  it('a thumbnail is too small', async () => {
    const thumb = await sharp(readFileSync(SAMPLE[0])).resize(100, 100).jpeg().toBuffer();
    expect(await issuesOf(thumb)).toContain('image_too_small');
  });

  it('reports the measurements it decided on', async () => {
    const img = await decodeImage(readFileSync(SAMPLE[0]));
    const [face] = await detectFaces(img);
    const { measurements: m } = assessImageQuality(img, { faceBox: face.box });
    expect(m).toMatchObject({ width: 250, height: 250 });
    for (const k of ['brightness', 'highlights', 'blur', 'sharpness', 'faceBrightness', 'faceBlur', 'faceSize'] as const)
      expect(m[k]).toBeTypeOf('number');
  });
});
