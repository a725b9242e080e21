// End-to-end document analysis on sample images: OCR -> MRZ -> type -> fields.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { analyseDocument, type DocumentAnalysis } from '../../src/verification/document/analysis';
import { compareExpectedPerson } from '../../src/verification/document/fields';
import { parseMrz } from '../../src/verification/document/mrz';
import { decodeDocumentImage } from '../../eval/documents';

const DOCS = fileURLToPath(new URL('../../../shared/data/documents/', import.meta.url));
const TODAY = new Date('2025-06-01T00:00:00Z');

// Samples whose exact MRZ is published in MANIFEST.tsv (mrz_text), one per country/format.
const WITH_TRUTH = [
  'passport/passporteye__100_pass-cze.jpg',
  'passport/passporteye__79_pass-can.jpg',
  'passport/fastmrz__td3.jpg',
  'id_card/passporteye__passport-td2.jpg',
  'national_id/mindee__generated_international_id.jpg',
  'visa/passporteye__100_visa-usa.jpg',
];

describe.skipIf(!existsSync(DOCS))('analyseDocument on sample images', () => {
  const truth = new Map<string, string>();
  const results = new Map<string, DocumentAnalysis>();
  beforeAll(async () => {
    for (const line of readFileSync(`${DOCS}/MANIFEST.tsv`, 'utf8').trim().split('\n').slice(1)) {
      const c = line.split('\t');
      if (c[10]) truth.set(c[0], c[10]);
    }
    for (const f of WITH_TRUTH) results.set(f, await analyseDocument(await decodeDocumentImage(`${DOCS}/${f}`), { today: TODAY }));
  });

  it('reads the MRZ of passports, ID cards (TD1/TD2) and a visa with every check digit valid', () => {
    for (const f of WITH_TRUTH) {
      const a = results.get(f)!;
      expect(a.mrz, f).not.toBeNull();
      expect(a.mrz!.valid, f).toBe(true);
    }
  });

  it('MRZ fields read from the photo equal the published MRZ (dates, number, nationality, sex)', () => {
    for (const f of WITH_TRUTH) {
      const got = results.get(f)!.mrz!;
      const want = parseMrz(truth.get(f)!.split('|'), TODAY)!;
      for (const k of [
        'documentCode',
        'issuingCountry',
        'documentNumber',
        'nationality',
        'dateOfBirth',
        'sex',
        'expirationDate',
        'givenNames',
      ] as const) {
        expect(got[k], `${f} ${k}`).toBe(want[k]);
      }
    }
  });

  it('fields, type and country are filled from the MRZ', () => {
    const a = results.get('passport/passporteye__79_pass-can.jpg')!;
    expect(a).toMatchObject({ documentType: 'passport', country: 'CAN' });
    expect(a.fields).toMatchObject({
      fullName: 'SARAH MARTIN',
      dateOfBirth: '1985-01-01',
      expirationDate: '2023-01-14',
      documentNumber: 'ZE000509',
      source: 'mrz',
    });
    expect(compareExpectedPerson({ fullName: 'Sarah Martin', dateOfBirth: '1985-01-01' }, a.fields).matches).toBe(true);
    expect(compareExpectedPerson({ fullName: 'Sarah Martin', dateOfBirth: '1985-01-02' }, a.fields).matches).toBe(false);
  });

  it('a visa is classified unknown (not an accepted identity document) although its MRZ is valid', () => {
    expect(results.get('visa/passporteye__100_visa-usa.jpg')!.documentType).toBe('unknown');
  });

  it('reports timings and OCR lines in reading order (MRZ lines last on a passport data page)', () => {
    const a = results.get('passport/fastmrz__td3.jpg')!;
    expect(a.timings.ocrMs).toBeGreaterThan(0);
    expect(a.timings.totalMs).toBeGreaterThanOrEqual(a.timings.ocrMs);
    const ys = a.ocrLines.map((l) => l.box.y + l.box.height / 2);
    const mrzIdx = a.ocrLines.findIndex((l) => l.text.replace(/\s/g, '').startsWith('P<UTO'));
    expect(mrzIdx).toBeGreaterThanOrEqual(0);
    expect(ys[mrzIdx]).toBeGreaterThan(Math.max(-Infinity, ...ys.slice(0, mrzIdx)) - 20);
    // The second MRZ line follows the first, and nothing follows it.
    expect(a.ocrLines.length).toBe(mrzIdx + 2);
    expect(ys[mrzIdx + 1]).toBeGreaterThan(ys[mrzIdx]);
  });

  it('stops recognising once a valid passport MRZ settles type, country and fields', () => {
    const a = results.get('passport/fastmrz__td3.jpg')!;
    expect(a.mrz!.valid).toBe(true);
    expect(a.timings.regions).toBeGreaterThan(10);
    expect(a.timings.recognised).toBeLessThan(a.timings.regions / 2);
    expect(a).toMatchObject({ documentType: 'passport', country: 'UTO' });
  });
});
