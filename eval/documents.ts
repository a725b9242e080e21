// Document evaluation on the development set (../shared/data/documents):
// document-type accuracy + confusion matrix, MRZ detection rate, MRZ field
// accuracy against MANIFEST.tsv's ground-truth mrz_text, OCR timings.
// Run alone:  npx tsx eval/documents.ts [dataDir] [--json out.json] [--limit N]
// eval/run.ts imports evaluateDocuments / documentsMarkdown.
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { analyseDocument } from '../src/verification/document/analysis';
import { documentTypeFromManifestLabel, type DocumentType } from '../src/verification/document/classification';
import { isExpired } from '../src/verification/document/fields';
import { loadOcrModels, type RgbImage } from '../src/verification/document/ocr';
import { parseMrz, type MrzResult } from '../src/verification/document/mrz';
import { DEFAULT_DATA_DIR, isMainModule, parseCliArgs } from './support';

export const DEFAULT_DOCUMENTS_DIR = join(DEFAULT_DATA_DIR, 'documents');

export const DOCUMENT_TYPES: DocumentType[] = ['passport', 'drivers-license', 'identification', 'residence', 'unknown'];
export const MRZ_FIELDS = [
  'documentCode',
  'issuingCountry',
  'surname',
  'givenNames',
  'documentNumber',
  'nationality',
  'dateOfBirth',
  'sex',
  'expirationDate',
] as const;
type MrzField = (typeof MRZ_FIELDS)[number];

export interface ManifestRow {
  file: string;
  docType: string;
  country: string;
  side: string;
  facePortrait: string;
  mrzFormat: string;
  mrzText: string;
}

export interface DocumentSampleResult {
  file: string;
  label: string;
  expected: DocumentType;
  predicted: DocumentType;
  correct: boolean;
  confidence: number;
  evidence: string[];
  country: string | null;
  manifestCountry: string;
  /** Manifest says an MRZ (TD1/TD2/TD3/MRV, or the old French CNI 2x36) is visible. */
  hasMrz: boolean;
  mrzFound: boolean;
  mrzValid: boolean;
  mrzFormat: string | null;
  /** Per-field equality with the ground-truth MRZ (only when mrz_text is given). */
  mrzFieldMatches: Partial<Record<MrzField, boolean>> | null;
  expirationDate: string | null;
  expired: boolean | null;
  fullName: string | null;
  dateOfBirth: string | null;
  ocrLines: number;
  ocrMs: number;
  ocrCpuMs: number;
  totalMs: number;
  /** CPU time of the whole analysis (OCR, MRZ re-read, classification, fields). */
  totalCpuMs: number;
  /** Text regions detected / recognised. */
  regions: number;
  recognised: number;
  width: number;
  height: number;
}

export interface DocumentEvalResult {
  dataDir: string;
  samples: number;
  typeAccuracy: number;
  /** Per manifest-mapped label: recall. */
  perTypeAccuracy: Record<string, { n: number; correct: number; accuracy: number }>;
  /** confusion[expected][predicted] = count. */
  confusion: Record<DocumentType, Record<DocumentType, number>>;
  mrz: {
    samplesWithMrz: number;
    detected: number;
    detectionRate: number;
    validCheckDigits: number;
    validRate: number;
    /** Samples with ground-truth mrz_text. */
    samplesWithTruth: number;
    fieldAccuracy: Record<MrzField, number>;
    /** All fields of the ground truth reproduced. */
    allFieldsCorrect: number;
    /** False positives: an MRZ reported on a sample whose manifest shows none. */
    falsePositives: string[];
  };
  timings: {
    ocrMsP50: number;
    ocrMsP90: number;
    ocrMsMean: number;
    /** CPU time of the OCR pass (both threads summed); wall time ~ CPU / 2 on an idle 2-core machine. */
    ocrCpuMsP50: number;
    ocrCpuMsP95: number;
    totalMsP50: number;
    totalMsP90: number;
    totalMsP95: number;
    /** CPU time of the whole analysis (both threads summed). */
    totalCpuMsP50: number;
    totalCpuMsP95: number;
    /** 1-minute load average when the run ended (other processes inflate wall times). */
    loadAverage: number;
  };
  results: DocumentSampleResult[];
}

export function readManifest(dataDir: string): ManifestRow[] {
  const rows = readFileSync(join(dataDir, 'MANIFEST.tsv'), 'utf8').trim().split('\n');
  const head = rows[0].split('\t');
  const col = (name: string) => head.indexOf(name);
  return rows.slice(1).map((line) => {
    const c = line.split('\t');
    return {
      file: c[col('file')],
      docType: c[col('doc_type')],
      country: c[col('country')] ?? '',
      side: c[col('side')] ?? '',
      facePortrait: c[col('face_portrait')] ?? '',
      mrzFormat: c[col('mrz_format')] ?? '',
      mrzText: c[col('mrz_text')] ?? '',
    };
  });
}

/** An MRZ is visible according to the manifest: ICAO TD1/TD2/TD3/MRV, or the old French CNI (2x36); EU DL single lines excluded. */
export function manifestHasIcaoMrz(row: ManifestRow): boolean {
  return /^(TD1|TD2|TD3|MRV-A|MRV-B)/.test(row.mrzFormat);
}

/** Decodes a file with sharp: EXIF-rotated, alpha removed, raw RGB, long side <= maxSide. */
export async function decodeDocumentImage(path: string, maxSide = 1600): Promise<RgbImage> {
  const { data, info } = await sharp(path)
    .rotate()
    .flatten({ background: '#ffffff' })
    .removeAlpha()
    .toColourspace('srgb')
    .resize({ width: maxSide, height: maxSide, fit: 'inside', withoutEnlargement: true })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`${path}: ${info.channels} channels after decoding`);
  return { data, width: info.width, height: info.height };
}

function percentile(values: number[], p: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i];
}

function compareMrz(got: MrzResult | null, truth: MrzResult): Record<MrzField, boolean> {
  const out = {} as Record<MrzField, boolean>;
  for (const f of MRZ_FIELDS) out[f] = !!got && got[f] === truth[f];
  return out;
}

export async function evaluateDocuments(
  dataDir: string = DEFAULT_DOCUMENTS_DIR,
  options: { today?: Date; onSample?: (r: DocumentSampleResult) => void; limit?: number } = {},
): Promise<DocumentEvalResult> {
  const today = options.today ?? new Date();
  const manifest = readManifest(dataDir).slice(0, options.limit);
  await loadOcrModels();
  // Warm-up so the first sample's timing is not the session initialisation.
  await analyseDocument(await decodeDocumentImage(join(dataDir, manifest[0].file)));
  const results: DocumentSampleResult[] = [];
  for (const row of manifest) {
    const img = await decodeDocumentImage(join(dataDir, row.file));
    const a = await analyseDocument(img, { today });
    const expected = documentTypeFromManifestLabel(row.docType);
    const truth = row.mrzText ? parseMrz(row.mrzText.split('|'), today) : null;
    const r: DocumentSampleResult = {
      file: row.file,
      label: row.docType,
      expected,
      predicted: a.documentType,
      correct: a.documentType === expected,
      confidence: a.classification.confidence,
      evidence: a.classification.evidence,
      country: a.country,
      manifestCountry: row.country,
      hasMrz: manifestHasIcaoMrz(row),
      mrzFound: !!a.mrz,
      mrzValid: !!a.mrz?.valid,
      mrzFormat: a.mrz?.format ?? null,
      mrzFieldMatches: truth ? compareMrz(a.mrz, truth) : null,
      expirationDate: a.fields.expirationDate,
      expired: isExpired(a.fields.expirationDate, today),
      fullName: a.fields.fullName,
      dateOfBirth: a.fields.dateOfBirth,
      ocrLines: a.ocrLines.length,
      ocrMs: Math.round(a.timings.ocrMs),
      ocrCpuMs: Math.round(a.timings.ocrCpuMs),
      totalMs: Math.round(a.timings.totalMs),
      totalCpuMs: Math.round(a.timings.totalCpuMs),
      regions: a.timings.regions,
      recognised: a.timings.recognised,
      width: img.width,
      height: img.height,
    };
    results.push(r);
    options.onSample?.(r);
  }

  const confusion = Object.fromEntries(DOCUMENT_TYPES.map((e) => [e, Object.fromEntries(DOCUMENT_TYPES.map((p) => [p, 0]))])) as Record<
    DocumentType,
    Record<DocumentType, number>
  >;
  for (const r of results) confusion[r.expected][r.predicted]++;
  const perTypeAccuracy: DocumentEvalResult['perTypeAccuracy'] = {};
  for (const r of results) {
    const k = `${r.label} -> ${r.expected}`;
    perTypeAccuracy[k] ??= { n: 0, correct: 0, accuracy: 0 };
    perTypeAccuracy[k].n++;
    if (r.correct) perTypeAccuracy[k].correct++;
  }
  for (const v of Object.values(perTypeAccuracy)) v.accuracy = v.correct / v.n;

  const withMrz = results.filter((r) => r.hasMrz);
  const withTruth = results.filter((r) => r.mrzFieldMatches);
  const fieldAccuracy = {} as Record<MrzField, number>;
  for (const f of MRZ_FIELDS) fieldAccuracy[f] = withTruth.filter((r) => r.mrzFieldMatches![f]).length / (withTruth.length || 1);
  const ocr = results.map((r) => r.ocrMs);
  const total = results.map((r) => r.totalMs);
  return {
    dataDir,
    samples: results.length,
    typeAccuracy: results.filter((r) => r.correct).length / results.length,
    perTypeAccuracy,
    confusion,
    mrz: {
      samplesWithMrz: withMrz.length,
      detected: withMrz.filter((r) => r.mrzFound).length,
      detectionRate: withMrz.filter((r) => r.mrzFound).length / (withMrz.length || 1),
      validCheckDigits: withMrz.filter((r) => r.mrzValid).length,
      validRate: withMrz.filter((r) => r.mrzValid).length / (withMrz.length || 1),
      samplesWithTruth: withTruth.length,
      fieldAccuracy,
      allFieldsCorrect: withTruth.filter((r) => MRZ_FIELDS.every((f) => r.mrzFieldMatches![f])).length,
      falsePositives: results.filter((r) => !r.hasMrz && r.mrzFound).map((r) => r.file),
    },
    timings: {
      ocrMsP50: percentile(ocr, 50),
      ocrMsP90: percentile(ocr, 90),
      ocrMsMean: Math.round(ocr.reduce((a, b) => a + b, 0) / (ocr.length || 1)),
      ocrCpuMsP50: percentile(
        results.map((r) => r.ocrCpuMs),
        50,
      ),
      ocrCpuMsP95: percentile(
        results.map((r) => r.ocrCpuMs),
        95,
      ),
      totalMsP50: percentile(total, 50),
      totalMsP90: percentile(total, 90),
      totalMsP95: percentile(total, 95),
      totalCpuMsP50: percentile(
        results.map((r) => r.totalCpuMs),
        50,
      ),
      totalCpuMsP95: percentile(
        results.map((r) => r.totalCpuMs),
        95,
      ),
      loadAverage: Math.round(loadavg()[0] * 100) / 100,
    },
    results,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function documentsMarkdown(r: DocumentEvalResult): string {
  const out: string[] = [];
  out.push('## Documents');
  out.push('');
  out.push(
    `Development set: ${r.samples} images from \`${r.dataDir.replace(/.*\/shared\//, '../shared/')}\` ` +
      '(PaddleOCR PP-OCRv4 det+rec, ICAO 9303 MRZ parsing, keyword/MRZ type classifier).',
  );
  out.push('');
  out.push('| figure | value |');
  out.push('| --- | --- |');
  out.push(`| document-type accuracy | ${pct(r.typeAccuracy)} (${r.results.filter((x) => x.correct).length}/${r.samples}) |`);
  out.push(`| MRZ detection rate (MRZ visible per manifest) | ${pct(r.mrz.detectionRate)} (${r.mrz.detected}/${r.mrz.samplesWithMrz}) |`);
  out.push(`| MRZ read with all check digits valid | ${pct(r.mrz.validRate)} (${r.mrz.validCheckDigits}/${r.mrz.samplesWithMrz}) |`);
  out.push(`| MRZ all fields = ground truth | ${r.mrz.allFieldsCorrect}/${r.mrz.samplesWithTruth} |`);
  out.push(`| MRZ false positives (no MRZ in manifest) | ${r.mrz.falsePositives.length} |`);
  out.push(
    `| OCR wall time p50 / p90 (2 cores, load average ${r.timings.loadAverage}) | ${r.timings.ocrMsP50} ms / ${r.timings.ocrMsP90} ms |`,
  );
  out.push(`| OCR CPU time p50 / p95 (both threads) | ${r.timings.ocrCpuMsP50} ms / ${r.timings.ocrCpuMsP95} ms |`);
  out.push(
    `| whole analysis (OCR + MRZ re-read + classification) wall p50 / p90 / p95 | ${r.timings.totalMsP50} ms / ${r.timings.totalMsP90} ms / ${r.timings.totalMsP95} ms |`,
  );
  out.push(`| whole analysis CPU p50 / p95 (both threads) | ${r.timings.totalCpuMsP50} ms / ${r.timings.totalCpuMsP95} ms |`);
  out.push('');
  out.push(
    'Label mapping: passport → passport; driver_license → drivers-license; national_id, id_card → identification; residence_permit → residence; visa, other → unknown.',
  );
  out.push('');
  out.push('### Type accuracy per manifest label');
  out.push('');
  out.push('| label | n | correct | accuracy |');
  out.push('| --- | --- | --- | --- |');
  for (const [k, v] of Object.entries(r.perTypeAccuracy)) out.push(`| ${k} | ${v.n} | ${v.correct} | ${pct(v.accuracy)} |`);
  out.push('');
  out.push('### Confusion matrix (rows: expected, columns: predicted)');
  out.push('');
  out.push(`| expected \\ predicted | ${DOCUMENT_TYPES.join(' | ')} |`);
  out.push(`| --- |${DOCUMENT_TYPES.map(() => ' --- |').join('')}`);
  for (const e of DOCUMENT_TYPES) out.push(`| ${e} | ${DOCUMENT_TYPES.map((p) => r.confusion[e][p]).join(' | ')} |`);
  out.push('');
  out.push(`### MRZ field accuracy (${r.mrz.samplesWithTruth} samples with published MRZ text)`);
  out.push('');
  out.push('| field | accuracy |');
  out.push('| --- | --- |');
  for (const [f, v] of Object.entries(r.mrz.fieldAccuracy)) out.push(`| ${f} | ${pct(v)} |`);
  out.push('');
  const wrong = r.results.filter((x) => !x.correct);
  if (wrong.length) {
    out.push('### Misclassified samples');
    out.push('');
    out.push('| file | expected | predicted | evidence |');
    out.push('| --- | --- | --- | --- |');
    for (const w of wrong) out.push(`| ${w.file} | ${w.expected} | ${w.predicted} | ${w.evidence.join('; ') || '—'} |`);
    out.push('');
  }
  const missed = r.results.filter((x) => x.hasMrz && !x.mrzValid);
  if (missed.length) {
    out.push(`MRZ not read with valid check digits: ${missed.map((m) => `\`${m.file}\`${m.mrzFound ? ' (partial)' : ''}`).join(', ')}.`);
    out.push('');
  }
  return out.join('\n');
}

if (isMainModule(import.meta.url)) {
  const { positional, values } = parseCliArgs(process.argv.slice(2), ['json', 'limit']);
  const jsonOut = values.json;
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  const dir = positional[0] ?? DEFAULT_DOCUMENTS_DIR;
  const res = await evaluateDocuments(resolve(dir), {
    limit,
    onSample: (s) =>
      console.error(
        `${s.correct ? 'ok ' : 'BAD'} ${s.file.padEnd(58)} ${s.expected.padEnd(15)} -> ${s.predicted.padEnd(15)} ` +
          `mrz=${s.hasMrz ? (s.mrzValid ? 'valid' : s.mrzFound ? 'partial' : 'MISSED') : s.mrzFound ? 'FP' : '-'} ocr=${s.ocrMs}ms cpu=${s.ocrCpuMs}ms ` +
          `total=${s.totalMs}ms/${s.totalCpuMs}ms cpu read=${s.recognised}/${s.regions}`,
      ),
  });
  console.log(documentsMarkdown(res));
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(res, null, 2));
}
