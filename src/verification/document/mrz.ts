// Machine-readable zone (ICAO 9303) parsing. Pure functions, no I/O.
//
// findMrz() locates MRZ lines in OCR output (tolerating typical OCR
// confusions), parseMrz() parses already-separated lines. Formats: TD3
// (passports, 2x44), TD2 (2x36), TD1 (ID cards, 3x30) and the visa variants
// MRV-A (2x44) / MRV-B (2x36), which have no composite check digit, and the
// pre-2021 French national ID card ('FR-CNI', 2x36, not ICAO: no expiry date,
// no nationality field).
import { levenshtein } from './editDistance';

export type MrzFormat = 'TD1' | 'TD2' | 'TD3' | 'MRVA' | 'MRVB' | 'FR-CNI';

export interface MrzCheckDigits {
  documentNumber: boolean;
  dateOfBirth: boolean;
  expirationDate: boolean;
  /** TD3 only (personal number); true when the field is empty and the digit is '<' or '0'. */
  optionalData?: boolean;
  /** Absent on visas (MRV-A/MRV-B), which have no composite check digit. */
  composite?: boolean;
}

export interface MrzResult {
  format: MrzFormat;
  /** The MRZ lines after normalisation and corrections, as parsed. */
  lines: string[];
  /** e.g. 'P', 'P<' -> 'P', 'ID', 'IR', 'AC', 'V'. Trailing fillers removed. */
  documentCode: string;
  /** ICAO code as printed (alpha-3, or 'D' for Germany, 'UTO' for specimens). */
  issuingCountry: string;
  surname: string;
  givenNames: string;
  documentNumber: string;
  nationality: string;
  /** ISO date (YYYY-MM-DD) or null when unreadable. */
  dateOfBirth: string | null;
  sex: 'M' | 'F' | 'X';
  /** ISO date (YYYY-MM-DD) or null when unreadable. */
  expirationDate: string | null;
  optionalData: string;
  checkDigits: MrzCheckDigits;
  /** Every check digit defined for the format validates. */
  valid: boolean;
  /** Human-readable notes of the OCR corrections applied (e.g. "documentNumber O->0 at 3"). */
  corrections: string[];
}

/** Line lengths per format. */
export const MRZ_LINE_LENGTH: Record<MrzFormat, number> = { TD1: 30, TD2: 36, TD3: 44, MRVA: 44, MRVB: 36, 'FR-CNI': 36 };

/** ICAO 9303 codes: ISO 3166-1 alpha-3 plus the ICAO-specific ones. */
export const ICAO_COUNTRY_CODES: ReadonlySet<string> = new Set(
  (
    'ABW AFG AGO AIA ALA ALB AND ARE ARG ARM ASM ATA ATF ATG AUS AUT AZE BDI BEL BEN BES BFA BGD BGR BHR ' +
    'BHS BIH BLM BLR BLZ BMU BOL BRA BRB BRN BTN BVT BWA CAF CAN CCK CHE CHL CHN CIV CMR COD COG COK COL ' +
    'COM CPV CRI CUB CUW CXR CYM CYP CZE DEU DJI DMA DNK DOM DZA ECU EGY ERI ESH ESP EST ETH FIN FJI FLK ' +
    'FRA FRO FSM GAB GBR GEO GGY GHA GIB GIN GLP GMB GNB GNQ GRC GRD GRL GTM GUF GUM GUY HKG HMD HND HRV ' +
    'HTI HUN IDN IMN IND IOT IRL IRN IRQ ISL ISR ITA JAM JEY JOR JPN KAZ KEN KGZ KHM KIR KNA KOR KWT LAO ' +
    'LBN LBR LBY LCA LIE LKA LSO LTU LUX LVA MAC MAF MAR MCO MDA MDG MDV MEX MHL MKD MLI MLT MMR MNE MNG ' +
    'MNP MOZ MRT MSR MTQ MUS MWI MYS MYT NAM NCL NER NFK NGA NIC NIU NLD NOR NPL NRU NZL OMN PAK PAN PCN ' +
    'PER PHL PLW PNG POL PRI PRK PRT PRY PSE PYF QAT REU ROU RUS RWA SAU SDN SEN SGP SGS SHN SJM SLB SLE ' +
    'SLV SMR SOM SPM SRB SSD STP SUR SVK SVN SWE SWZ SXM SYC SYR TCA TCD TGO THA TJK TKL TKM TLS TON TTO ' +
    'TUN TUR TUV TWN TZA UGA UKR UMI URY USA UZB VAT VCT VEN VGB VIR VNM VUT WLF WSM YEM ZAF ZMB ZWE ' +
    // ICAO additions: Germany 'D', British nationals, UN, refugees/stateless, EU, Kosovo, specimen 'UTO'
    'D GBD GBN GBO GBP GBS UNO UNA UNK XBA XIM XCC XCE XCO XEC XPO XES XMP XDC XOM XXA XXB XXC XXX EUE RKS UTO'
  ).split(' '),
);

// ---------------------------------------------------------------- primitives

/** ICAO 9303 check digit: weights 7,3,1; 0-9 as is, A-Z = 10..35, '<' = 0. */
export function checkDigit(field: string): number {
  const weights = [7, 3, 1];
  let sum = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    let v: number;
    if (c >= 48 && c <= 57) v = c - 48;
    else if (c >= 65 && c <= 90) v = c - 55;
    else if (c === 60) v = 0;
    else return -1;
    sum += v * weights[i % 3];
  }
  return sum % 10;
}

/** True when `digit` (a single character) is the check digit of `field`. '<' counts as 0 only for empty fields. */
export function checkDigitMatches(field: string, digit: string): boolean {
  if (digit === '<') return /^<*$/.test(field);
  return /^[0-9]$/.test(digit) && checkDigit(field) === Number(digit);
}

const SPECIAL_TO_FILLER: Record<string, string> = {
  '«': '<<',
  '‹': '<',
  '〈': '<',
  '＜': '<',
  く: '<',
  ぐ: '<',
  '≤': '<',
  '⟨': '<',
  '(': '<',
  '{': '<',
  '[': '<',
};

/** Uppercases, strips spaces/diacritics and maps chevron look-alikes to '<'; keeps only [A-Z0-9<]. */
export function normaliseMrzText(text: string): string {
  let s = text.normalize('NFKC');
  s = s.replace(/[«‹〈＜くぐ≤⟨({[]/g, (m) => SPECIAL_TO_FILLER[m] ?? '<');
  s = s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase();
  s = s.replace(/[ØΟО]/g, '0');
  return s.replace(/[^A-Z0-9<]/g, '');
}

const LETTER_TO_DIGIT: Record<string, string> = {
  O: '0',
  Q: '0',
  D: '0',
  U: '0',
  C: '0',
  I: '1',
  L: '1',
  J: '1',
  T: '1',
  Z: '2',
  S: '5',
  G: '6',
  B: '8',
  A: '4',
  E: '8',
};
const DIGIT_TO_LETTER: Record<string, string> = { '0': 'O', '1': 'I', '2': 'Z', '4': 'A', '5': 'S', '6': 'G', '8': 'B' };

function toDigits(field: string): string {
  return field.replace(/[A-Z]/g, (c) => LETTER_TO_DIGIT[c] ?? c);
}

function toLetters(field: string): string {
  return field.replace(/[0-9]/g, (c) => DIGIT_TO_LETTER[c] ?? c);
}

/** YYMMDD -> ISO date. Birth dates are never in the future; expiry dates use 20YY unless YY >= 70. */
export function mrzDateToIso(yymmdd: string, kind: 'birth' | 'expiry', today: Date = new Date()): string | null {
  if (!/^\d{6}$/.test(yymmdd)) return null;
  const yy = Number(yymmdd.slice(0, 2));
  const mm = Number(yymmdd.slice(2, 4));
  const dd = Number(yymmdd.slice(4, 6));
  if (mm < 1 || mm > 12 || dd < 1 || dd > 31) return null;
  const thisYY = today.getUTCFullYear() % 100;
  const century = kind === 'birth' ? (yy > thisYY ? 1900 : 2000) : yy >= 70 ? 1900 : 2000;
  const d = new Date(Date.UTC(century + yy, mm - 1, dd));
  if (d.getUTCDate() !== dd) return null;
  return d.toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- field helpers

interface Fixed {
  value: string;
  check: string;
  ok: boolean;
}

/** Numeric field + check digit: letter->digit substitutions are kept only if the check digit then validates. */
function fixNumeric(name: string, value: string, check: string, corrections: string[]): Fixed {
  if (checkDigitMatches(value, check)) return { value, check, ok: true };
  const v2 = toDigits(value);
  const c2 = check === '<' ? check : toDigits(check);
  if ((v2 !== value || c2 !== check) && checkDigitMatches(v2, c2)) {
    corrections.push(`${name}: ${value}${check} -> ${v2}${c2}`);
    return { value: v2, check: c2, ok: true };
  }
  return { value, check, ok: false };
}

const isDigit = (c: string | undefined) => !!c && c >= '0' && c <= '9';
const isLetter = (c: string | undefined) => !!c && c >= 'A' && c <= 'Z';

/**
 * Alphanumeric field (document number): tries digit<->letter look-alike swaps
 * (0/O, 1/I, 5/S, 8/B, 2/Z, 6/G) at positions where the character breaks the
 * letter/digit pattern of its neighbours (e.g. 'O' between digits). A fix is
 * accepted only if the check digit then validates and exactly one candidate does.
 */
function fixAlphanumeric(name: string, value: string, check: string, corrections: string[]): Fixed {
  if (checkDigitMatches(value, check)) return { value, check, ok: true };
  const checks = [check];
  if (isLetter(check) && LETTER_TO_DIGIT[check]) checks.push(LETTER_TO_DIGIT[check]);
  const chars = [...value];
  const options: Array<{ pos: number; alts: string[] }> = [];
  chars.forEach((c, i) => {
    const prev = chars[i - 1],
      next = chars[i + 1];
    const neighbourDigit = isDigit(prev) || isDigit(next);
    const neighbourLetter = isLetter(prev) || isLetter(next);
    if (isLetter(c) && neighbourDigit && !(isLetter(prev) && isLetter(next)) && LETTER_TO_DIGIT[c] && 'OQDIZSBGL'.includes(c)) {
      options.push({ pos: i, alts: [LETTER_TO_DIGIT[c]] });
    } else if (isDigit(c) && neighbourLetter && !(isDigit(prev) && isDigit(next)) && DIGIT_TO_LETTER[c]) {
      options.push({ pos: i, alts: [DIGIT_TO_LETTER[c]] });
    }
  });
  // Check digit itself read as a letter (e.g. 'O' for 0) with the field intact.
  for (const c of checks.slice(1)) {
    if (checkDigitMatches(value, c)) {
      corrections.push(`${name}: check digit ${check} -> ${c}`);
      return { value, check: c, ok: true };
    }
  }
  const limited = options.slice(0, 6);
  // Fewest swaps first; at a given count the fix must be unique.
  for (let want = 1; want <= 2; want++) {
    const hits: Array<{ v: string; c: string }> = [];
    for (let mask = 1; mask < 1 << limited.length; mask++) {
      let bits = 0;
      for (let m = mask; m; m >>= 1) bits += m & 1;
      if (bits !== want) continue;
      const cur = [...chars];
      limited.forEach((o, k) => {
        if (mask & (1 << k)) cur[o.pos] = o.alts[0];
      });
      const v = cur.join('');
      for (const c of checks) if (checkDigitMatches(v, c)) hits.push({ v, c });
    }
    if (hits.length === 1) {
      corrections.push(`${name}: ${value}${check} -> ${hits[0].v}${hits[0].c}`);
      return { value: hits[0].v, check: hits[0].c, ok: true };
    }
    if (hits.length > 1) break;
  }
  return { value, check, ok: false };
}

/** Composite check digit: a letter read for the digit (e.g. 'O' for 0) is corrected when the digit then validates. */
function fixCompositeCheck(field: string, check: string, corrections: string[]): { check: string; ok: boolean } {
  if (checkDigitMatches(field, check)) return { check, ok: true };
  const digit = LETTER_TO_DIGIT[check];
  if (digit && checkDigitMatches(field, digit)) {
    corrections.push(`composite: ${check} -> ${digit}`);
    return { check: digit, ok: true };
  }
  return { check, ok: false };
}

/** Country code with digit->letter fixes; a near miss of `preferred` (e.g. issuing country) snaps to it. */
function fixCountry(name: string, raw: string, corrections: string[], preferred?: string): string {
  const trimmed = raw.replace(/<+$/, '');
  if (ICAO_COUNTRY_CODES.has(trimmed)) return trimmed;
  const letters = toLetters(raw).replace(/<+$/, '');
  if (ICAO_COUNTRY_CODES.has(letters)) {
    corrections.push(`${name}: ${raw} -> ${letters}`);
    return letters;
  }
  if (preferred && levenshtein(letters, preferred) <= 1) {
    corrections.push(`${name}: ${raw} -> ${preferred}`);
    return preferred;
  }
  return trimmed;
}

/** Splits the name field: surname << given<names; drops filler noise (stray K/C/E between fillers). */
export function parseMrzName(field: string): { surname: string; givenNames: string } {
  let f = toLetters(field);
  // Stray characters inside the filler tail ("ANNA<<<<K<<<<", "<<<<KK<") are OCR noise for '<'.
  f = f.replace(/(<<)([KCELX]{1,2})(?=<|$)/g, (_m, a: string, b: string) => a + '<'.repeat(b.length));
  const [surnamePart, ...rest] = f.split('<<');
  const clean = (s: string) => s.replace(/<+/g, ' ').trim();
  return { surname: clean(surnamePart), givenNames: clean(rest.filter((r) => r.replace(/</g, '').length > 0).join('<')) };
}

function sexOf(c: string): 'M' | 'F' | 'X' {
  if (c === 'M' || c === 'F') return c;
  if (c === 'H') return 'M'; // French "homme"
  return 'X';
}

// ---------------------------------------------------------------- parsing

function formatFor(lines: string[]): MrzFormat | null {
  if (lines.length === 3 && lines.every((l) => l.length === 30)) return 'TD1';
  if (lines.length === 2 && lines.every((l) => l.length === 44)) return lines[0][0] === 'V' ? 'MRVA' : 'TD3';
  if (lines.length === 2 && lines.every((l) => l.length === 36)) {
    // Old French ID card: "IDFRA" + surname, line 2 = 12-char number, check, given names (14), birth date.
    if (lines[0].startsWith('IDFRA') && /^[A-Z<]{12}$/.test(toLetters(lines[1].slice(13, 25)))) return 'FR-CNI';
    return lines[0][0] === 'V' ? 'MRVB' : 'TD2';
  }
  return null;
}

/**
 * Parses MRZ lines that already have the exact lengths of one format
 * (3x30, 2x36 or 2x44; input is normalised first). Returns null if the
 * line count/lengths match no format.
 */
export function parseMrz(rawLines: string[], today: Date = new Date()): MrzResult | null {
  const lines = rawLines.map(normaliseMrzText);
  const format = formatFor(lines);
  if (!format) return null;
  const corrections: string[] = [];
  const code = toLetters(lines[0].slice(0, 2));
  const documentCode = code.replace(/<+$/, '');
  const issuingCountry = fixCountry('issuingCountry', lines[0].slice(2, 5), corrections);

  let nameField: string, docNo: Fixed, dob: Fixed, exp: Fixed, natRaw: string, sexRaw: string, optionalData: string;
  const checkDigits: MrzCheckDigits = { documentNumber: false, dateOfBirth: false, expirationDate: false };
  let l1 = lines[0],
    l2 = lines[1];
  const l3 = lines[2] ?? '';

  if (format === 'FR-CNI') {
    // Line 1: IDFRA + surname(25) + office(6). Line 2: number(12) check given(14) dob(6) check sex composite.
    docNo = fixAlphanumeric('documentNumber', l2.slice(0, 12), l2[12], corrections);
    dob = fixNumeric('dateOfBirth', l2.slice(27, 33), l2[33], corrections);
    l2 = docNo.value + docNo.check + l2.slice(13, 27) + dob.value + dob.check + l2.slice(34);
    const surname = toLetters(l1.slice(5, 30)).replace(/<+$/, '').replace(/<+/g, ' ').trim();
    const given = toLetters(l2.slice(13, 27))
      .replace(/<+$/, '')
      .split('<<')
      .map((g) => g.replace(/<+/g, ' ').trim())
      .filter(Boolean)
      .join(' ');
    const composite = fixCompositeCheck(l1 + l2.slice(0, 35), l2[35], corrections);
    l2 = l2.slice(0, 35) + composite.check;
    // The card carries no expiry date in its MRZ.
    const checkDigitsCni: MrzCheckDigits = { documentNumber: docNo.ok, dateOfBirth: dob.ok, expirationDate: true, composite: composite.ok };
    return {
      format,
      lines: [l1, l2],
      documentCode: documentCode,
      issuingCountry,
      surname,
      givenNames: given,
      documentNumber: docNo.value.replace(/<+/g, ''),
      nationality: 'FRA',
      dateOfBirth: mrzDateToIso(dob.value, 'birth', today),
      sex: sexOf(l2[34]),
      expirationDate: null,
      optionalData: l1.slice(30, 36).replace(/<+/g, ''),
      checkDigits: checkDigitsCni,
      valid: docNo.ok && dob.ok && composite.ok,
      corrections,
    };
  }

  if (format === 'TD1') {
    nameField = l3;
    let numField = l1.slice(5, 14);
    let numCheck = l1[14];
    let opt1 = l1.slice(15, 30);
    if (numCheck === '<' && /[A-Z0-9]/.test(opt1[0] ?? '')) {
      // Long document number: continues in the optional field, last char before '<' is its check digit.
      const ext = opt1.match(/^[A-Z0-9]+/)![0];
      numField = numField + ext.slice(0, -1);
      numCheck = ext.slice(-1);
      opt1 = opt1.slice(ext.length);
    }
    docNo = fixAlphanumeric('documentNumber', numField, numCheck, corrections);
    if (docNo.ok && numField.length === 9) l1 = l1.slice(0, 5) + docNo.value + docNo.check + l1.slice(15);
    dob = fixNumeric('dateOfBirth', l2.slice(0, 6), l2[6], corrections);
    exp = fixNumeric('expirationDate', l2.slice(8, 14), l2[14], corrections);
    l2 = dob.value + dob.check + l2[7] + exp.value + exp.check + l2.slice(15);
    sexRaw = l2[7];
    natRaw = l2.slice(15, 18);
    optionalData = (opt1 + '<' + l2.slice(18, 29)).replace(/^<+|<+$/g, '').replace(/<+/g, ' ');
    const composite = fixCompositeCheck(l1.slice(5, 30) + l2.slice(0, 7) + l2.slice(8, 15) + l2.slice(18, 29), l2[29], corrections);
    l2 = l2.slice(0, 29) + composite.check;
    checkDigits.composite = composite.ok;
  } else {
    const long = format === 'TD3' || format === 'MRVA';
    nameField = l1.slice(5);
    docNo = fixAlphanumeric('documentNumber', l2.slice(0, 9), l2[9], corrections);
    dob = fixNumeric('dateOfBirth', l2.slice(13, 19), l2[19], corrections);
    exp = fixNumeric('expirationDate', l2.slice(21, 27), l2[27], corrections);
    sexRaw = l2[20];
    natRaw = l2.slice(10, 13);
    l2 = docNo.value + docNo.check + l2.slice(10, 13) + dob.value + dob.check + l2[20] + exp.value + exp.check + l2.slice(28);
    if (format === 'TD3') {
      let opt = l2.slice(28, 42);
      let optCheck = l2[42];
      // Stray 'K's in an otherwise empty personal-number field are fillers.
      if (!checkDigitMatches(opt, optCheck) && /^[<K]+$/.test(opt)) {
        const o2 = opt.replace(/K/g, '<');
        const c2 = optCheck === 'K' ? '<' : optCheck;
        if (checkDigitMatches(o2, c2)) {
          corrections.push(`optionalData: ${opt}${optCheck} -> ${o2}${c2}`);
          opt = o2;
          optCheck = c2;
        }
      }
      const fixed = fixNumeric('optionalData', opt, optCheck, []);
      let optOk = fixed.ok;
      if (!optOk && /^<+$/.test(opt) && optCheck === '0') optOk = true;
      checkDigits.optionalData = optOk;
      optionalData = opt.replace(/^<+|<+$/g, '').replace(/<+/g, ' ');
      l2 = l2.slice(0, 28) + opt + optCheck + l2.slice(43);
      const composite = fixCompositeCheck(l2.slice(0, 10) + l2.slice(13, 20) + l2.slice(21, 43), l2[43], corrections);
      l2 = l2.slice(0, 43) + composite.check;
      checkDigits.composite = composite.ok;
    } else if (format === 'TD2') {
      optionalData = l2
        .slice(28, 35)
        .replace(/^<+|<+$/g, '')
        .replace(/<+/g, ' ');
      const composite = fixCompositeCheck(l2.slice(0, 10) + l2.slice(13, 20) + l2.slice(21, 35), l2[35], corrections);
      l2 = l2.slice(0, 35) + composite.check;
      checkDigits.composite = composite.ok;
    } else {
      // Visas: optional data fills the rest of line 2, no composite digit.
      optionalData = l2
        .slice(28, long ? 44 : 36)
        .replace(/^<+|<+$/g, '')
        .replace(/<+/g, ' ');
    }
  }

  checkDigits.documentNumber = docNo.ok;
  checkDigits.dateOfBirth = dob.ok;
  checkDigits.expirationDate = exp.ok;
  const nationality = fixCountry('nationality', natRaw, corrections, issuingCountry);
  const { surname, givenNames } = parseMrzName(nameField);
  const documentNumber = docNo.value.replace(/<+/g, '');
  const valid = Object.values(checkDigits).every((v) => v === true);
  return {
    format,
    lines: format === 'TD1' ? [l1, l2, l3] : [l1, l2],
    documentCode,
    issuingCountry,
    surname,
    givenNames,
    documentNumber,
    nationality,
    dateOfBirth: mrzDateToIso(dob.value, 'birth', today),
    sex: sexOf(sexRaw),
    expirationDate: mrzDateToIso(exp.value, 'expiry', today),
    optionalData,
    checkDigits,
    valid,
    corrections,
  };
}

// ---------------------------------------------------------------- locating the MRZ in OCR output

export interface MrzTextLine {
  text: string;
  box?: { x: number; y: number; width: number; height: number };
}

/** Variants of `s` with exactly `target` characters, changing filler runs (OCR drops/adds '<' in long runs). */
function lengthVariants(s: string, target: number): string[] {
  const diff = target - s.length;
  if (diff === 0) return [s];
  const out = new Set<string>();
  if (diff > 0) {
    const pad = '<'.repeat(diff);
    out.add(s + pad);
    for (const m of s.matchAll(/<+/g)) out.add(s.slice(0, m.index!) + pad + s.slice(m.index!));
  } else {
    const cut = -diff;
    for (const m of s.matchAll(/<+/g)) {
      if (m[0].length >= cut + 1 || (m.index! + m[0].length === s.length && m[0].length >= cut)) {
        out.add(s.slice(0, m.index!) + s.slice(m.index! + cut));
      }
    }
    // Stray characters at either end (edge of the band read as a glyph).
    if (cut <= 2) {
      out.add(s.slice(cut));
      out.add(s.slice(0, s.length - cut));
    }
  }
  return [...out].slice(0, 8);
}

function score(r: MrzResult): number {
  let s = 0;
  for (const v of Object.values(r.checkDigits)) if (v) s += 3;
  if ('PIACV'.includes(r.documentCode[0] ?? '')) s += 2;
  if (ICAO_COUNTRY_CODES.has(r.issuingCountry)) s += 2;
  if (ICAO_COUNTRY_CODES.has(r.nationality)) s += 1;
  if (r.dateOfBirth) s += 1;
  if (r.expirationDate) s += 1;
  if (r.sex !== 'X') s += 1;
  if (r.surname.length >= 2) s += 1;
  return s;
}

/** Joins OCR fragments that lie on the same text row (a long MRZ line is often detected as 2 boxes). */
function mergeRowFragments(items: MrzTextLine[]): MrzTextLine[] {
  const out: MrzTextLine[] = [];
  for (const it of items) {
    const prev = out[out.length - 1];
    if (prev?.box && it.box) {
      const pc = prev.box.y + prev.box.height / 2;
      const ic = it.box.y + it.box.height / 2;
      const sameRow = Math.abs(pc - ic) < Math.min(prev.box.height, it.box.height) * 0.6;
      const rightOf = it.box.x > prev.box.x + prev.box.width * 0.5;
      const a = normaliseMrzText(prev.text),
        b = normaliseMrzText(it.text);
      if (sameRow && rightOf && (a.includes('<') || b.includes('<')) && a.length + b.length <= 46 && a.length >= 4 && b.length >= 2) {
        const x = Math.min(prev.box.x, it.box.x),
          y = Math.min(prev.box.y, it.box.y);
        const x2 = Math.max(prev.box.x + prev.box.width, it.box.x + it.box.width);
        const y2 = Math.max(prev.box.y + prev.box.height, it.box.y + it.box.height);
        out[out.length - 1] = { text: prev.text + it.text, box: { x, y, width: x2 - x, height: y2 - y } };
        continue;
      }
    }
    out.push(it);
  }
  return out;
}

/** A normalised line that could belong to an MRZ. */
export function looksLikeMrzLine(text: string): boolean {
  const n = normaliseMrzText(text);
  if (n.length < 24 || n.length > 50) return false;
  const spaces = (text.match(/\s/g) ?? []).length;
  if (spaces > 3) return false;
  if ((n.match(/</g) ?? []).length >= 2) return true;
  // Full lines without fillers (e.g. a visa's line 2) are digit-heavy.
  return (n.match(/[0-9]/g) ?? []).length >= n.length * 0.3;
}

/**
 * Finds and parses the MRZ in OCR output (lines in reading order; boxes
 * optional). Returns the best-scoring parse, or null when no plausible MRZ
 * is present.
 */
export function findMrz(ocrLines: Array<string | MrzTextLine>, today: Date = new Date()): MrzResult | null {
  const items = mergeRowFragments(ocrLines.map((l) => (typeof l === 'string' ? { text: l } : l)));
  const cands = items.filter((l) => looksLikeMrzLine(l.text)).map((l) => normaliseMrzText(l.text));
  let best: MrzResult | null = null;
  let bestScore = -1;
  const shapes: Array<{ n: number; len: number }> = [
    { n: 2, len: 44 },
    { n: 2, len: 36 },
    { n: 3, len: 30 },
  ];
  for (const { n, len } of shapes) {
    for (let i = 0; i + n <= cands.length; i++) {
      for (const window of [cands.slice(i, i + n), cands.slice(i, i + n).reverse()]) {
        // Long filler runs lose '<' most often, so allow a larger shortfall for lines ending in fillers.
        if (!window.every((l) => Math.abs(l.length - len) <= 5 || (l.length < len && len - l.length <= 12 && l.endsWith('<<')))) continue;
        const variants = window.map((l) => lengthVariants(l, len));
        const combos: string[][] = [[]];
        for (const vs of variants) {
          const next: string[][] = [];
          for (const c of combos) for (const v of vs) next.push([...c, v]);
          combos.splice(0, combos.length, ...next);
        }
        for (const combo of combos) {
          const r = parseMrz(combo, today);
          if (!r) continue;
          const s = score(r) - window.reduce((acc, l) => acc + Math.abs(l.length - len), 0) * 0.5;
          if (s > bestScore) {
            bestScore = s;
            best = r;
          }
        }
      }
    }
  }
  // Require some evidence: at least one check digit or a clearly structured header.
  if (!best) return null;
  const validDigits = Object.values(best.checkDigits).filter(Boolean).length;
  if (validDigits === 0 && bestScore < 7) return null;
  return best;
}
