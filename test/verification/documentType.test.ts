// Document-type classification: keyword/MRZ rules, then real sample photos through OCR.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { classifyDocument, documentTypeFromManifestLabel, type DocumentType } from '../../src/verification/document/classification';
import { parseMrz } from '../../src/verification/document/mrz';
import { analyseDocument, type DocumentAnalysis } from '../../src/verification/document/analysis';
import { decodeDocumentImage } from '../../eval/documents';

const DOCS = fileURLToPath(new URL('../../../shared/data/documents/', import.meta.url));

describe('classifyDocument rules', () => {
  it('maps the sample-set folder labels onto the five document types', () => {
    expect(documentTypeFromManifestLabel('passport')).toBe('passport');
    expect(documentTypeFromManifestLabel('driver_license')).toBe('drivers-license');
    expect(documentTypeFromManifestLabel('national_id')).toBe('identification');
    expect(documentTypeFromManifestLabel('id_card')).toBe('identification');
    expect(documentTypeFromManifestLabel('residence_permit')).toBe('residence');
    expect(documentTypeFromManifestLabel('visa')).toBe('unknown');
    expect(documentTypeFromManifestLabel('other')).toBe('unknown');
  });

  it('an MRZ with document code P makes a passport, with the issuing country', () => {
    const mrz = parseMrz(['P<CANMARTIN<<SARAH<<<<<<<<<<<<<<<<<<<<<<<<<<', 'ZE000509<9CAN8501019F2301147<<<<<<<<<<<<<<08']);
    const c = classifyDocument(['CANADA', 'MARTIN', 'SARAH'], mrz);
    expect(c.documentType).toBe('passport');
    expect(c.country).toBe('CAN');
    expect(c.evidence.join(' ')).toMatch(/mrz document code P/);
  });

  it('a US licence is recognised from its keywords and state name, with the state as subdivision', () => {
    const c = classifyDocument(['Florida', 'DRIVER LICENSE CLASS E', 'DOB: 08-16-1960', 'EXPIRES: 07-10-2021']);
    expect(c).toMatchObject({ documentType: 'drivers-license', country: 'USA', subdivision: 'FL' });
  });

  it('a state non-driver ID card is identification, even with DL-style fields', () => {
    const c = classifyDocument(['NORTH CAROLINA', 'IDENTIFICATION', 'CARD', '4dIDN 300038099904', 'DOB 06/17/1975', '4bEXP 06/17/2025']);
    expect(c.documentType).toBe('identification');
    expect(c.subdivision).toBe('NC');
  });

  it('residence permits are told apart from identity cards by their wording', () => {
    expect(classifyDocument(['TITRE DE SEJOUR', 'RÉPUBLIQUE FRANÇAISE']).documentType).toBe('residence');
    expect(classifyDocument(['AUFENTHALTSTITEL', 'BUNDESREPUBLIK DEUTSCHLAND']).documentType).toBe('residence');
    expect(classifyDocument(['UNITED STATES OF AMERICA', 'PERMANENT RESIDENT']).documentType).toBe('residence');
  });

  it('visas, invoices and text without identity cues are unknown', () => {
    const visa = parseMrz(['V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L8988901C4XXX4009078F96121096ZE184226B<<<<<<']);
    expect(classifyDocument(['VISA'], visa).documentType).toBe('unknown');
    expect(classifyDocument(['INVOICE', 'Total due 120.00 EUR']).documentType).toBe('unknown');
    expect(classifyDocument(['hello world']).documentType).toBe('unknown');
  });
});

// Real photos/scans from ../shared/data/documents, through OCR + MRZ + classifier.
const SAMPLES: Record<Exclude<DocumentType, 'unknown' | 'residence'>, string[]> = {
  passport: [
    'passport/passporteye__100_pass-uto.jpg',
    'passport/passporteye__100_pass-cze.jpg',
    'passport/passporteye__79_pass-can.jpg',
    'passport/passporteye__98_pass-nld.jpg',
    'passport/mindee__ind_passport_default_sample.jpg',
    'passport/passporteye__100_pass-lux.jpg', // tilted photo, MRZ lines detected as rotated boxes
  ],
  'drivers-license': [
    'driver_license/usdl-samples__Florida.jpg',
    'driver_license/usdl-samples__Texas.jpg',
    'driver_license/usdl-samples__Ohio_s.jpg',
    'driver_license/usdl-samples__Connecticut.jpg',
    'driver_license/mindee__eu_driver_license_default_sample.jpg',
    'driver_license/azure-samples__DriverLicense.png',
  ],
  identification: [
    'national_id/passporteye__100_id-che.jpg',
    'national_id/passporteye__53_id-d.jpg',
    'id_card/fastmrz__td1.jpg',
    'national_id/mindee__idcard_fr_new_sample.jpg',
    'id_card/usdl-samples__North_Carolina_s.jpg',
  ],
};

describe.skipIf(!existsSync(DOCS))('sample documents', () => {
  const results = new Map<string, DocumentAnalysis>();
  beforeAll(async () => {
    for (const file of Object.values(SAMPLES).flat()) {
      results.set(file, await analyseDocument(await decodeDocumentImage(`${DOCS}/${file}`)));
    }
  });
  const typeOf = (f: string) => results.get(f)!.documentType;

  it('a passport photo from the sample set is recognised as a passport (6 passports, 5 countries)', () => {
    for (const f of SAMPLES.passport) expect(typeOf(f), f).toBe('passport');
    expect(results.get('passport/passporteye__100_pass-cze.jpg')!.country).toBe('CZE');
  });

  it('a US driver licence is recognised as drivers-license (and the EU licence too)', () => {
    for (const f of SAMPLES['drivers-license']) expect(typeOf(f), f).toBe('drivers-license');
    expect(results.get('driver_license/usdl-samples__Texas.jpg')!.classification.subdivision).toBe('TX');
  });

  it('an ID card is recognised as identification (national IDs with and without MRZ, a state ID)', () => {
    for (const f of SAMPLES.identification) expect(typeOf(f), f).toBe('identification');
  });

  it('passports read from the photo carry an MRZ with valid check digits', () => {
    const valid = SAMPLES.passport.filter((f) => results.get(f)!.mrz?.valid);
    expect(valid.length).toBeGreaterThanOrEqual(5);
  });

  it('driving licences have no MRZ and are classified from text', () => {
    for (const f of SAMPLES['drivers-license']) expect(results.get(f)!.mrz, f).toBeNull();
  });
});
