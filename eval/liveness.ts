// Passive-liveness evaluation on ../shared/data/liveness (5 live, 11 attacks). Run alone:
//   npx tsx eval/liveness.ts [dataDir] [--png out.png]
// With 16 images one error moves APCER by 9 points and BPCER by 20: these are smoke-test figures
// for the sign and order of the model output, not an operating point.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { decodeImage } from '../src/verification/imageDecode';
import { detectFaces } from '../src/verification/face/detection';
import { LIVENESS_THRESHOLD, livenessScore } from '../src/verification/face/liveness';
import { analyseFace, MAX_SIDE } from '../src/verification/face/pipeline';
import { DEFAULT_DATA_DIR, isMainModule, mediansByKey, parseCliArgs, readTsv } from './support';

export { DEFAULT_DATA_DIR };

export interface LivenessSample {
  file: string;
  label: 'live' | 'spoof';
  attackType: string;
  /** Live probability of the largest face; null if no face was detected. */
  score: number | null;
  /** What analyseFace(role 'selfie') returned for the image. */
  outcome: string;
}

export interface LivenessEvalResult {
  dataDir: string;
  threshold: number;
  samples: LivenessSample[];
  live: number;
  attacks: number;
  /** Attacks accepted as live / attacks (faces not detected count as rejected). */
  apcer: number;
  /** Live samples rejected / live samples. */
  bpcer: number;
  /** Same, excluding the GAN "deepfake" sample, which is not a presentation attack. */
  apcerPresentationOnly: number;
  perAttackType: Record<string, { n: number; accepted: number }>;
  auc: number;
  /** Median per-stage ms of analyseFace(role 'selfie') over these images, decode included. */
  selfieTimingsP50: Record<string, number>;
}

export async function evaluateLiveness(dataDir = DEFAULT_DATA_DIR, opts: { threshold?: number } = {}): Promise<LivenessEvalResult> {
  const threshold = opts.threshold ?? LIVENESS_THRESHOLD;
  const samples: LivenessSample[] = [];
  const timings: Record<string, number[]> = {};
  for (const r of readTsv(join(dataDir, 'liveness/MANIFEST.tsv'))) {
    const t = performance.now();
    const img = await decodeImage(readFileSync(join(dataDir, 'liveness', r.file)), { maxSide: MAX_SIDE.selfie });
    const decodeMs = performance.now() - t;
    const analysed = await analyseFace(img, { role: 'selfie' });
    for (const [k, v] of Object.entries({ ...analysed.timings, decode: decodeMs, total: analysed.timings.total + decodeMs }))
      (timings[k] ??= []).push(v);
    // Score the largest face even when the selfie rules reject the image, so every sample has a score.
    const faces = await detectFaces(img, { tiles: true });
    const largest = faces.reduce<(typeof faces)[number] | undefined>(
      (a, b) => (!a || b.box.y2 - b.box.y1 > a.box.y2 - a.box.y1 ? b : a),
      undefined,
    );
    const score = largest ? await livenessScore(img, largest.box) : null;
    samples.push({ file: r.file, label: r.label as 'live' | 'spoof', attackType: r.attack_type, score, outcome: analysed.outcome });
  }
  const accepted = (s: LivenessSample) => s.score !== null && s.score >= threshold;
  const live = samples.filter((s) => s.label === 'live');
  const attacks = samples.filter((s) => s.label === 'spoof');
  const presentation = attacks.filter((s) => !/deepfake/i.test(s.attackType));
  const perAttackType: LivenessEvalResult['perAttackType'] = {};
  for (const s of attacks) {
    const e = (perAttackType[s.attackType] ??= { n: 0, accepted: 0 });
    e.n++;
    if (accepted(s)) e.accepted++;
  }
  const ls = live.map((s) => s.score ?? 0),
    as = attacks.map((s) => s.score ?? 0);
  let wins = 0;
  for (const l of ls) for (const a of as) wins += l > a ? 1 : l === a ? 0.5 : 0;
  return {
    dataDir,
    threshold,
    samples,
    live: live.length,
    attacks: attacks.length,
    apcer: attacks.filter(accepted).length / attacks.length,
    bpcer: live.filter((s) => !accepted(s)).length / live.length,
    apcerPresentationOnly: presentation.filter(accepted).length / presentation.length,
    perAttackType,
    auc: wins / (ls.length * as.length),
    selfieTimingsP50: mediansByKey(timings),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(0)} %`;

export function renderLivenessMarkdown(r: LivenessEvalResult, opts: { plotImage?: string } = {}): string {
  const lines = [
    '## Passive liveness (presentation-attack detection)',
    '',
    `fr_liveness.onnx (MiniFASNet family) on the 2.7× face crop, BGR, softmax; live if P(live) ≥ ${r.threshold}. Dev set: ${r.live} live, ${r.attacks} attack images.`,
    '',
    `| APCER (all attacks) | APCER (presentation attacks, no deepfake) | BPCER | AUC |`,
    '| --- | --- | --- | --- |',
    `| ${pct(r.apcer)} (${Math.round(r.apcer * r.attacks)}/${r.attacks}) | ${pct(r.apcerPresentationOnly)} | ${pct(r.bpcer)} (${Math.round(r.bpcer * r.live)}/${r.live}) | ${r.auc.toFixed(3)} |`,
    '',
    '| file | label | attack type | P(live) | selfie outcome |',
    '| --- | --- | --- | --- | --- |',
    ...r.samples.map(
      (s) => `| ${s.file} | ${s.label} | ${s.attackType} | ${s.score === null ? 'no face' : s.score.toFixed(3)} | ${s.outcome} |`,
    ),
    '',
    `Median ms per stage, selfie role, decode included: ${Object.entries(r.selfieTimingsP50)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    "Caveat: 16 images. One error moves APCER by 9 and BPCER by 20 points; use these as a smoke test of the model's input format (BGR, crop scale), not as measured error rates. Treat a low liveness score as a reason for manual review, not an automatic rejection.",
  ];
  if (opts.plotImage) lines.push('', `![liveness scores](${opts.plotImage})`);
  return lines.join('\n') + '\n';
}

/** Strip plot of P(live) per sample, live vs attack, with the threshold. */
export function renderLivenessSvg(r: LivenessEvalResult): string {
  const W = 640,
    H = 220,
    x0 = 60,
    pw = 540,
    rowsY = { live: 70, spoof: 140 } as const;
  const fx = (s: number) => x0 + s * pw;
  const dots = r.samples
    .map((s, i) => {
      const y = rowsY[s.label] + ((i % 5) - 2) * 6;
      return s.score === null
        ? ''
        : `<circle cx="${fx(s.score).toFixed(1)}" cy="${y}" r="5" fill="${s.label === 'live' ? '#2ca02c' : '#d62728'}" fill-opacity="0.7"><title>${s.file} ${s.score.toFixed(3)}</title></circle>`;
    })
    .join('');
  const ticks = [0, 0.2, 0.4, 0.6, 0.8, 1]
    .map(
      (v) =>
        `<line x1="${fx(v)}" y1="40" x2="${fx(v)}" y2="170" stroke="#ddd"/><text x="${fx(v)}" y="188" font-size="11" text-anchor="middle">${v}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="${x0}" y="24" font-size="14" font-weight="bold">Liveness P(live) per sample</text>
${ticks}
<text x="${x0 - 8}" y="${rowsY.live + 4}" font-size="12" text-anchor="end">live</text>
<text x="${x0 - 8}" y="${rowsY.spoof + 4}" font-size="12" text-anchor="end">attack</text>
<line x1="${fx(r.threshold)}" y1="40" x2="${fx(r.threshold)}" y2="170" stroke="#000" stroke-dasharray="5 3"/>
<text x="${fx(r.threshold) + 4}" y="52" font-size="11">threshold ${r.threshold}</text>
${dots}
<text x="${x0 + pw / 2}" y="208" font-size="12" text-anchor="middle">P(live)</text>
</svg>`;
}

export async function renderLivenessPng(r: LivenessEvalResult): Promise<Buffer> {
  return sharp(Buffer.from(renderLivenessSvg(r)))
    .png()
    .toBuffer();
}

if (isMainModule(import.meta.url)) {
  const { positional, values } = parseCliArgs(process.argv.slice(2), ['png']);
  const dataDir = positional[0] ?? DEFAULT_DATA_DIR;
  const r = await evaluateLiveness(dataDir);
  console.log(
    JSON.stringify(
      {
        threshold: r.threshold,
        live: r.live,
        attacks: r.attacks,
        APCER: +r.apcer.toFixed(3),
        APCER_presentationOnly: +r.apcerPresentationOnly.toFixed(3),
        BPCER: +r.bpcer.toFixed(3),
        AUC: +r.auc.toFixed(3),
        perAttackType: r.perAttackType,
        selfieTimingsP50: r.selfieTimingsP50,
        samples: r.samples.map(
          (s) =>
            `${s.label.padEnd(5)} ${(s.score === null ? 'none ' : s.score.toFixed(3)).padEnd(6)} ${s.outcome.padEnd(15)} ${s.file} [${s.attackType}]`,
        ),
      },
      null,
      2,
    ),
  );
  if (values.png) writeFileSync(values.png, await renderLivenessPng(r));
}
