// Document-type classification from OCR text and (when present) the MRZ.
//
// Labels: 'passport' | 'drivers-license' | 'identification' | 'residence' | 'unknown'.
// Mapping from the sample set's folders (shared/data/documents/README.md):
//   passport -> passport; driver_license -> drivers-license;
//   national_id, id_card (incl. US state non-driver IDs) -> identification;
//   residence_permit -> residence; visa, other -> unknown.
// Country is returned as an ISO 3166-1 alpha-3 code (ICAO 'D' becomes 'DEU';
// the ICAO specimen state 'UTO' is kept as is); for US documents the state is
// given separately as its USPS/ISO 3166-2 suffix (e.g. 'FL').
import type { MrzResult } from './mrz';
import { ICAO_COUNTRY_CODES } from './mrz';

export type DocumentType = 'passport' | 'drivers-license' | 'identification' | 'residence' | 'unknown';

export interface DocumentClassification {
  documentType: DocumentType;
  /** ISO 3166-1 alpha-3 (or ICAO code such as 'UTO'); null when nothing points at a country. */
  country: string | null;
  /** US state / territory code (e.g. 'CA') for US documents, else null. */
  subdivision: string | null;
  /** 0..1; heuristic strength of the evidence. */
  confidence: number;
  /** Why: the cues that fired, e.g. "mrz document code P", "keyword DRIVER LICENSE". */
  evidence: string[];
}

/** Maps the MANIFEST.tsv doc_type labels to DocumentType. */
export function documentTypeFromManifestLabel(label: string): DocumentType {
  switch (label) {
    case 'passport':
      return 'passport';
    case 'driver_license':
      return 'drivers-license';
    case 'national_id':
    case 'id_card':
      return 'identification';
    case 'residence_permit':
      return 'residence';
    default:
      return 'unknown'; // visa, other
  }
}

export const US_STATES: Record<string, string> = {
  ALABAMA: 'AL',
  ALASKA: 'AK',
  ARIZONA: 'AZ',
  ARKANSAS: 'AR',
  CALIFORNIA: 'CA',
  COLORADO: 'CO',
  CONNECTICUT: 'CT',
  DELAWARE: 'DE',
  FLORIDA: 'FL',
  GEORGIA: 'GA',
  HAWAII: 'HI',
  IDAHO: 'ID',
  ILLINOIS: 'IL',
  INDIANA: 'IN',
  IOWA: 'IA',
  KANSAS: 'KS',
  KENTUCKY: 'KY',
  LOUISIANA: 'LA',
  MAINE: 'ME',
  MARYLAND: 'MD',
  MASSACHUSETTS: 'MA',
  MICHIGAN: 'MI',
  MINNESOTA: 'MN',
  MISSISSIPPI: 'MS',
  MISSOURI: 'MO',
  MONTANA: 'MT',
  NEBRASKA: 'NE',
  NEVADA: 'NV',
  'NEW HAMPSHIRE': 'NH',
  'NEW JERSEY': 'NJ',
  'NEW MEXICO': 'NM',
  'NEW YORK': 'NY',
  'NORTH CAROLINA': 'NC',
  'NORTH DAKOTA': 'ND',
  OHIO: 'OH',
  OKLAHOMA: 'OK',
  OREGON: 'OR',
  PENNSYLVANIA: 'PA',
  'RHODE ISLAND': 'RI',
  'SOUTH CAROLINA': 'SC',
  'SOUTH DAKOTA': 'SD',
  TENNESSEE: 'TN',
  TEXAS: 'TX',
  UTAH: 'UT',
  VERMONT: 'VT',
  VIRGINIA: 'VA',
  WASHINGTON: 'WA',
  'WEST VIRGINIA': 'WV',
  WISCONSIN: 'WI',
  WYOMING: 'WY',
  'DISTRICT OF COLUMBIA': 'DC',
  'PUERTO RICO': 'PR',
};

interface Keyword {
  /** Matched against the OCR text uppercased with everything but letters/digits removed. */
  pattern: RegExp;
  label: string;
  type: DocumentType | 'visa' | 'negative';
  weight: number;
}

const KEYWORDS: Keyword[] = [
  // passports
  { pattern: /PASSPORT/, label: 'PASSPORT', type: 'passport', weight: 3 },
  { pattern: /PASSEPORT/, label: 'PASSEPORT', type: 'passport', weight: 3 },
  {
    pattern: /PASAPORTE|PASSAPORTO|PASSAPORTE|REISEPASS|PASZPORT|PASPOORT|PASAPORT|CESTOVNIPAS|PASSI\b|PASUL/,
    label: 'passport (other language)',
    type: 'passport',
    weight: 3,
  },
  // driving licences
  { pattern: /DRIVER'?S?LICEN[CS]E|DRIVERLICEN|DRIVERSLICEN/, label: 'DRIVER LICENSE', type: 'drivers-license', weight: 4 },
  { pattern: /DRIVINGLICEN[CS]E/, label: 'DRIVING LICENCE', type: 'drivers-license', weight: 4 },
  {
    pattern: /PERMISDECONDU[I1]RE|FUHRERSCHEIN|FUEHRERSCHEIN|PERMISODECONDUCIR|PATENTEDIGUIDA|RIJBEWIJS|PRAWOJAZDY/,
    label: 'driving licence (EU language)',
    type: 'drivers-license',
    weight: 4,
  },
  {
    pattern: /OPERATOR'?S?LICEN[CS]E|COMMERCIALDRIVER|LEARNER'?S?PERMIT|INSTRUCTIONPERMIT/,
    label: 'OPERATOR/PERMIT',
    type: 'drivers-license',
    weight: 3,
  },
  {
    pattern: /ENDORSE|\bRESTR(ICTIONS)?\b|\bCLASS( [A-DM])?\b|\bDLN? ?[0-9]|4DDLN?|\bDL(NO)?\b/,
    label: 'licence fields (CLASS/DL/ENDORSE/RESTR)',
    type: 'drivers-license',
    weight: 1.5,
  },
  { pattern: /ORGANDONOR|DONOR|VETERAN/, label: 'DONOR/VETERAN', type: 'drivers-license', weight: 0.5 },
  // identity cards
  {
    pattern: /IDENTIFICATIONCARD|IDENTITYCARD|IDCARD|NATIONALID|IDENTITYDOCUMENT/,
    label: 'IDENTITY/IDENTIFICATION CARD',
    type: 'identification',
    weight: 4,
  },
  {
    pattern:
      /CARTENATIONALE|CARTED'?IDENTITE|DOCUMENTONACIONAL|DEIDENTIDAD|PERSONALAUSWEIS|IDENTITATSKARTE|IDENTITEITSKAART|CARTADIIDENTITA|OSOBNAIZKAZNICA|CARTEDIDENTITE|BULETINDEIDENTITATE|CARTEIDENTITATE|DOWODOSOBISTY|OBCANSKYPRUKAZ/,
    label: 'identity card (other language)',
    type: 'identification',
    weight: 4,
  },
  { pattern: /\bDNI\b|IDENTIDAD|IDENTITE|IDENTITY/, label: 'IDENTITY', type: 'identification', weight: 1.5 },
  {
    pattern: /NOTADRIVER|NONDRIVER|NOTVALIDFORDRIVING|IDENTIFICATIONONLY/,
    label: 'NOT A DRIVER LICENSE',
    type: 'identification',
    weight: 6,
  },
  // residence
  {
    pattern:
      /RESIDENCEPERMIT|RESIDENTPERMIT|TITREDESEJOUR|AUFENTHALTSTITEL|AUFENTHALTSERLAUBNIS|PERMESSODISOGGIORNO|PERMISODERESIDENCIA|VERBLIJFSDOCUMENT|KARTAPOBYTU/,
    label: 'RESIDENCE PERMIT',
    type: 'residence',
    weight: 6,
  },
  {
    pattern: /PERMANENTRESIDEN|RESIDENTCARD|RESIDENTIDENTITY|GREENCARD|NONPERMANENTRESIDENT|RESIDENTE/,
    label: 'RESIDENT CARD',
    type: 'residence',
    weight: 6,
  },
  // visa and negatives
  { pattern: /\bVISA\b|VISAS|IMMIGRANTVISA|SCHENGEN/, label: 'VISA', type: 'visa', weight: 3 },
  {
    pattern: /INVOICE|FACTURE|CARTEVITALE|ASSURANCEMALADIE|VALIDTHRU|DEBIT|CREDITCARD|MASTERCARD|TOTALDUE|AMOUNTDUE/,
    label: 'non-identity (invoice/health/payment card)',
    type: 'negative',
    weight: 4,
  },
];

const COUNTRY_WORDS: Array<[RegExp, string]> = [
  [/UNITEDSTATES|\bUSA\b/, 'USA'],
  [/CANADA/, 'CAN'],
  [/UNITEDKINGDOM|GREATBRITAIN/, 'GBR'],
  [/REPUBLIQUEFRANCAISE|\bFRANCE\b/, 'FRA'],
  [/ESPANA|REINODE/, 'ESP'],
  [/DEUTSCHLAND|BUNDESREPUBLIK/, 'DEU'],
  [/SCHWEIZ|SUISSE|SVIZZERA/, 'CHE'],
  [/ROMANIA/, 'ROU'],
  [/SLOVENIJA/, 'SVN'],
  [/NEDERLAND/, 'NLD'],
  [/POLSKA/, 'POL'],
  [/REPUBLICOFINDIA|\bINDIA\b/, 'IND'],
  [/UTOPIA/, 'UTO'],
  [/MACAU|MACAO/, 'MAC'],
];

const ALPHA3_BY_ICAO: Record<string, string> = { D: 'DEU', GBD: 'GBR', GBN: 'GBR', GBO: 'GBR', GBS: 'GBR', GBP: 'GBR' };

/** Uppercase, diacritics removed, spaces and punctuation (except apostrophe) dropped; OCR merges words anyway. */
function compact(s: string): string {
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase()
    .replace(/[^A-Z0-9'\n]/g, '');
}

function findUsState(lines: string[]): { name: string; code: string } | null {
  const text = lines
    .join('\n')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toUpperCase();
  const spaced = text.replace(/[^A-Z\n]+/g, ' ');
  const squashed = text.replace(/[^A-Z\n]/g, '');
  let best: { name: string; code: string; pos: number } | null = null;
  for (const [name, code] of Object.entries(US_STATES)) {
    // Prefer multi-word names ("WEST VIRGINIA" over "VIRGINIA") and early (header) positions.
    const re = new RegExp(`\\b${name}\\b`);
    const m = re.exec(spaced);
    let pos = m ? m.index / Math.max(1, spaced.length) : -1;
    if (pos < 0 && name.length >= 6) {
      const i = squashed.indexOf(name.replace(/ /g, ''));
      pos = i >= 0 ? i / Math.max(1, squashed.length) : -1;
    }
    if (pos < 0) continue;
    if (!best || pos < best.pos - 0.05 || (Math.abs(pos - best.pos) <= 0.05 && name.length > best.name.length)) {
      best = { name, code, pos };
    }
  }
  return best ? { name: best.name, code: best.code } : null;
}

/**
 * Classifies a document from its OCR lines and parsed MRZ.
 * `ocrLines` may be strings or OCR results ({ text }).
 */
export function classifyDocument(ocrLines: Array<string | { text: string }>, mrz?: MrzResult | null): DocumentClassification {
  const lines = ocrLines.map((l) => (typeof l === 'string' ? l : l.text));
  const text = lines.map(compact).join('\n');
  // Everything joined: keywords split over two boxes ("IDENTIFICATION" / "CARD") still match.
  const joined = text.replace(/\n/g, '');
  // Same text with single spaces between words, for patterns anchored with \b.
  const spaced = lines
    .map((l) =>
      l
        .normalize('NFD')
        .replace(/[\u0300-\u036f]/g, '')
        .toUpperCase()
        .replace(/[^A-Z0-9']+/g, ' ')
        .trim(),
    )
    .join('\n');
  const scores: Record<string, number> = {
    passport: 0,
    'drivers-license': 0,
    identification: 0,
    residence: 0,
    visa: 0,
    negative: 0,
  };
  const evidence: string[] = [];
  let country: string | null = null;
  let subdivision: string | null = null;

  // 1. MRZ document code (strongest cue when check digits validate).
  const mrzTrusted = !!mrz && Object.values(mrz.checkDigits).filter(Boolean).length >= 2;
  if (mrz && mrzTrusted) {
    const code = mrz.documentCode;
    const w = mrz.valid ? 8 : 5;
    const c0 = code[0];
    if (c0 === 'P') {
      scores.passport += w;
      evidence.push(`mrz document code ${code} (passport), ${mrz.format}`);
    } else if (c0 === 'V') {
      scores.visa += w;
      evidence.push(`mrz document code ${code} (visa), ${mrz.format}`);
    } else if (/^(IR|AR|RP|CR|RT)$/.test(code) || ('IAC'.includes(c0) && mrz.format === 'TD1' && mrz.issuingCountry === 'USA')) {
      // The US issues no national ID card: its TD1 cards are immigration documents (green card, EAD).
      scores.residence += w;
      evidence.push(`mrz document code ${code}${mrz.issuingCountry === 'USA' ? ' on a US TD1 card' : ''} (residence permit)`);
    } else if ('IAC'.includes(c0)) {
      scores.identification += w * 0.75; // residence cards also use I/A/C codes: keywords can still win
      evidence.push(`mrz document code ${code} (identity card), ${mrz.format}`);
    }
    const issuing = ALPHA3_BY_ICAO[mrz.issuingCountry] ?? mrz.issuingCountry;
    if (ICAO_COUNTRY_CODES.has(mrz.issuingCountry)) {
      country = issuing;
      evidence.push(`mrz issuing country ${mrz.issuingCountry}`);
    }
  } else if (mrz) {
    evidence.push(`mrz-like text with failing check digits (code ${mrz.documentCode})`);
    if (mrz.documentCode[0] === 'P') scores.passport += 2;
    else if ('IAC'.includes(mrz.documentCode[0] ?? '')) scores.identification += 1.5;
  }

  // 1b. No parsable MRZ but an MRZ-style first line ("P<GBR...", "I<FRA...", "IDESP...").
  if (!mrzTrusted) {
    for (const l of lines) {
      const n = l.toUpperCase().replace(/\s+/g, '');
      const m = /^([PIACV])([A-Z<])([A-Z<]{3})[A-Z<]{10,}/.exec(n);
      if (!m || !n.includes('<<')) continue;
      const cc = m[3].replace(/<+$/, '');
      if (!ICAO_COUNTRY_CODES.has(cc)) continue;
      const t = m[1] === 'P' ? 'passport' : m[1] === 'V' ? 'visa' : 'identification';
      scores[t] += 3;
      evidence.push(`MRZ-style header ${m[1]}${m[2]}${m[3]} (check digits unreadable)`);
      if (!country) country = ALPHA3_BY_ICAO[cc] ?? cc;
      break;
    }
  }

  // 2. Keywords.
  for (const k of KEYWORDS) {
    if (k.pattern.test(text) || k.pattern.test(spaced) || k.pattern.test(joined)) {
      scores[k.type] += k.weight;
      evidence.push(`keyword ${k.label}`);
    }
  }

  // 3. US state name: US states issue driving licences and non-driver IDs, not passports.
  const state = findUsState(lines);
  if (state && !(mrzTrusted && mrz!.documentCode[0] === 'P')) {
    subdivision = state.code;
    if (!country || country === 'USA') country = 'USA';
    evidence.push(`US state ${state.name}`);
    if (scores.identification < 4 && scores.residence < 4) {
      scores['drivers-license'] += 2;
    }
  }

  // 4. Layout cue: an MRZ-less card with DL-style AAMVA field numbers ("4d", "4b EXP", "3 DOB").
  if (!mrz && (/4[ABD](EXP|ISS|DLN?)|3DOB|DOB[0-9]/.test(text) || /\bDOB\b/.test(spaced))) {
    scores['drivers-license'] += 1;
    evidence.push('AAMVA-style field labels (DOB / 4b EXP / 4d DL)');
  }

  if (!country) {
    for (const [re, code] of COUNTRY_WORDS) {
      if (re.test(text) || re.test(spaced)) {
        country = code;
        evidence.push(`country word ${code}`);
        break;
      }
    }
  }

  // Residence cards are identity cards for residents: a residence keyword beats generic identity cues.
  if (scores.residence >= 6 && scores.identification > scores.residence) {
    evidence.push('residence keyword overrides identity-card cues');
    scores.residence = scores.identification + 1;
  }

  // Decide.
  const ranked = Object.entries(scores).sort((a, b) => b[1] - a[1]);
  const [topLabel, topScore] = ranked[0];
  const second = ranked[1][1];
  let documentType: DocumentType;
  if (topScore < 1.5) documentType = 'unknown';
  else if (topLabel === 'visa' || topLabel === 'negative') documentType = 'unknown';
  else documentType = topLabel as DocumentType;
  const margin = topScore - second;
  const confidence = topScore < 1.5 ? 0.2 : Math.max(0.3, Math.min(0.99, 0.5 + 0.05 * topScore + 0.05 * margin));
  return { documentType, country, subdivision, confidence: Math.round(confidence * 100) / 100, evidence };
}
