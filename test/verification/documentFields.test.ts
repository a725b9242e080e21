// Field extraction, expiry and expected-person comparison.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareExpectedPerson, extractFields, findDates, isExpired, nameSimilarity } from '../../src/verification/document/fields';
import { parseMrz } from '../../src/verification/document/mrz';
import { analyseDocument } from '../../src/verification/document/analysis';
import { decodeDocumentImage } from '../../eval/documents';

const DOCS = fileURLToPath(new URL('../../../shared/data/documents/', import.meta.url));
const TODAY = new Date('2025-06-01T00:00:00Z');

// OCR output of the Florida sample licence (usdl-samples__Florida.jpg), as read by PP-OCRv4.
const FLORIDA_OCR = [
  'Florida',
  'sunshineState',
  'DRIVERLICENSECLASSE',
  'S514-172-80-844-0',
  'JOE',
  'SAMPLE',
  '921GETAWAYLANE',
  'TALLAHASSEE,FL32317',
  'DOB:08-16-1960SEX:M',
  'ISSUED:02-01-2013HGT:5-08',
  'EXPIRES:07-10-2021',
  'REST:BF',
  'ENDORSE:P',
  'REPLACED:08-16-2003',
];
// AAMVA numbered fields (North Carolina sample ID card).
const NC_OCR = [
  'NORTH CAROLINA',
  'IDENTIFICATION',
  'CARD',
  '4dIDN',
  '300038099904',
  'DOB',
  '06/17/1975',
  '4bEXP',
  '06/17/2025',
  '1DOE',
  '2JEFFERYJAMES',
  '81100NEWBERNAVE',
  'RALEIGH.NC27697-0002',
  '4aISs02/13/2017',
];

describe('dates in OCR text', () => {
  it('US dates are read as MM/DD/YYYY with various separators', () => {
    expect(findDates('DOB:08-16-1960SEX:M').map((d) => d.iso)).toEqual(['1960-08-16']);
    expect(findDates('4b EXP 08/31/2014').map((d) => d.iso)).toEqual(['2014-08-31']);
    expect(findDates('12 AUG/AOUT 74').map((d) => d.iso)).toEqual(['1974-08-12']);
  });
});

describe('extractFields', () => {
  it('a US driver licence gives DOB and expiry from their labels, and the licence number', () => {
    const f = extractFields(FLORIDA_OCR, null, { country: 'USA' });
    expect(f.dateOfBirth).toBe('1960-08-16');
    expect(f.expirationDate).toBe('2021-07-10');
    expect(f.documentNumber).toBe('S514-172-80-844-0');
    expect(f.source).toBe('ocr');
  });

  it('AAMVA labels on their own line ("DOB", "4b EXP") and numbered name fields are used', () => {
    const f = extractFields(NC_OCR, null, { country: 'USA' });
    expect(f.dateOfBirth).toBe('1975-06-17');
    expect(f.expirationDate).toBe('2025-06-17');
    expect(f.surname).toBe('DOE');
    expect(f.givenNames).toBe('JEFFERYJAMES');
  });

  it('MRZ fields are preferred when their check digits validate', () => {
    const mrz = parseMrz(['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'], TODAY);
    const f = extractFields(['Date of birth 01/01/1990'], mrz);
    expect(f).toMatchObject({
      fullName: 'ANNA MARIA ERIKSSON',
      dateOfBirth: '1974-08-12',
      expirationDate: '2012-04-15',
      documentNumber: 'L898902C3',
      country: 'UTO',
      source: 'mrz',
    });
  });
});

describe('isExpired', () => {
  it('an expiry date before today is expired, today or later is not', () => {
    expect(isExpired('2012-04-15', TODAY)).toBe(true);
    expect(isExpired('2025-06-01', TODAY)).toBe(false);
    expect(isExpired('2030-01-01', TODAY)).toBe(false);
    expect(isExpired(null, TODAY)).toBeNull();
  });
});

describe('compareExpectedPerson', () => {
  it('matches names regardless of case, diacritics and word order', () => {
    expect(nameSimilarity('Anna María Eriksson', 'ERIKSSON ANNA MARIA')).toBe(1);
    expect(nameSimilarity('Carmen Española Española', 'CARMEN ESPANOLA ESPANOLA')).toBe(1);
  });

  it('tolerates a missing middle name and a one-letter OCR error', () => {
    expect(nameSimilarity('Anna Eriksson', 'ANNA MARIA ERIKSSON')).toBeGreaterThanOrEqual(0.85);
    expect(nameSimilarity('Anna Maria Eriksson', 'ANNA MARIA ERIKSSAN')).toBeGreaterThanOrEqual(0.85);
  });

  it('does not match a different person', () => {
    const c = compareExpectedPerson(
      { fullName: 'John Smith', dateOfBirth: '1974-08-12' },
      { fullName: 'ANNA MARIA ERIKSSON', dateOfBirth: '1974-08-12' },
    );
    expect(c.nameSimilarity).toBeLessThan(0.5);
    expect(c.matches).toBe(false);
    // Same surname only is not enough.
    expect(nameSimilarity('Peter Eriksson', 'ANNA MARIA ERIKSSON')).toBeLessThan(0.85);
  });

  it('a different date of birth fails the comparison even when the name matches', () => {
    const c = compareExpectedPerson(
      { fullName: 'Anna Maria Eriksson', dateOfBirth: '1974-08-13' },
      { fullName: 'ANNA MARIA ERIKSSON', dateOfBirth: '1974-08-12' },
    );
    expect(c).toMatchObject({ nameMatches: true, dateOfBirthMatches: false, matches: false });
  });
});

describe.skipIf(!existsSync(DOCS))('expiry on sample documents (OCR + MRZ)', () => {
  it('an expired document is caught: ICAO specimen passports (expiry 2012-04-15 in the MRZ)', async () => {
    for (const file of ['passport/passporteye__100_pass-uto.jpg', 'passport/fastmrz__td3.jpg', 'passport/passporteye__passport-td3.jpg']) {
      const a = await analyseDocument(await decodeDocumentImage(`${DOCS}/${file}`), { today: TODAY });
      expect(a.fields.expirationDate, file).toBe('2012-04-15');
      expect(isExpired(a.fields.expirationDate, TODAY), file).toBe(true);
      // The same document was valid in 2010.
      expect(isExpired(a.fields.expirationDate, new Date('2010-01-01')), file).toBe(false);
    }
  });

  it('an expired US driver licence is caught from its printed expiry date', async () => {
    const a = await analyseDocument(await decodeDocumentImage(`${DOCS}/driver_license/usdl-samples__Florida.jpg`), { today: TODAY });
    expect(a.mrz).toBeNull();
    expect(a.fields.expirationDate).toBe('2021-07-10');
    expect(isExpired(a.fields.expirationDate, TODAY)).toBe(true);
  });
});
