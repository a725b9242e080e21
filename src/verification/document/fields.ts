// Field extraction (name, dates, number, country) from the MRZ (preferred) or
// from labelled OCR text (US driving licences: "DOB", "3 DOB", "4b EXP",
// "EXPIRES", "4d DL", AAMVA numbered name fields "1 FAMILY" / "2 GIVEN"),
// plus expiry and expected-person comparison helpers.
import type { MrzResult } from './mrz';
import { levenshtein } from './editDistance';

export interface DocumentFields {
  /** "GIVEN NAMES SURNAME" as printed (uppercase), or null. */
  fullName: string | null;
  surname: string | null;
  givenNames: string | null;
  /** ISO YYYY-MM-DD. */
  dateOfBirth: string | null;
  /** ISO YYYY-MM-DD. */
  expirationDate: string | null;
  documentNumber: string | null;
  /** ISO 3166-1 alpha-3 / ICAO code, when known (MRZ issuing country or the classifier's country). */
  country: string | null;
  /** Where each field came from. */
  source: 'mrz' | 'ocr' | 'mixed' | 'none';
}

type Line = string | { text: string };

const MONTHS: Record<string, number> = {
  JAN: 1,
  FEB: 2,
  FEV: 2,
  MAR: 3,
  APR: 4,
  AVR: 4,
  MAY: 5,
  MAI: 5,
  JUN: 6,
  JUIN: 6,
  JUL: 7,
  JUIL: 7,
  AUG: 8,
  AOU: 8,
  AOUT: 8,
  SEP: 9,
  SEPT: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};

function iso(y: number, m: number, d: number): string | null {
  if (m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2100) return null;
  const dt = new Date(Date.UTC(y, m - 1, d));
  if (dt.getUTCDate() !== d) return null;
  return dt.toISOString().slice(0, 10);
}

interface FoundDate {
  iso: string;
  index: number;
  before: string;
}

/** A printed year; two digits mean 19YY when YY exceeds this year's YY by more than 20, else 20YY. */
function fullYear(printed: string): number {
  const y = Number(printed);
  if (printed.length !== 2) return y;
  return y + (y > (new Date().getUTCFullYear() % 100) + 20 ? 1900 : 2000);
}

/** Dates in a line: MM/DD/YYYY, MM-DD-YYYY, MM.DD.YYYY, YYYY-MM-DD, DD MON YYYY, DD.MM.YYYY (when unambiguous). */
export function findDates(line: string, usOrder = true): FoundDate[] {
  const out: FoundDate[] = [];
  const s = line.toUpperCase().replace(/[O]/g, (c, i, str) => (/\d/.test(str[i - 1] ?? '') || /\d/.test(str[i + 1] ?? '') ? '0' : c));
  for (const m of s.matchAll(/(?<![0-9])(\d{1,2})\s?[/\-.]\s?(\d{1,2})\s?[/\-.]\s?(\d{4}|\d{2})(?![0-9])/g)) {
    const a = Number(m[1]),
      b = Number(m[2]),
      y = fullYear(m[3]);
    let d = usOrder ? iso(y, a, b) : iso(y, b, a);
    if (!d) d = usOrder ? iso(y, b, a) : iso(y, a, b);
    if (d) out.push({ iso: d, index: m.index!, before: s.slice(0, m.index) });
  }
  for (const m of s.matchAll(/(?<![0-9])(\d{4})[/\-.](\d{2})[/\-.](\d{2})(?![0-9])/g)) {
    const d = iso(Number(m[1]), Number(m[2]), Number(m[3]));
    if (d) out.push({ iso: d, index: m.index!, before: s.slice(0, m.index) });
  }
  for (const m of s.matchAll(/(?<![0-9])(\d{1,2})\s?([A-Z]{3,4})(?:\s?\/\s?[A-Z]{3,4})?\s?(\d{4}|\d{2})(?![0-9])/g)) {
    const mon = MONTHS[m[2]];
    if (!mon) continue;
    const d = iso(fullYear(m[3]), mon, Number(m[1]));
    if (d) out.push({ iso: d, index: m.index!, before: s.slice(0, m.index) });
  }
  // Compact 8-digit US dates (MMDDYYYY) after a label, e.g. "DOB 01071973".
  for (const m of s.matchAll(/(?:DOB|EXP|BIRTH|ISS)[^0-9]{0,3}(\d{2})(\d{2})(\d{4})(?![0-9])/g)) {
    const d = usOrder ? iso(Number(m[3]), Number(m[1]), Number(m[2])) : iso(Number(m[3]), Number(m[2]), Number(m[1]));
    if (d) out.push({ iso: d, index: m.index! + m[0].length - 8, before: s.slice(0, m.index! + m[0].length - 8) });
  }
  return out.sort((x, y) => x.index - y.index);
}

const DOB_LABEL = /(DOB|D0B|BIRTH|NAISSANCE|NACIMIENTO|GEBURT|\b3\s*DOB|\bBD\b|BORN)\W*$/;
const EXP_LABEL = /(EXP|EXPIRES|EXPIRY|EXPIRATION|\b4B\b|4B\s*EXP|VALID UNTIL|VALABLE|CADUCIDAD|GULTIG)\W*[A-Z]{0,3}\W*$/;

interface LabelledDates {
  dob: string | null;
  exp: string | null;
  all: string[];
}

function datesFromText(lines: string[], usOrder: boolean): LabelledDates {
  let dob: string | null = null,
    exp: string | null = null;
  const all: string[] = [];
  lines.forEach((line, i) => {
    const found = findDates(line, usOrder);
    const prevLine = (lines[i - 1] ?? '').toUpperCase();
    for (const f of found) {
      all.push(f.iso);
      const before = f.before.slice(-24);
      // Same line label first, then a label alone on the previous line.
      const ctx = before.trim() ? before : prevLine;
      if (!dob && DOB_LABEL.test(ctx)) dob = f.iso;
      else if (!exp && EXP_LABEL.test(ctx)) exp = f.iso;
      else if (!dob && !before.trim() && /(DOB|BIRTH|NAISSANCE)/.test(prevLine)) dob = f.iso;
      else if (!exp && !before.trim() && /(EXP|EXPIR)/.test(prevLine)) exp = f.iso;
    }
  });
  return { dob, exp, all };
}

const DOC_NUMBER_PATTERNS: RegExp[] = [
  /(?:\b4D\s*)?(?:\bDLN|\bDL\s*(?:NO|#|NUMBER)?|LIC(?:ENSE)?\s*(?:NO|#|NUMBER)|\bLN\b|\bNO\b\.?|NUMBER|#)[\s.:#]*([A-Z0-9][A-Z0-9 -]{4,18}[0-9])/,
  /\b4D\s*([A-Z0-9][A-Z0-9 -]{4,18}[0-9])/,
];

function documentNumberFromText(lines: string[]): string | null {
  for (const line of lines) {
    const u = line.toUpperCase();
    for (const re of DOC_NUMBER_PATTERNS) {
      const m = re.exec(u);
      if (m && /\d{3,}/.test(m[1]) && !/\d{1,2}[/-]\d{1,2}[/-]\d{2,4}/.test(m[1]))
        return m[1].replace(/\s+/g, '').replace(/^[-]+|[-]+$/g, '');
    }
  }
  // Florida-style formatted numbers: letter + digit groups separated by '-'.
  for (const line of lines) {
    const m = /\b([A-Z]\d{3}-\d{3}-\d{2}-\d{3}-\d)\b/.exec(line.toUpperCase());
    if (m) return m[1];
  }
  return null;
}

/** AAMVA numbered name fields: "1 SAMPLE" (family name), "2 JOE" (given names); also LN/FN labels. */
function nameFromText(lines: string[]): { surname: string | null; givenNames: string | null } {
  let surname: string | null = null,
    givenNames: string | null = null;
  for (const line of lines) {
    const u = line.toUpperCase().trim();
    let m = /^(?:1|LN|LAST\s*NAME|SURNAME)[\s.:]*([A-Z][A-Z' -]{1,30})$/.exec(u);
    if (m && !surname && !/(DOB|EXP|CLASS|SEX|ISS)/.test(m[1])) surname = m[1].trim();
    m = /^(?:2|FN|FIRST\s*NAME|GIVEN\s*NAMES?)[\s.:]*([A-Z][A-Z' ,-]{1,40})$/.exec(u);
    if (m && !givenNames && !/(DOB|EXP|CLASS|SEX|ISS)/.test(m[1])) givenNames = m[1].replace(/,/g, ' ').replace(/\s+/g, ' ').trim();
  }
  return { surname, givenNames };
}

/**
 * Extracts the holder's fields. MRZ values are used when their check digit
 * validates (or, for names, whenever an MRZ is present); the OCR text fills
 * the gaps. `country` is a fallback (e.g. from classifyDocument).
 */
export function extractFields(
  ocrLines: Line[],
  mrz?: MrzResult | null,
  options: { country?: string | null; usDateOrder?: boolean } = {},
): DocumentFields {
  const lines = ocrLines.map((l) => (typeof l === 'string' ? l : l.text));
  let fromMrz = 0,
    fromOcr = 0;
  let surname: string | null = null,
    givenNames: string | null = null;
  let dateOfBirth: string | null = null,
    expirationDate: string | null = null,
    documentNumber: string | null = null;
  let country: string | null = null;
  if (mrz) {
    if (mrz.surname) {
      surname = mrz.surname;
      givenNames = mrz.givenNames || null;
      fromMrz++;
    }
    if (mrz.checkDigits.dateOfBirth && mrz.dateOfBirth) {
      dateOfBirth = mrz.dateOfBirth;
      fromMrz++;
    }
    if (mrz.checkDigits.expirationDate && mrz.expirationDate) {
      expirationDate = mrz.expirationDate;
      fromMrz++;
    }
    if (mrz.checkDigits.documentNumber && mrz.documentNumber) {
      documentNumber = mrz.documentNumber;
      fromMrz++;
    }
    country = mrz.issuingCountry === 'D' ? 'DEU' : mrz.issuingCountry || null;
  }
  const usOrder = options.usDateOrder ?? (options.country ? options.country === 'USA' : true);
  const dates = datesFromText(lines, usOrder);
  if (!dateOfBirth && dates.dob) {
    dateOfBirth = dates.dob;
    fromOcr++;
  }
  if (!expirationDate && dates.exp) {
    expirationDate = dates.exp;
    fromOcr++;
  }
  if (!dateOfBirth || !expirationDate) {
    // Unlabelled dates: the earliest plausible birth date and the latest date.
    const sorted = [...new Set(dates.all)].sort();
    const adultCutoff = new Date(Date.now() - 14 * 365.25 * 86400e3).toISOString().slice(0, 10);
    if (!dateOfBirth && sorted.length >= 2 && sorted[0] <= adultCutoff) {
      dateOfBirth = sorted[0];
      fromOcr++;
    }
    if (!expirationDate && sorted.length >= 2 && sorted[sorted.length - 1] !== dateOfBirth) {
      expirationDate = sorted[sorted.length - 1];
      fromOcr++;
    }
  }
  if (!documentNumber) {
    documentNumber = documentNumberFromText(lines);
    if (documentNumber) fromOcr++;
  }
  if (!surname && !givenNames) {
    const n = nameFromText(lines);
    surname = n.surname;
    givenNames = n.givenNames;
    if (surname || givenNames) fromOcr++;
  }
  if (!country && options.country) country = options.country;
  const fullName = [givenNames, surname].filter(Boolean).join(' ') || null;
  const source = fromMrz && fromOcr ? 'mixed' : fromMrz ? 'mrz' : fromOcr ? 'ocr' : 'none';
  return { fullName, surname, givenNames, dateOfBirth, expirationDate, documentNumber, country, source };
}

/** True when the document expired before `today` (date-only, UTC); null when the expiry is unknown. */
export function isExpired(expirationDate: string | null | undefined, today: Date | string = new Date()): boolean | null {
  if (!expirationDate || !/^\d{4}-\d{2}-\d{2}$/.test(expirationDate)) return null;
  const t = typeof today === 'string' ? today.slice(0, 10) : today.toISOString().slice(0, 10);
  return expirationDate < t;
}

// ---------------------------------------------------------------- person comparison

/** Uppercase, diacritics removed (incl. ß/Æ/Ø expansions), punctuation to spaces, tokens. */
export function normaliseName(name: string): string[] {
  const s = name
    .replace(/ß/g, 'SS')
    .replace(/[Ææ]/g, 'AE')
    .replace(/[Øø]/g, 'O')
    .replace(/[Œœ]/g, 'OE')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z]+/g, ' ')
    .trim();
  return s ? s.split(' ') : [];
}

function ratio(a: string, b: string): number {
  if (!a && !b) return 1;
  return 1 - levenshtein(a, b) / Math.max(a.length, b.length);
}

/**
 * Name similarity in 0..1: the best of a token-sort ratio, a token-set ratio
 * (so a missing middle name still scores high) and a per-token fuzzy match.
 */
export function nameSimilarity(a: string, b: string): number {
  const ta = normaliseName(a),
    tb = normaliseName(b);
  if (!ta.length || !tb.length) return 0;
  const sortA = [...ta].sort().join(' '),
    sortB = [...tb].sort().join(' ');
  const tokenSort = ratio(sortA, sortB);
  const setA = new Set(ta),
    setB = new Set(tb);
  const inter = [...setA]
    .filter((t) => setB.has(t))
    .sort()
    .join(' ');
  const restA = [...setA]
    .filter((t) => !setB.has(t))
    .sort()
    .join(' ');
  const restB = [...setB]
    .filter((t) => !setA.has(t))
    .sort()
    .join(' ');
  let tokenSet = 0;
  if (inter) {
    const withA = (inter + ' ' + restA).trim(),
      withB = (inter + ' ' + restB).trim();
    tokenSet = Math.max(ratio(inter, withA), ratio(inter, withB), ratio(withA, withB));
    // A subset match counts fully only if it covers at least two tokens (first + last name).
    if (inter.split(' ').length < 2 && (restA || restB)) tokenSet = Math.min(tokenSet, 0.8);
  }
  // Every token of the shorter name fuzzily present in the longer one (OCR typos).
  const [shorter, longer] = ta.length <= tb.length ? [ta, tb] : [tb, ta];
  const perToken = shorter.reduce((acc, t) => acc + Math.max(...longer.map((u) => ratio(t, u))), 0) / shorter.length;
  const fuzzySubset = shorter.length >= 2 ? perToken : Math.min(perToken, 0.8);
  return Math.round(Math.max(tokenSort, tokenSet, fuzzySubset) * 1000) / 1000;
}

export interface PersonComparison {
  /** 0..1 (see nameSimilarity). */
  nameSimilarity: number;
  /** nameSimilarity >= threshold (default 0.85). */
  nameMatches: boolean;
  /** null when either date of birth is missing. */
  dateOfBirthMatches: boolean | null;
  /** Name matches and the date of birth matches (or is unknown on the document). */
  matches: boolean;
}

/** Compares the applicant's declared name/date of birth with the document's fields. */
export function compareExpectedPerson(
  expected: { fullName: string; dateOfBirth?: string | null },
  extracted: Pick<DocumentFields, 'fullName' | 'dateOfBirth'>,
  threshold = 0.85,
): PersonComparison {
  const sim = extracted.fullName ? nameSimilarity(expected.fullName, extracted.fullName) : 0;
  const dobMatch =
    expected.dateOfBirth && extracted.dateOfBirth ? expected.dateOfBirth.slice(0, 10) === extracted.dateOfBirth.slice(0, 10) : null;
  const nameMatches = sim >= threshold;
  return { nameSimilarity: sim, nameMatches, dateOfBirthMatches: dobMatch, matches: nameMatches && dobMatch !== false };
}
