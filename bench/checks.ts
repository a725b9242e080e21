// Benchmark of one verification job's checks, in-process (no API, no Temporal, no database):
// runVerificationJob on real selfie / document pairs from ../shared/data.
//   npm run bench:checks [-- --runs 5 --jobs 30 --warmup 3]
// Prints per-stage latency p50/p95, the face path (both images, decode included), the whole job,
// jobs/s at worker-like concurrency (2 and 4 jobs at once) and the peak RSS.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { verificationSettings } from '../src/platform/config';
import { runVerificationJob, warmUpVerificationModels, type StageTimings, type VerificationJobInput } from '../src/verification/job/checks';
import { percentile as pct } from './support/stats';

const DATA = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/data');
const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const RUNS = arg('runs', 5),
  JOBS = arg('jobs', 30),
  WARMUP = arg('warmup', 3);
const TARGETS = { facePathP50: 80, jobP50: 400, rssMb: 600 };

// ---- inputs: LFW photos as selfies, documents with a real portrait as ID photos
function tsv(path: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  return rows.map((r) => Object.fromEntries(head.map((h, i) => [h, r[i] ?? ''])));
}
const selfies = tsv(resolve(DATA, 'faces/pairs.tsv'))
  .filter((p) => p.label === 'same' && p.source === 'lfw-pairsDevTrain')
  .map((p) => resolve(DATA, 'faces', p.file_a));
const documents = tsv(resolve(DATA, 'documents/MANIFEST.tsv'))
  .filter((d) => d.face_portrait === 'real' && ['passport', 'driver_license', 'national_id', 'id_card'].includes(d.doc_type))
  .map((d) => resolve(DATA, 'documents', d.file));
const jobs: VerificationJobInput[] = Array.from({ length: JOBS }, (_, i) => ({
  selfie: readFileSync(selfies[(i * 7) % selfies.length]),
  idFront: readFileSync(documents[i % documents.length]),
}));

// ---- peak RSS, sampled
let peakRss = process.memoryUsage().rss;
const sample = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};
const sampler = setInterval(sample, 20);

const fmt = (x: number) => x.toFixed(1).padStart(8);

async function runAll(concurrency: number, list: VerificationJobInput[], onTimings?: (t: StageTimings) => void): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < list.length) {
        const job = list[next++];
        const out = await runVerificationJob(job);
        onTimings?.(out.timings);
        sample();
      }
    }),
  );
  return performance.now() - t0;
}

console.log(`load average ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs at start (other processes inflate the timings)`);
console.log(
  `verification job benchmark: ${JOBS} jobs x ${RUNS} runs (after ${WARMUP} warm-up jobs); ${selfies.length} LFW selfies, ${documents.length} documents with a portrait`,
);
const tLoad = performance.now();
await warmUpVerificationModels();
console.log(`model load: ${(performance.now() - tLoad).toFixed(0)} ms`);
await runAll(1, jobs.slice(0, WARMUP));

const stages: Record<string, number[]> = {
  decode: [],
  detect: [],
  landmarks: [],
  align: [],
  embed: [],
  liveness: [],
  quality: [],
  ocr: [],
  document: [],
  facePath: [],
  total: [],
};
for (let r = 0; r < RUNS; r++) {
  await runAll(1, jobs, (t) => {
    for (const k of Object.keys(stages)) stages[k].push(t[k as keyof StageTimings]);
  });
}

sample();
const peakSequentialMb = peakRss / 1048576;
console.log('\nper-job latency, sequential (ms)        p50       p95');
const label: Record<string, string> = {
  decode: 'decode (selfie + ID)',
  detect: 'face detect (both)',
  landmarks: 'landmarks (both)',
  align: 'align (both)',
  embed: 'embed (both)',
  liveness: 'liveness',
  quality: 'quality (both)',
  ocr: 'OCR (incl. MRZ re-read)',
  document: 'document analysis',
  facePath: 'face path (both, decode incl.)',
  total: 'whole job',
};
for (const [k, xs] of Object.entries(stages)) console.log(`  ${label[k].padEnd(34)}${fmt(pct(xs, 50))}  ${fmt(pct(xs, 95))}`);

console.log('\nthroughput');
const seqMs = stages.total.reduce((a, b) => a + b, 0) / RUNS;
console.log(`  concurrency 1: ${(JOBS / (seqMs / 1000)).toFixed(2)} jobs/s`);
const peakAt: Record<number, number> = {};
for (const c of [2, 4]) {
  const ms = await runAll(c, jobs);
  sample();
  peakAt[c] = peakRss / 1048576;
  console.log(`  concurrency ${c}: ${(JOBS / (ms / 1000)).toFixed(2)} jobs/s (${JOBS} jobs in ${(ms / 1000).toFixed(1)} s)`);
}
clearInterval(sampler);
// The worker runs VERIFICATION_CONCURRENCY (default 2) jobs at once: its RSS is the peak up to that.
const workerConcurrency = verificationSettings().VERIFICATION_CONCURRENCY;
const rssMb = peakAt[workerConcurrency] ?? peakRss / 1048576;
console.log(
  `\npeak RSS: ${peakSequentialMb.toFixed(0)} MB sequential, ${peakAt[2].toFixed(0)} MB up to 2 jobs at once, ${peakAt[4].toFixed(0)} MB up to 4 (worker runs ${workerConcurrency})`,
);

const facePathP50 = pct(stages.facePath, 50),
  jobP50 = pct(stages.total, 50);
console.log('\ntargets');
console.log(
  `  face path p50 ≤ ${TARGETS.facePathP50} ms: ${facePathP50.toFixed(1)} ms ${facePathP50 <= TARGETS.facePathP50 ? 'OK' : 'MISSED'}`,
);
console.log(`  whole job p50 ≤ ${TARGETS.jobP50} ms: ${jobP50.toFixed(1)} ms ${jobP50 <= TARGETS.jobP50 ? 'OK' : 'MISSED'}`);
console.log(`  RSS ≤ ${TARGETS.rssMb} MB: ${rssMb.toFixed(0)} MB ${rssMb <= TARGETS.rssMb ? 'OK' : 'MISSED'}`);
