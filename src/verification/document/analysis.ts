// Document analysis: OCR -> MRZ -> type/country -> fields, with timings.
import { findMrz, ICAO_COUNTRY_CODES, looksLikeMrzLine, type MrzResult } from './mrz';
import { classifyDocument, type DocumentClassification, type DocumentType } from './classification';
import { extractFields, type DocumentFields } from './fields';
import { detectText, readingOrder, recogniseRegions, recognitionWidth, type OcrLine, type RgbImage, type TextRegion } from './ocr';

export interface DocumentAnalysis {
  ocrLines: OcrLine[];
  mrz: MrzResult | null;
  documentType: DocumentType;
  /** ISO 3166-1 alpha-3 (ICAO code for specimens), or null. */
  country: string | null;
  classification: DocumentClassification;
  fields: DocumentFields;
  timings: {
    /** Detection + recognition (all stages but the MRZ re-read). */
    ocrMs: number;
    /** Process CPU time (user + system, all threads) spent in ocrMs: stable under machine load. */
    ocrCpuMs: number;
    /** Text detection alone (part of ocrMs). */
    detMs: number;
    mrzRereadMs: number;
    parseMs: number;
    /** Whole analysis: OCR, MRZ (re-read included), classification and fields. */
    totalMs: number;
    /** Process CPU time of the whole analysis. */
    totalCpuMs: number;
    /** Text regions detected, and how many of them were recognised. */
    regions: number;
    recognised: number;
  };
}

function cropRgb(img: RgbImage, x: number, y: number, w: number, h: number): RgbImage {
  x = Math.max(0, Math.floor(x));
  y = Math.max(0, Math.floor(y));
  w = Math.min(img.width - x, Math.ceil(w));
  h = Math.min(img.height - y, Math.ceil(h));
  const data = Buffer.alloc(w * h * 3);
  for (let r = 0; r < h; r++) img.data.copy(data, r * w * 3, ((y + r) * img.width + x) * 3, ((y + r) * img.width + x + w) * 3);
  return { data, width: w, height: h };
}

/**
 * When the MRZ was not read with valid check digits, OCR the MRZ band again
 * as its own image: the detector then sees it at a much larger scale, which
 * separates the lines and keeps '<' runs apart.
 */
async function rereadMrzBand(image: RgbImage, lines: OcrLine[]): Promise<OcrLine[] | null> {
  const mrzish = mrzLikeLines(lines);
  if (!mrzish.length) return null;
  const x0 = Math.min(...mrzish.map((l) => l.box.x));
  const x1 = Math.max(...mrzish.map((l) => l.box.x + l.box.width));
  const y0 = Math.min(...mrzish.map((l) => l.box.y));
  const y1 = Math.max(...mrzish.map((l) => l.box.y + l.box.height));
  const lineH = Math.max(...mrzish.map((l) => l.box.height));
  // Extend to catch a missed line above/below (TD1 has 3 lines).
  const padY = lineH * 1.6,
    padX = lineH;
  const band = cropRgb(image, x0 - padX, y0 - padY, x1 - x0 + 2 * padX, y1 - y0 + 2 * padY);
  if (band.width < 16 || band.height < 16) return null;
  // Only line-shaped regions: the band's other text (labels, signatures) cannot be MRZ.
  const regions = (await detectText(band, { maxDetSide: 1280, minDetSide: 960 })).filter(
    (r) => r.length >= REREAD_MIN_ASPECT * r.thickness,
  );
  const reread = withoutThickness(readingOrder(readLines(regions, await recogniseRegions(band, regions))));
  return reread.map((l) => ({
    ...l,
    box: { ...l.box, x: l.box.x + Math.max(0, Math.floor(x0 - padX)), y: l.box.y + Math.max(0, Math.floor(y0 - padY)) },
  }));
}

// Recognition is the expensive part (time ~ total crop width), so it runs in
// stages and stops as soon as the answer cannot change:
//  1. long, thin regions (MRZ lines and banner headers) at full resolution;
//  2. when they hold a valid passport/visa MRZ, nothing else is needed: type,
//     country and every field come from the check-digit-protected MRZ;
//  3. otherwise the remaining regions, horizontally squeezed (keywords, dates
//     and names survive it; MRZ lines do not, so regions in the MRZ band keep
//     full width), then the MRZ band re-read when its check digits still fail.
/** Regions at least this many times longer than thick are read first (MRZ lines are ~15-35). */
const LONG_ASPECT = 12;
/**
 * Horizontal squeeze of the crops of ordinary (non-MRZ) text, applied only to
 * crops wider than TEXT_SQUEEZE_FROM px and never below that width: short
 * crops (dates, numbers in small boxes) already have few pixels per glyph.
 */
const TEXT_WIDTH_SCALE = 0.6;
const TEXT_SQUEEZE_FROM = 240;
/** Regions of the re-read MRZ band shorter than this many times their thickness are not read. */
const REREAD_MIN_ASPECT = 8;

/** A recognised line with its region's text height (readingOrder groups rows by it). */
type Line = OcrLine & { thickness: number };

/** The non-blank lines read from `regions` (one line per region, same order), with their thickness. */
function readLines(regions: TextRegion[], lines: OcrLine[]): Line[] {
  return lines.map((l, i) => ({ ...l, thickness: regions[i].thickness })).filter((l) => l.text.trim());
}

function withoutThickness(lines: Line[]): OcrLine[] {
  return lines.map(({ thickness: _t, ...l }) => l);
}

/** Lines that look like MRZ lines, or hold a run of fillers ('<'). */
function mrzLikeLines<T extends OcrLine>(lines: T[]): T[] {
  return lines.filter((l) => looksLikeMrzLine(l.text) || (l.text.match(/</g) ?? []).length >= 4);
}

function cpuMsSince(c: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(c);
  return (d.user + d.system) / 1000;
}

function textWidthScale(r: TextRegion): number {
  const w = recognitionWidth(r);
  return w <= TEXT_SQUEEZE_FROM ? 1 : Math.max(TEXT_WIDTH_SCALE, TEXT_SQUEEZE_FROM / w);
}

/** A valid MRZ that settles type, country and fields on its own. */
function mrzIsConclusive(mrz: MrzResult | null): boolean {
  if (!mrz?.valid) return false;
  const c = mrz.documentCode[0];
  // The issuing state is not check-digit protected: when it reads as no known
  // code, the country must come from the printed text.
  return (c === 'P' || c === 'V') && ICAO_COUNTRY_CODES.has(mrz.issuingCountry);
}

/** Analyses a decoded RGB image of an identity document. */
export async function analyseDocument(image: RgbImage, options: { today?: Date } = {}): Promise<DocumentAnalysis> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const regions = await detectText(image);
  const tDet = performance.now();
  const long = mrzCandidates(regions);
  const read: Line[] = [];
  const add = (rs: TextRegion[], lines: OcrLine[]) => read.push(...readLines(rs, lines));
  add(long, await recogniseRegions(image, long));
  let ordered = readingOrder(read);
  let mrz = findMrz(ordered, options.today);
  let stages = 1;
  if (!mrzIsConclusive(mrz)) {
    // MRZ band (from the MRZ-looking lines read so far): fragments there keep full width.
    const band = mrzBand(ordered);
    const rest = regions.filter((r) => !long.includes(r));
    add(
      rest,
      await recogniseRegions(image, rest, {
        widthScale: (r) => (band && r.box.y + r.box.height > band.y0 && r.box.y < band.y1 ? 1 : textWidthScale(r)),
      }),
    );
    ordered = readingOrder(read);
    if (!mrz?.valid) mrz = findMrz(ordered, options.today);
    stages = 2;
  }
  const ocrLines = withoutThickness(ordered);
  const cpuOcr = cpuMsSince(cpu0);
  const t1 = performance.now();
  let t2 = t1;
  if (!mrz?.valid) {
    const reread = await rereadMrzBand(image, ocrLines);
    if (reread) {
      const second = findMrz(reread, options.today);
      const digits = (m: MrzResult | null) => (m ? Object.values(m.checkDigits).filter(Boolean).length : -1);
      if (second && (second.valid || digits(second) > digits(mrz))) mrz = second;
    }
    t2 = performance.now();
  }
  const classification = classifyDocument(ocrLines, mrz);
  const fields = extractFields(ocrLines, mrz, { country: classification.country });
  const t3 = performance.now();
  return {
    ocrLines,
    mrz,
    documentType: classification.documentType,
    country: classification.country,
    classification,
    fields,
    timings: {
      ocrMs: t1 - t0,
      ocrCpuMs: cpuOcr,
      detMs: tDet - t0,
      mrzRereadMs: t2 - t1,
      parseMs: t3 - t2,
      totalMs: t3 - t0,
      totalCpuMs: cpuMsSince(cpu0),
      regions: regions.length,
      recognised: stages === 1 ? long.length : regions.length,
    },
  };
}

/**
 * Regions that may be MRZ lines: long and thin, with a parallel neighbour of
 * about the same thickness one or two line pitches away (an MRZ has 2 or 3
 * lines). Banner lines of stacked fine print qualify too, which is harmless.
 */
export function mrzCandidates(regions: TextRegion[]): TextRegion[] {
  const long = regions
    .filter((r) => r.length >= LONG_ASPECT * r.thickness)
    .map((r) => {
      const { cx, cy, ux, uy } = r.rect;
      return { r, u: cx * ux + cy * uy, v: -cx * uy + cy * ux };
    });
  return long
    .filter((a) =>
      long.some((b) => {
        if (a === b || Math.abs(a.r.angle - b.r.angle) > 6) return false;
        const ta = a.r.thickness,
          tb = b.r.thickness;
        if (ta > 1.45 * tb || tb > 1.45 * ta) return false;
        const dv = Math.abs(a.v - b.v);
        if (dv > 2.8 * Math.max(ta, tb) || dv < 0.6 * Math.min(ta, tb)) return false;
        const overlap = Math.min(a.u + a.r.length / 2, b.u + b.r.length / 2) - Math.max(a.u - a.r.length / 2, b.u - b.r.length / 2);
        return overlap > 0.3 * Math.min(a.r.length, b.r.length);
      }),
    )
    .map((a) => a.r);
}

/** Vertical extent of the MRZ-looking lines, padded by one line height; null when there are none. */
function mrzBand(lines: Line[]): { y0: number; y1: number } | null {
  const mrzish = mrzLikeLines(lines);
  if (!mrzish.length) return null;
  const h = Math.max(...mrzish.map((l) => l.box.height));
  return { y0: Math.min(...mrzish.map((l) => l.box.y)) - h, y1: Math.max(...mrzish.map((l) => l.box.y + l.box.height)) + h };
}
