// The evaluation report: face match (eval/faces.ts), liveness (eval/liveness.ts), documents
// (eval/documents.ts) and whole verification jobs (here), written to eval/REPORT.md with the face
// ROC in eval/roc.png (and the liveness strip plot in eval/liveness.png).
//   npm run eval [-- --skip faces,liveness,documents,jobs] [--jobs 20]
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runVerificationJob, warmUpVerificationModels } from '../src/verification/job/checks';
import { FACE_MATCH_THRESHOLD } from '../src/verification/face/match';
import type { DecisionValue, VerificationResult } from '../src/verification/job/result';
import { dataFile, DATA_DIR, syntheticIdCard } from '../test/support/verificationFixtures';
import { parseCliArgs } from './support';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values } = parseCliArgs(process.argv.slice(2), ['skip', 'jobs']);
const skip = new Set((values.skip ?? '').split(',').filter(Boolean));
const JOBS = values.jobs === undefined ? 20 : Number(values.jobs);
const log = (m: string) => console.error(`[eval] ${m}`);

const sections: string[] = [];
const missing: string[] = [];

async function section(name: string, fn: () => Promise<string>) {
  if (skip.has(name)) {
    sections.push(`## ${name}\n\nSkipped (--skip).\n`);
    return;
  }
  const t = performance.now();
  log(`${name}...`);
  try {
    sections.push(await fn());
    log(`${name} done in ${((performance.now() - t) / 1000).toFixed(0)} s`);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' || /Cannot find module/.test(e.message)) missing.push(name);
    sections.push(`## ${name}\n\nNot evaluated: ${e.message.split('\n')[0]}\n`);
    log(`${name} FAILED: ${e.message}`);
  }
}

await section('faces', async () => {
  const m = await import('./faces');
  const r = await m.evaluateFaces(undefined, { log });
  writeFileSync(join(HERE, 'roc.png'), await m.renderFacesRocPng(r));
  return m.renderFacesMarkdown(r, { rocImage: 'roc.png' });
});

await section('liveness', async () => {
  const m = await import('./liveness');
  const r = await m.evaluateLiveness();
  writeFileSync(join(HERE, 'liveness.png'), await m.renderLivenessPng(r));
  return m.renderLivenessMarkdown(r, { plotImage: 'liveness.png' });
});

await section('documents', async () => {
  const m = await import('./documents');
  const r = await m.evaluateDocuments();
  return m.documentsMarkdown(r);
});

// ---- whole jobs: what a partner sees (decision + reason codes), on LFW pairs with a synthetic ID card
await section('jobs', async () => {
  await warmUpVerificationModels();
  const rows = readFileSync(resolve(DATA_DIR, 'faces/pairs.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));
  const pick = (label: string) => rows.filter((r) => r[2] === label && r[3] === 'lfw-pairsDevTrain').slice(0, JOBS);
  type Tally = {
    n: number;
    decisions: Record<DecisionValue, number>;
    codes: Record<string, number>;
    faceMatchPassed: number;
    ms: number[];
  };
  const tally = (): Tally => ({ n: 0, decisions: { accept: 0, review: 0, reject: 0, resubmit: 0 }, codes: {}, faceMatchPassed: 0, ms: [] });
  const add = (t: Tally, r: VerificationResult, ms: number) => {
    t.n++;
    t.decisions[r.decision.value]++;
    for (const c of r.decision.reasonCodes) t.codes[c] = (t.codes[c] ?? 0) + 1;
    if (r.checks.find((c) => c.name === 'face_match')?.status === 'passed') t.faceMatchPassed++;
    t.ms.push(ms);
  };
  const groups: Record<string, Tally> = {
    'genuine (same person)': tally(),
    'impostor (different people)': tally(),
    'print / screen attacks as selfie': tally(),
    'live captures as selfie': tally(),
  };
  const run = async (group: string, selfie: Buffer, idFront: Buffer) => {
    const out = await runVerificationJob({ selfie, idFront });
    add(groups[group], out.result, out.timings.total);
  };
  for (const [a, b] of pick('same'))
    await run('genuine (same person)', dataFile(`faces/${a}`), await syntheticIdCard(dataFile(`faces/${b}`)));
  for (const [a, b] of pick('different'))
    await run('impostor (different people)', dataFile(`faces/${a}`), await syntheticIdCard(dataFile(`faces/${b}`)));
  const manifest = readFileSync(resolve(DATA_DIR, 'liveness/MANIFEST.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));
  for (const [file, label, , , , , attack] of manifest) {
    if (label === 'spoof' && !/^print|replay/.test(attack)) continue; // physical print / screen attacks only
    const img = dataFile(`liveness/${file}`);
    // The selfie against a card made of the same photo: only liveness can catch it.
    await run(label === 'spoof' ? 'print / screen attacks as selfie' : 'live captures as selfie', img, await syntheticIdCard(img));
  }
  const p50 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? NaN;
  const lines = [
    '## Whole verification jobs',
    '',
    `runVerificationJob end to end (decode → quality → faces → match → liveness → OCR/MRZ → decision). The ID is a synthetic card (the other photo composited on a plain canvas), so every job also fails the document-type check (\`document_unverified_other\` → review at best): read the face columns. Face-match threshold: cosine ≥ ${FACE_MATCH_THRESHOLD}.`,
    '',
    '| selfie vs ID | jobs | face_match passed | accept | review | reject | resubmit | most frequent reason codes | job ms p50 |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...Object.entries(groups).map(([g, t]) => {
      const top = Object.entries(t.codes)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([c, n]) => `${c} (${n})`)
        .join(', ');
      return `| ${g} | ${t.n} | ${t.faceMatchPassed} | ${t.decisions.accept} | ${t.decisions.review} | ${t.decisions.reject} | ${t.decisions.resubmit} | ${top} | ${p50(t.ms).toFixed(0)} |`;
    }),
    '',
    'Attacks on the same photo as the "ID" pass the face match by construction; the row shows how many the liveness check sends to review (`selfie_manipulated`). Live captures failing liveness are false alarms (review, never reject).',
  ];
  return lines.join('\n') + '\n';
});

const header = [
  '# Evaluation report',
  '',
  `Generated by \`npm run eval\` (eval/run.ts) on ${new Date().toISOString().slice(0, 10)}; ${cpus().length} CPU(s), load average ${loadavg()[0].toFixed(1)} at the end of the run (other processes inflate the timings).`,
  `Data: \`../shared/data\` (development sets; see their READMEs for provenance and caveats).`,
  missing.length ? `\n**Missing evaluation modules:** ${missing.join(', ')}.` : '',
  '',
].join('\n');
writeFileSync(join(HERE, 'REPORT.md'), header + '\n' + sections.join('\n'));
log(`wrote ${join(HERE, 'REPORT.md')} and ${join(HERE, 'roc.png')}`);
