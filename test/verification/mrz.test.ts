// MRZ parsing (ICAO 9303): formats, check digits, OCR-confusion handling.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDigit, findMrz, mrzDateToIso, normaliseMrzText, parseMrz } from '../../src/verification/document/mrz';

const DOCS = fileURLToPath(new URL('../../../shared/data/documents/', import.meta.url));
const TODAY = new Date('2025-06-01T00:00:00Z');

// ICAO 9303 specimen ("Utopia", Anna Maria Eriksson), parts 4-6.
const TD3 = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];
const TD2 = ['I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<', 'D231458907UTO7408122F1204159<<<<<<<6'];
const TD1 = ['I<UTOD231458907<<<<<<<<<<<<<<<', '7408122F1204159UTO<<<<<<<<<<<6', 'ERIKSSON<<ANNA<MARIA<<<<<<<<<<'];

describe('check digits', () => {
  it('follow ICAO 9303 (weights 7-3-1, A=10, < = 0)', () => {
    expect(checkDigit('L898902C3')).toBe(6);
    expect(checkDigit('740812')).toBe(2);
    expect(checkDigit('120415')).toBe(9);
    expect(checkDigit('ZE184226B<<<<<')).toBe(1);
    expect(checkDigit('<<<<')).toBe(0);
  });
});

describe('parseMrz', () => {
  it('a TD3 passport MRZ is parsed with valid check digits', () => {
    const r = parseMrz(TD3, TODAY)!;
    expect(r).toMatchObject({
      format: 'TD3',
      documentCode: 'P',
      issuingCountry: 'UTO',
      surname: 'ERIKSSON',
      givenNames: 'ANNA MARIA',
      documentNumber: 'L898902C3',
      nationality: 'UTO',
      dateOfBirth: '1974-08-12',
      sex: 'F',
      expirationDate: '2012-04-15',
      optionalData: 'ZE184226B',
      valid: true,
    });
    expect(r.checkDigits).toEqual({ documentNumber: true, dateOfBirth: true, expirationDate: true, optionalData: true, composite: true });
    expect(r.corrections).toEqual([]);
  });

  it('a TD1 identity card MRZ (3 x 30) is parsed with its composite check digit', () => {
    const r = parseMrz(TD1, TODAY)!;
    expect(r).toMatchObject({
      format: 'TD1',
      documentCode: 'I',
      documentNumber: 'D23145890',
      dateOfBirth: '1974-08-12',
      surname: 'ERIKSSON',
      valid: true,
    });
    expect(r.checkDigits.composite).toBe(true);
  });

  it('a TD2 MRZ (2 x 36) is parsed', () => {
    const r = parseMrz(TD2, TODAY)!;
    expect(r).toMatchObject({ format: 'TD2', documentNumber: 'D23145890', expirationDate: '2012-04-15', valid: true });
  });

  it('a visa MRZ (MRV-A) has no composite check digit', () => {
    const r = parseMrz(['V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L8988901C4XXX4009078F96121096ZE184226B<<<<<<'], TODAY)!;
    expect(r.format).toBe('MRVA');
    expect(r.checkDigits.composite).toBeUndefined();
    expect(r).toMatchObject({ valid: true, nationality: 'XXX', dateOfBirth: '1940-09-07', expirationDate: '1996-12-10' });
  });

  it('a wrong check digit is reported', () => {
    const tampered = [TD3[0], TD3[1].replace('7408122', '7408123')];
    const r = parseMrz(tampered, TODAY)!;
    expect(r.checkDigits.dateOfBirth).toBe(false);
    expect(r.checkDigits.documentNumber).toBe(true);
    expect(r.checkDigits.composite).toBe(false);
    expect(r.valid).toBe(false);
  });

  it('a changed birth date with its old check digit is caught', () => {
    const r = parseMrz([TD3[0], TD3[1].replace('7408122', '7508122')], TODAY)!;
    expect(r.valid).toBe(false);
    expect(r.checkDigits.dateOfBirth).toBe(false);
  });

  it('O/I read in numeric fields are corrected only when the check digit then validates', () => {
    const ocr = [TD3[0], 'L898902C36UTO74O8122F12O4159ZE184226B<<<<<1O'];
    const r = parseMrz(ocr, TODAY)!;
    expect(r.valid).toBe(true);
    expect(r.dateOfBirth).toBe('1974-08-12');
    expect(r.expirationDate).toBe('2012-04-15');
    expect(r.corrections.length).toBeGreaterThanOrEqual(2);

    // A letter that does not fix the check digit stays and the field is reported invalid.
    const bad = parseMrz([TD3[0], 'L898902C36UTO74B8122F1204159ZE184226B<<<<<10'], TODAY)!;
    expect(bad.checkDigits.dateOfBirth).toBe(false);
    expect(bad.dateOfBirth).toBeNull();
  });

  it('an O among the digits of a document number is corrected when the check digit validates', () => {
    const r = parseMrz([TD3[0], 'L8989O2C36UTO7408122F1204159ZE184226B<<<<<10'], TODAY)!;
    expect(r.documentNumber).toBe('L898902C3');
    expect(r.checkDigits.documentNumber).toBe(true);
  });

  it('filler noise in the name field (K for <) is dropped', () => {
    const r = parseMrz(['P<UTOERIKSSON<<ANNA<MARIA<<<<<<K<<<<<<<<<<<<', TD3[1]], TODAY)!;
    expect(r.givenNames).toBe('ANNA MARIA');
  });

  it('the pre-2021 French ID card layout (2 x 36, not ICAO) is recognised and checked', () => {
    const l1 = 'IDFRABERTHIER<<<<<<<<<<<<<<<<<750123';
    const body = '8806923102858CORINNE<<<<<<<6512068F';
    const l2 = body + checkDigit(l1 + body);
    const r = parseMrz([l1, l2], TODAY)!;
    expect(r).toMatchObject({
      format: 'FR-CNI',
      surname: 'BERTHIER',
      givenNames: 'CORINNE',
      documentNumber: '880692310285',
      dateOfBirth: '1965-12-06',
      sex: 'F',
      expirationDate: null,
      valid: true,
    });
    expect(parseMrz([l1, body + ((checkDigit(l1 + body) + 1) % 10)], TODAY)!.checkDigits.composite).toBe(false);
  });

  it('returns null when the lines have no MRZ shape', () => {
    expect(parseMrz(['HELLO', 'WORLD'])).toBeNull();
  });
});

describe('dates', () => {
  it('birth dates are never in the future; expiry dates are 20YY', () => {
    expect(mrzDateToIso('740812', 'birth', TODAY)).toBe('1974-08-12');
    expect(mrzDateToIso('150101', 'birth', TODAY)).toBe('2015-01-01');
    expect(mrzDateToIso('300101', 'birth', TODAY)).toBe('1930-01-01');
    expect(mrzDateToIso('300101', 'expiry', TODAY)).toBe('2030-01-01');
    expect(mrzDateToIso('991310', 'expiry', TODAY)).toBeNull();
  });
});

describe('findMrz in OCR output', () => {
  it('normalises chevrons, spaces and case', () => {
    expect(normaliseMrzText('p«uto eriksson‹‹anna')).toBe('P<<UTOERIKSSON<<ANNA');
  });

  it('finds a passport MRZ among other text, with a line split in two boxes and a digit read for a letter', () => {
    const lines = [
      { text: 'PASSPORT', box: { x: 63, y: 18, width: 55, height: 14 } },
      { text: 'CANADIAN/CANADIENNE', box: { x: 162, y: 112, width: 148, height: 15 } },
      { text: 'P<CANMARTIN<<SARAH<<<<<<<<<<<<<<<<<<', box: { x: 32, y: 245, width: 330, height: 17 } },
      { text: '<<<<<<<', box: { x: 360, y: 248, width: 78, height: 12 } },
      { text: 'ZE000509<90AN8501019F2301147<<<<<<<<<<<<<<08', box: { x: 33, y: 269, width: 406, height: 15 } },
    ];
    const r = findMrz(lines, TODAY)!;
    expect(r).toMatchObject({
      format: 'TD3',
      surname: 'MARTIN',
      givenNames: 'SARAH',
      documentNumber: 'ZE000509',
      nationality: 'CAN',
      valid: true,
    });
  });

  it('finds the lines in reverse order (photo upside down / rotated reading order)', () => {
    const r = findMrz([TD3[1], TD3[0]], TODAY)!;
    expect(r.valid).toBe(true);
    expect(r.surname).toBe('ERIKSSON');
  });

  it('tolerates a lost filler in a long < run', () => {
    const r = findMrz(['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<10'], TODAY)!;
    expect(r.valid).toBe(true);
    expect(r.lines[1]).toBe(TD3[1]);
  });

  it('finds a TD1 MRZ (3 lines) on an ID card', () => {
    const r = findMrz(['REPUBLIC OF UTOPIA', ...TD1, 'signature'], TODAY)!;
    expect(r.format).toBe('TD1');
    expect(r.valid).toBe(true);
  });

  it('returns null for text without an MRZ', () => {
    expect(findMrz(['DRIVER LICENSE', 'DOB 01/02/1980', 'EXP 01/02/2030', '123 MAIN STREET ANYTOWN'])).toBeNull();
  });
});

describe.skipIf(!existsSync(DOCS))('ground-truth MRZ of the sample set (MANIFEST.tsv mrz_text)', () => {
  const rows = existsSync(DOCS)
    ? readFileSync(`${DOCS}/MANIFEST.tsv`, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split('\t'))
    : [];
  const withMrz = rows.filter((r) => r[10]);

  it('there are at least 10 samples with published MRZ text', () => {
    expect(withMrz.length).toBeGreaterThanOrEqual(10);
  });

  it.each(withMrz.map((r) => [r[0], r[10]]))('%s parses with every check digit valid', (_file, mrzText) => {
    const r = parseMrz(mrzText.split('|'), TODAY);
    expect(r).not.toBeNull();
    expect(r!.valid).toBe(true);
    expect(r!.corrections).toEqual([]);
    expect(r!.surname.length).toBeGreaterThan(1);
  });
});
