// Document OCR benchmark: wall and CPU time of analyseDocument (OCR + MRZ +
// classification + fields) per sample image, each run `--repeat` times after
// a warm-up; the per-image median is kept, then p50/p95 over the images.
// Images are decoded once up front (decode time excluded).
//   npx tsx bench/ocr.ts [--limit N] [--repeat R] [--impl path/to/documentAnalysis.ts]
// `--impl` benchmarks another implementation (e.g. a copy of an older version).
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEFAULT_DOCUMENTS_DIR, decodeDocumentImage, readManifest } from '../eval/documents';
import type { RgbImage } from '../src/verification/document/ocr';
import { percentile } from './support/stats';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : dflt);
const limit = Number(opt('--limit', '1000'));
const repeat = Number(opt('--repeat', '3'));
const impl = opt('--impl', '');
const mod = impl ? await import(pathToFileURL(resolve(impl)).href) : await import('../src/verification/document/analysis');
const analyseDocument: (img: RgbImage, o?: { today?: Date }) => Promise<{ documentType: string; mrz: { valid: boolean } | null }> =
  mod.analyseDocument;

const rows = readManifest(DEFAULT_DOCUMENTS_DIR).slice(0, limit);
const images = await Promise.all(rows.map((r) => decodeDocumentImage(join(DEFAULT_DOCUMENTS_DIR, r.file))));
await analyseDocument(images[0]);
await analyseDocument(images[0]);
const load0 = loadavg()[0];
const wall: number[] = [],
  cpu: number[] = [];
for (const img of images) {
  const w: number[] = [],
    c: number[] = [];
  for (let i = 0; i < repeat; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await analyseDocument(img);
    w.push(performance.now() - t0);
    const d = process.cpuUsage(c0);
    c.push((d.user + d.system) / 1000);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  wall.push(med(w));
  cpu.push(med(c));
}
const pct = (xs: number[], p: number) => Math.round(percentile(xs, p));
console.log(
  `${impl || 'current'}: ${images.length} images x ${repeat}: wall p50 ${pct(wall, 50)} ms, p95 ${pct(wall, 95)} ms; ` +
    `CPU p50 ${pct(cpu, 50)} ms, p95 ${pct(cpu, 95)} ms; load average ${load0.toFixed(2)} -> ${loadavg()[0].toFixed(2)}`,
);
