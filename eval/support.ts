// Helpers shared by the evaluation scripts: command-line arguments, the data set's location and
// TSV manifests, medians.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The development data sets (../shared/data next to the project). */
export const DEFAULT_DATA_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/data');

export interface CliArgs {
  /** The arguments that are neither an option nor an option's value, in order. */
  positional: string[];
  /** The values of the options that take one (`--limit 5`); absent when the option is not given. */
  values: Partial<Record<string, string>>;
  /** The options given without a value (`--rgb`). */
  flags: Set<string>;
}

/**
 * Splits a script's arguments (process.argv.slice(2)): `--name value` for the options named in
 * `valued`, `--name` alone for any other option, everything else positional.
 */
export function parseCliArgs(args: readonly string[], valued: readonly string[] = []): CliArgs {
  const out: CliArgs = { positional: [], values: {}, flags: new Set() };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) out.positional.push(a);
    else if (valued.includes(a.slice(2))) out.values[a.slice(2)] = args[++i];
    else out.flags.add(a.slice(2));
  }
  return out;
}

/** Whether the module at `moduleUrl` (its import.meta.url) is the script node was started with. */
export function isMainModule(moduleUrl: string): boolean {
  const entry = process.argv[1];
  return !!entry && moduleUrl === pathToFileURL(resolve(entry)).href;
}

/** Rows of a tab-separated file with a header line, as column -> value (blank lines skipped). */
export function readTsv(path: string): Record<string, string>[] {
  const [head, ...rows] = readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const cols = head.split('\t');
  return rows.map((r) => Object.fromEntries(r.split('\t').map((v, i) => [cols[i], v])));
}

/** The upper median (the element at index n/2 after sorting); NaN when empty. */
export const median = (xs: number[]) => {
  const s = [...xs].sort((p, q) => p - q);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

/** Median of each key's values, rounded to 0.1 (per-stage timings). */
export function mediansByKey(values: Record<string, number[]>): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Math.round(median(v) * 10) / 10]));
}
