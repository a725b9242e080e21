// Every environment variable the engine reads is parsed here, and only here; the README lists
// them. Entry points call loadConfig(); modules that run outside a request (the verification
// models, the logger) read their section through the memoised accessors below.
import { resolve } from 'node:path';
import { z } from 'zod';

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 500ms, 30s, 15m, 2h or 30d');
const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback)
    .transform((v) => v === 'true' || v === '1');
const threads = (fallback: number) => z.coerce.number().int().min(1).max(256).default(fallback);

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the verification checks run in a worker process. */
const VerificationEnvSchema = z.object({
  /** Where the checksummed model files live (default: the project's models/). */
  MODELS_DIR: z.string().min(1).optional(),
  ORT_THREADS: threads(1),
  OCR_THREADS: threads(2),
  /** onnxruntime's growing memory arena for the OCR sessions (off: steadier RSS). */
  OCR_MEM_ARENA: flag('false'),
  VERIFICATION_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  /** Load the models when the worker starts; unset = yes, except under vitest. */
  VERIFICATION_WARM_UP: z
    .enum(['true', 'false', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1')),
  VITEST: z.string().optional(),
});

const EnvSchema = z
  .object({
    PORT: z.coerce.number().int().min(0).max(65535).default(8080),
    HOST: z.string().default('127.0.0.1'),
    DATA_DIR: z.string().default('.data'),
    DATABASE_URL: z.string().url().optional(),
    TEMPORAL_ADDRESS: z.string().optional(),
    TEMPORAL_NAMESPACE: z.string().default('default'),
    TEMPORAL_TASK_QUEUE: z.string().default('onboarding'),
    TEMPORAL_DEV_PORT: z.coerce.number().int().default(7233),
    TEMPORAL_UI_PORT: z.coerce.number().int().default(8233),
    // Empty counts as unset (docker compose passes `${BOOTSTRAP_API_TOKEN:-}` as "").
    BOOTSTRAP_API_TOKEN: z.preprocess(
      (v) => (v === '' ? undefined : v),
      z.string().min(16, 'BOOTSTRAP_API_TOKEN must be at least 16 characters').optional(),
    ),
    AWAITING_DOCUMENTS_DEADLINE: duration.default('30d'),
    AWAITING_DOCUMENTS_REMINDER: duration.default('3d'),
    MAX_UPLOAD_BYTES: z.coerce
      .number()
      .int()
      .positive()
      .default(10 * 1024 * 1024),
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
    LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  })
  .extend(VerificationEnvSchema.shape);

export type Config = z.infer<typeof EnvSchema> & { dataDir: string };
export type VerificationSettings = z.infer<typeof VerificationEnvSchema>;

function parse<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid environment:\n${lines}`);
  }
  return parsed.data;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = parse(EnvSchema, env);
  return { ...parsed, dataDir: resolve(parsed.DATA_DIR) };
}

let verification: VerificationSettings | undefined;
/** The verification section of this process's environment, parsed once. */
export function verificationSettings(): VerificationSettings {
  verification ??= parse(VerificationEnvSchema, process.env);
  return verification;
}

/** This process's LOG_LEVEL (an unknown value falls back to info rather than stop the logger). */
export function logLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const parsed = z.enum(LOG_LEVELS).safeParse(env.LOG_LEVEL);
  return parsed.success ? parsed.data : 'info';
}

/** Milliseconds of a duration string like `30d`. */
export function durationMs(d: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(d);
  if (!m) throw new Error(`not a duration: ${d}`);
  const unit = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 'ms'];
  return Number(m[1]) * unit;
}
