// Document analysis: OCR -> MRZ -> type/country -> fields, with timings.
import { findMrz, looksLikeMrzLine, type MrzResult } from './mrz';
import { classifyDocument, type DocumentClassification, type DocumentType } from './documentType';
import { extractFields, type DocumentFields } from './documentFields';
import { recogniseText, type OcrLine, type RgbImage } from './ocr';

export interface DocumentAnalysis {
  ocrLines: OcrLine[];
  mrz: MrzResult | null;
  documentType: DocumentType;
  /** ISO 3166-1 alpha-3 (ICAO code for specimens), or null. */
  country: string | null;
  classification: DocumentClassification;
  fields: DocumentFields;
  timings: {
    ocrMs: number;
    /** Process CPU time (user + system, all threads) spent in the first OCR pass: stable under machine load. */
    ocrCpuMs: number;
    mrzRereadMs: number;
    parseMs: number;
    totalMs: number;
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
  const mrzish = lines.filter((l) => looksLikeMrzLine(l.text) || (l.text.match(/</g) ?? []).length >= 4);
  if (!mrzish.length) return null;
  const x0 = Math.min(...mrzish.map((l) => l.box.x));
  const x1 = Math.max(...mrzish.map((l) => l.box.x + l.box.width));
  const y0 = Math.min(...mrzish.map((l) => l.box.y));
  const y1 = Math.max(...mrzish.map((l) => l.box.y + l.box.height));
  const lineH = Math.max(...mrzish.map((l) => l.box.height));
  // Extend to catch a missed line above/below (TD1 has 3 lines).
  const padY = lineH * 1.6, padX = lineH;
  const band = cropRgb(image, x0 - padX, y0 - padY, x1 - x0 + 2 * padX, y1 - y0 + 2 * padY);
  if (band.width < 16 || band.height < 16) return null;
  const reread = await recogniseText(band, { maxDetSide: 1280, minDetSide: 960 });
  return reread.map((l) => ({ ...l, box: { ...l.box, x: l.box.x + Math.max(0, Math.floor(x0 - padX)), y: l.box.y + Math.max(0, Math.floor(y0 - padY)) } }));
}

/** Analyses a decoded RGB image of an identity document. */
export async function analyseDocument(image: RgbImage, options: { today?: Date } = {}): Promise<DocumentAnalysis> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const ocrLines = await recogniseText(image);
  const cpu = process.cpuUsage(cpu0);
  const t1 = performance.now();
  let mrz = findMrz(ocrLines, options.today);
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
    timings: { ocrMs: t1 - t0, ocrCpuMs: (cpu.user + cpu.system) / 1000, mrzRereadMs: t2 - t1, parseMs: t3 - t2, totalMs: t3 - t0 },
  };
}
