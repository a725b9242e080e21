// Face-match evaluation on the LFW dev pairs (../shared/data/faces/pairs.tsv) and face-detection
// coverage on the document photos (../shared/data/documents). Run alone:
//   npx tsx eval/faces.ts [dataDir] [--png out.png]
// eval/run.ts imports evaluateFaces / renderFacesMarkdown / renderFacesRocPng.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage, type DecodedImage } from '../src/verification/imageDecode';
import { detectFaces, type DetectedFace } from '../src/verification/face/detection';
import { detectLandmarks68, landmarks5From68 } from '../src/verification/face/landmarks';
import { alignFace } from '../src/verification/face/alignment';
import { cosineSimilarity, EMBEDDING_CHANNEL_ORDER, faceEmbedding, setEmbeddingChannelOrder } from '../src/verification/face/embedding';
import { analyseFace, type FaceTimings } from '../src/verification/face/pipeline';
import { FACE_MATCH_THRESHOLD, FACE_MATCH_TARGET_FAR, matchConfidence } from '../src/verification/face/match';
import { DEFAULT_DATA_DIR, isMainModule, mediansByKey, parseCliArgs, readTsv } from './support';

export { DEFAULT_DATA_DIR };

export interface RocPoint {
  far: number;
  tar: number;
  threshold: number;
}
export interface PairSetFigures {
  genuine: number;
  impostor: number;
  auc: number;
  eer: number;
  eerThreshold: number;
  tarAtFar1: number;
  tarAtFar01: number;
  /** TAR / FAR / accuracy at the shipped FACE_MATCH_THRESHOLD. */
  atThreshold: { threshold: number; tar: number; far: number; accuracy: number };
  roc: RocPoint[];
}
export interface Histogram {
  binWidth: number;
  from: number;
  genuine: number[];
  impostor: number[];
}

export interface FaceEvalResult {
  dataDir: string;
  channelOrder: 'BGR' | 'RGB';
  images: number;
  /** LFW images in which the detector found no face (a centred fallback box was used). */
  detectionFailures: string[];
  /** The 300 + 300 standard LFW View-1 (pairsDevTrain) pairs: the headline figures. */
  standard: PairSetFigures;
  /** Standard + derived pairs (402 genuine, 3,300 impostor): enough impostors to resolve FAR 0.1 %. */
  all: PairSetFigures;
  /** Threshold that gives FAR <= FACE_MATCH_TARGET_FAR on `all` (what faceMatch.ts should ship). */
  suggestedThreshold: number;
  shippedThreshold: number;
  targetFar: number;
  genuineScores: number[];
  impostorScores: number[];
  histogram: Histogram;
  /** Platt-scaling fit of P(same | cosine) on all pairs with equal class weight: confidence = 1/(1+exp(-(a*cos+b))). */
  logistic: { a: number; b: number };
  documents: { withPortrait: number; portraitFound: number; missed: string[]; withoutPortrait: number; falseFaces: string[] };
  /** Median per-stage ms of analyseFace(role 'document') over the document photos, decode included. */
  documentTimingsP50: Record<string, number>;
}

interface Pair {
  a: string;
  b: string;
  same: boolean;
  source: string;
}

export function readPairs(dataDir: string): Pair[] {
  return readTsv(join(dataDir, 'faces/pairs.tsv')).map((r) => ({ a: r.file_a, b: r.file_b, same: r.label === 'same', source: r.source }));
}

/** LFW convention: the subject is the face nearest the image centre. */
function centreFace(faces: DetectedFace[], W: number, H: number): DetectedFace | undefined {
  const d = (f: DetectedFace) => Math.hypot((f.box.x1 + f.box.x2) / 2 - W / 2, (f.box.y1 + f.box.y2) / 2 - H / 2);
  return faces.length ? faces.reduce((a, b) => (d(b) < d(a) ? b : a)) : undefined;
}

/** Embeds the subject of one LFW photo with the production stages (detect, 68->5 landmarks, similarity align, embed). */
export async function embedLfwImage(img: DecodedImage): Promise<{ embedding: Float32Array; detected: boolean }> {
  const face = centreFace(await detectFaces(img), img.width, img.height);
  // LFW crops are centred on the face: fall back to the central box if the detector misses.
  const box = face?.box ?? { x1: img.width * 0.3, y1: img.height * 0.28, x2: img.width * 0.7, y2: img.height * 0.72 };
  const l5 = landmarks5From68(await detectLandmarks68(img, box));
  return { embedding: await faceEmbedding(alignFace(img, l5).pixels), detected: !!face };
}

export function auc(gen: number[], imp: number[]): number {
  // Mann-Whitney U via ranks.
  const all = [...gen.map((s) => [s, 1]), ...imp.map((s) => [s, 0])].sort((p, q) => p[0] - q[0]);
  let rankSumGen = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j][0] === all[i][0]) j++;
    const r = (i + j + 1) / 2;
    for (let k = i; k < j; k++) if (all[k][1] === 1) rankSumGen += r;
    i = j;
  }
  return (rankSumGen - (gen.length * (gen.length + 1)) / 2) / (gen.length * imp.length);
}

/** Lowest threshold t with FAR(t) = #(impostor >= t) / N <= far. */
export function thresholdAtFar(imp: number[], far: number): number {
  const d = [...imp].sort((p, q) => q - p);
  const allowed = Math.floor(far * d.length + 1e-9);
  return allowed >= d.length ? -1 : d[allowed] + 1e-6;
}
const rate = (xs: number[], t: number) => xs.filter((x) => x >= t).length / xs.length;

export function pairFigures(gen: number[], imp: number[], shipped: number): PairSetFigures {
  const thresholds = [...new Set([...gen, ...imp])].sort((p, q) => q - p);
  const roc: RocPoint[] = [{ far: 0, tar: 0, threshold: 1 }];
  let eer = 1,
    eerThreshold = 0,
    bestGap = Infinity;
  for (const t of thresholds) {
    const p = { far: rate(imp, t), tar: rate(gen, t), threshold: t };
    roc.push(p);
    const gap = Math.abs(1 - p.tar - p.far);
    if (gap < bestGap) {
      bestGap = gap;
      eer = (1 - p.tar + p.far) / 2;
      eerThreshold = t;
    }
  }
  const tar = rate(gen, shipped),
    far = rate(imp, shipped);
  return {
    genuine: gen.length,
    impostor: imp.length,
    auc: auc(gen, imp),
    eer,
    eerThreshold,
    tarAtFar1: rate(gen, thresholdAtFar(imp, 0.01)),
    tarAtFar01: rate(gen, thresholdAtFar(imp, 0.001)),
    atThreshold: { threshold: shipped, tar, far, accuracy: (tar * gen.length + (1 - far) * imp.length) / (gen.length + imp.length) },
    roc,
  };
}

/** Weighted logistic regression (Newton) of same/different on the cosine, classes weighted equally. */
export function fitLogistic(gen: number[], imp: number[]): { a: number; b: number } {
  const xs = [...gen, ...imp],
    ys = [...gen.map(() => 1), ...imp.map(() => 0)];
  const ws = [...gen.map(() => 0.5 / gen.length), ...imp.map(() => 0.5 / imp.length)];
  let a = 10,
    b = -4;
  for (let it = 0; it < 100; it++) {
    let ga = 0,
      gb = 0,
      haa = 0,
      hab = 0,
      hbb = 0;
    for (let i = 0; i < xs.length; i++) {
      const p = 1 / (1 + Math.exp(-(a * xs[i] + b)));
      const e = (p - ys[i]) * ws[i],
        h = p * (1 - p) * ws[i];
      ga += e * xs[i];
      gb += e;
      haa += h * xs[i] * xs[i];
      hab += h * xs[i];
      hbb += h;
    }
    const det = haa * hbb - hab * hab;
    const da = (hbb * ga - hab * gb) / det,
      db = (haa * gb - hab * ga) / det;
    a -= da;
    b -= db;
    if (Math.abs(da) + Math.abs(db) < 1e-9) break;
  }
  return { a, b };
}

function histogram(gen: number[], imp: number[], from = -0.3, binWidth = 0.05): Histogram {
  const n = Math.round((1 - from) / binWidth);
  const bin = (xs: number[]) => {
    const h = new Array(n).fill(0);
    for (const x of xs) h[Math.min(n - 1, Math.max(0, Math.floor((x - from) / binWidth)))]++;
    return h;
  };
  return { from, binWidth, genuine: bin(gen), impostor: bin(imp) };
}

export async function evaluateFaces(
  dataDir = DEFAULT_DATA_DIR,
  opts: { channelOrder?: 'BGR' | 'RGB'; log?: (m: string) => void } = {},
): Promise<FaceEvalResult> {
  const log = opts.log ?? (() => {});
  const previousOrder = EMBEDDING_CHANNEL_ORDER;
  if (opts.channelOrder) setEmbeddingChannelOrder(opts.channelOrder);
  try {
    const pairs = readPairs(dataDir);
    const files = [...new Set(pairs.flatMap((p) => [p.a, p.b]))];
    const emb = new Map<string, Float32Array>();
    const detectionFailures: string[] = [];
    for (const [i, f] of files.entries()) {
      const img = await decodeImage(readFileSync(join(dataDir, 'faces', f)));
      const r = await embedLfwImage(img);
      if (!r.detected) detectionFailures.push(f);
      emb.set(f, r.embedding);
      if (i % 200 === 0) log(`embedded ${i}/${files.length}`);
    }
    const score = (p: Pair) => cosineSimilarity(emb.get(p.a)!, emb.get(p.b)!);
    const std = pairs.filter((p) => p.source === 'lfw-pairsDevTrain');
    const gStd = std.filter((p) => p.same).map(score),
      iStd = std.filter((p) => !p.same).map(score);
    const gAll = pairs.filter((p) => p.same).map(score),
      iAll = pairs.filter((p) => !p.same).map(score);

    // Document portraits: is a face found where there is one, and none where there is none?
    const docs = readTsv(join(dataDir, 'documents/MANIFEST.tsv'));
    const documents = { withPortrait: 0, portraitFound: 0, missed: [] as string[], withoutPortrait: 0, falseFaces: [] as string[] };
    const timings: Record<string, number[]> = {};
    for (const d of docs) {
      const kind = d.face_portrait;
      if (!['real', 'real-small', 'none'].includes(kind)) continue;
      const t = performance.now();
      const img = await decodeImage(readFileSync(join(dataDir, 'documents', d.file)));
      const decodeMs = performance.now() - t;
      const r = await analyseFace(img, { role: 'document' });
      const tm: FaceTimings = { ...r.timings, decode: decodeMs, total: r.timings.total + decodeMs };
      for (const [k, v] of Object.entries(tm)) (timings[k] ??= []).push(v as number);
      const found = r.outcome === 'ok' || r.outcome === 'face_too_small';
      if (kind === 'none') {
        documents.withoutPortrait++;
        if (r.faces > 0) documents.falseFaces.push(d.file);
      } else {
        documents.withPortrait++;
        if (found) documents.portraitFound++;
        else documents.missed.push(`${d.file} (${r.outcome})`);
      }
    }
    const documentTimingsP50 = mediansByKey(timings);

    return {
      dataDir,
      channelOrder: EMBEDDING_CHANNEL_ORDER,
      images: files.length,
      detectionFailures,
      standard: pairFigures(gStd, iStd, FACE_MATCH_THRESHOLD),
      all: pairFigures(gAll, iAll, FACE_MATCH_THRESHOLD),
      suggestedThreshold: Math.ceil(thresholdAtFar(iAll, FACE_MATCH_TARGET_FAR) * 1000) / 1000,
      shippedThreshold: FACE_MATCH_THRESHOLD,
      targetFar: FACE_MATCH_TARGET_FAR,
      genuineScores: gAll,
      impostorScores: iAll,
      histogram: histogram(gAll, iAll),
      logistic: fitLogistic(gAll, iAll),
      documents,
      documentTimingsP50,
    };
  } finally {
    setEmbeddingChannelOrder(previousOrder);
  }
}

const pct = (x: number, d = 1) => `${(x * 100).toFixed(d)} %`;

export function renderFacesMarkdown(r: FaceEvalResult, opts: { rocImage?: string } = {}): string {
  const row = (name: string, f: PairSetFigures) =>
    `| ${name} | ${f.genuine} / ${f.impostor} | ${f.auc.toFixed(4)} | ${pct(f.eer, 2)} | ${pct(f.tarAtFar1)} | ${f.impostor >= 1000 ? pct(f.tarAtFar01) : 'n/a (too few impostors)'} | ${pct(f.atThreshold.tar)} / ${pct(f.atThreshold.far, 2)} |`;
  const q = (xs: number[], p: number) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.min(s.length - 1, Math.floor(p * s.length))].toFixed(3);
  };
  const lines = [
    '## Face match (LFW dev pairs)',
    '',
    `Pipeline: fr_detect → fr_landmark (68 → 5 points) → least-squares similarity alignment to the ArcFace template (112×112) → fr_feature (${r.channelOrder}) → cosine similarity. ${r.images} images; the detector missed the face in ${r.detectionFailures.length} (a centred fallback box was used).`,
    '',
    `| pair set | genuine / impostor | AUC | EER | TAR @ FAR 1 % | TAR @ FAR 0.1 % | TAR / FAR at threshold ${r.shippedThreshold} |`,
    '| --- | --- | --- | --- | --- | --- | --- |',
    row('standard (pairsDevTrain)', r.standard),
    row('all (standard + derived)', r.all),
    '',
    `Decision threshold: cosine ≥ **${r.shippedThreshold}** (\`FACE_MATCH_THRESHOLD\`), chosen for FAR ≤ ${pct(r.targetFar, 1)} on all ${r.all.impostor} impostor pairs (this run suggests ${r.suggestedThreshold}). Confidence = 1/(1+exp(−(${r.logistic.a.toFixed(2)}·cos ${r.logistic.b >= 0 ? '+' : '−'} ${Math.abs(r.logistic.b).toFixed(2)}))), fitted with equal class weights; at the threshold it is ${matchConfidence(r.shippedThreshold).toFixed(3)}.`,
    '',
    `Score distributions (cosine): genuine min ${q(r.genuineScores, 0)}, p5 ${q(r.genuineScores, 0.05)}, median ${q(r.genuineScores, 0.5)}; impostor median ${q(r.impostorScores, 0.5)}, p99 ${q(r.impostorScores, 0.99)}, p99.9 ${q(r.impostorScores, 0.999)}, max ${q(r.impostorScores, 1)}.`,
    '',
    `Document portraits: found in ${r.documents.portraitFound} of ${r.documents.withPortrait} documents with a real portrait${r.documents.missed.length ? ` (missed: ${r.documents.missed.join(', ')})` : ''}; a face was reported on ${r.documents.falseFaces.length} of ${r.documents.withoutPortrait} documents without one${r.documents.falseFaces.length ? ` (${r.documents.falseFaces.join(', ')})` : ''}.`,
    '',
    `Median ms per stage, document role, decode included: ${Object.entries(r.documentTimingsP50)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    'Caveat: press photos against press photos. Selfie-vs-ID-portrait pairs are harder (print, age, resolution); these figures overstate accuracy in production, and the threshold was chosen on this same dev set.',
  ];
  if (opts.rocImage) lines.push('', `![ROC and score distributions](${opts.rocImage})`);
  return lines.join('\n') + '\n';
}

/** ROC (log FAR axis) and score histograms as an SVG string. */
export function renderFacesRocSvg(r: FaceEvalResult): string {
  const W = 880,
    H = 360,
    m = 50,
    pw = 360,
    ph = 260;
  const x0 = m,
    y0 = m;
  const fx = (far: number) => x0 + ((Math.log10(Math.max(far, 1e-4)) + 4) / 4) * pw;
  // Zoom the TAR axis to where the curve is (0.9..1 when it never drops below 0.9 for FAR >= 1e-4).
  const minTar = Math.min(
    ...r.all.roc.filter((p) => p.far >= 1e-4).map((p) => p.tar),
    ...r.standard.roc.filter((p) => p.far >= 1e-4).map((p) => p.tar),
  );
  const yMin = minTar >= 0.9 ? 0.9 : 0;
  const fy = (tar: number) => y0 + ph - ((Math.max(tar, yMin) - yMin) / (1 - yMin)) * ph;
  const path = (roc: RocPoint[]) =>
    roc
      .filter((p) => p.far > 0)
      .map((p, i) => `${i ? 'L' : 'M'}${fx(p.far).toFixed(1)},${fy(p.tar).toFixed(1)}`)
      .join(' ');
  const grid: string[] = [];
  for (let e = -4; e <= 0; e++)
    grid.push(
      `<line x1="${fx(10 ** e)}" y1="${y0}" x2="${fx(10 ** e)}" y2="${y0 + ph}" stroke="#ddd"/><text x="${fx(10 ** e)}" y="${y0 + ph + 16}" font-size="11" text-anchor="middle">1e${e}</text>`,
    );
  for (let i = 0; i <= 5; i++) {
    const t = yMin + ((1 - yMin) * i) / 5;
    grid.push(
      `<line x1="${x0}" y1="${fy(t)}" x2="${x0 + pw}" y2="${fy(t)}" stroke="#ddd"/><text x="${x0 - 6}" y="${fy(t) + 4}" font-size="11" text-anchor="end">${t.toFixed(yMin ? 2 : 1)}</text>`,
    );
  }
  // histogram panel
  const hx0 = x0 + pw + 80,
    hw = 360;
  const h = r.histogram;
  const n = h.genuine.length;
  const gMax = Math.max(...h.genuine.map((c) => c / r.genuineScores.length), ...h.impostor.map((c) => c / r.impostorScores.length));
  const bars = (counts: number[], total: number, colour: string) =>
    counts
      .map((c, i) => {
        const bh = (c / total / gMax) * ph;
        return `<rect x="${(hx0 + (i / n) * hw).toFixed(1)}" y="${(y0 + ph - bh).toFixed(1)}" width="${(hw / n - 1).toFixed(1)}" height="${bh.toFixed(1)}" fill="${colour}" fill-opacity="0.55"/>`;
      })
      .join('');
  const tx = hx0 + ((r.shippedThreshold - h.from) / (n * h.binWidth)) * hw;
  const ticks = [-0.2, 0, 0.2, 0.4, 0.6, 0.8, 1]
    .map(
      (v) =>
        `<text x="${(hx0 + ((v - h.from) / (n * h.binWidth)) * hw).toFixed(1)}" y="${y0 + ph + 16}" font-size="11" text-anchor="middle">${v}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${x0}" y="24" font-size="14" font-weight="bold">ROC, LFW dev pairs (${r.channelOrder})</text>
${grid.join('\n')}
<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>
<path d="${path(r.all.roc)}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<path d="${path(r.standard.roc)}" fill="none" stroke="#ff7f0e" stroke-width="1.5" stroke-dasharray="4 3"/>
<text x="${x0 + pw / 2}" y="${y0 + ph + 34}" font-size="12" text-anchor="middle">false accept rate (log)</text>
<text x="14" y="${y0 + ph / 2}" font-size="12" transform="rotate(-90 14 ${y0 + ph / 2})" text-anchor="middle">true accept rate</text>
<text x="${x0 + pw - 8}" y="${y0 + ph - 30}" font-size="11" text-anchor="end" fill="#1f77b4">all pairs (AUC ${r.all.auc.toFixed(4)})</text>
<text x="${x0 + pw - 8}" y="${y0 + ph - 14}" font-size="11" text-anchor="end" fill="#ff7f0e">standard 300/300 (AUC ${r.standard.auc.toFixed(4)})</text>
<text x="${hx0}" y="24" font-size="14" font-weight="bold">Cosine similarity distributions</text>
<rect x="${hx0}" y="${y0}" width="${hw}" height="${ph}" fill="none" stroke="#333"/>
${bars(r.histogram.impostor, r.impostorScores.length, '#d62728')}
${bars(r.histogram.genuine, r.genuineScores.length, '#2ca02c')}
<line x1="${tx.toFixed(1)}" y1="${y0}" x2="${tx.toFixed(1)}" y2="${y0 + ph}" stroke="#000" stroke-dasharray="5 3"/>
<text x="${(tx + 4).toFixed(1)}" y="${y0 + 14}" font-size="11">threshold ${r.shippedThreshold}</text>
${ticks}
<text x="${hx0 + 8}" y="${y0 + 30}" font-size="11" fill="#d62728">impostor (${r.impostorScores.length})</text>
<text x="${hx0 + 8}" y="${y0 + 46}" font-size="11" fill="#2ca02c">genuine (${r.genuineScores.length})</text>
</svg>`;
}

export async function renderFacesRocPng(r: FaceEvalResult): Promise<Buffer> {
  return sharp(Buffer.from(renderFacesRocSvg(r)))
    .png()
    .toBuffer();
}

function printFigures(r: FaceEvalResult): void {
  const f = (p: PairSetFigures) => ({
    pairs: `${p.genuine}/${p.impostor}`,
    AUC: +p.auc.toFixed(4),
    EER: +p.eer.toFixed(4),
    eerThreshold: +p.eerThreshold.toFixed(3),
    'TAR@FAR1%': +p.tarAtFar1.toFixed(4),
    'TAR@FAR0.1%': +p.tarAtFar01.toFixed(4),
    [`TAR@${p.atThreshold.threshold}`]: +p.atThreshold.tar.toFixed(4),
    [`FAR@${p.atThreshold.threshold}`]: +p.atThreshold.far.toFixed(4),
    accuracy: +p.atThreshold.accuracy.toFixed(4),
  });
  console.log(
    JSON.stringify(
      {
        channelOrder: r.channelOrder,
        images: r.images,
        detectionFailures: r.detectionFailures.length,
        standard: f(r.standard),
        all: f(r.all),
        suggestedThresholdForTargetFar: r.suggestedThreshold,
        shippedThreshold: r.shippedThreshold,
        targetFar: r.targetFar,
        logistic: { a: +r.logistic.a.toFixed(3), b: +r.logistic.b.toFixed(3) },
        documents: r.documents,
        documentTimingsP50: r.documentTimingsP50,
      },
      null,
      2,
    ),
  );
}

if (isMainModule(import.meta.url)) {
  const { positional, values, flags } = parseCliArgs(process.argv.slice(2), ['png']);
  const order = flags.has('rgb') ? 'RGB' : flags.has('bgr') ? 'BGR' : undefined;
  const dataDir = positional[0] ?? DEFAULT_DATA_DIR;
  const r = await evaluateFaces(dataDir, { channelOrder: order, log: (m) => console.error(m) });
  printFigures(r);
  if (values.png) writeFileSync(values.png, await renderFacesRocPng(r));
}
