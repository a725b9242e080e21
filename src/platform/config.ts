// Every environment variable the engine reads is parsed here, and only here; the README lists
// them. Entry points call loadConfig(); modules that run outside a request (the verification
// models, the logger) read their section through the memoised accessors below.
import { resolve } from 'node:path';
import { z } from 'zod';
import { loadKeyRing, type KeyRing } from './crypto/keyRing';

const duration = z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration such as 500ms, 30s, 15m, 2h or 30d');
const flag = (fallback: 'true' | 'false') =>
  z
    .enum(['true', 'false', '1', '0'])
    .default(fallback)
    .transform((v) => v === 'true' || v === '1');
/** An optional variable: empty counts as unset (docker compose passes `${VAR:-}` as ""). */
const unsetIfEmpty = <S extends z.ZodType>(schema: S) => z.preprocess((v) => (v === '' ? undefined : v), schema);
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
    // Reaching a cluster the engine did not start (src/platform/temporal/connectionOptions.ts): files
    // in PEM; a client certificate and its key go together; an API key (Temporal Cloud) implies TLS.
    TEMPORAL_TLS: unsetIfEmpty(
      z
        .enum(['true', 'false'])
        .transform((v) => v === 'true')
        .optional(),
    ),
    TEMPORAL_TLS_CERT: unsetIfEmpty(z.string().optional()),
    TEMPORAL_TLS_KEY: unsetIfEmpty(z.string().optional()),
    TEMPORAL_TLS_CA: unsetIfEmpty(z.string().optional()),
    TEMPORAL_TLS_SERVER_NAME: unsetIfEmpty(z.string().optional()),
    TEMPORAL_API_KEY: unsetIfEmpty(z.string().optional()),
    // The Web UI's path to the codec endpoint, /codec/ui/<secret> (it cannot send an API key); `npm start` makes one per run for its UI.
    TEMPORAL_UI_CODEC_SECRET: unsetIfEmpty(
      z
        .string()
        .regex(/^[A-Za-z0-9_-]{32,128}$/, 'TEMPORAL_UI_CODEC_SECRET must be 32-128 of A-Z a-z 0-9 _ - (say, openssl rand -hex 32)')
        .optional(),
    ),
    // Web UI origins allowed to call the codec endpoint (/codec/decode); default: the dev UI on TEMPORAL_UI_PORT.
    TEMPORAL_CODEC_CORS_ORIGINS: unsetIfEmpty(
      z
        .string()
        .optional()
        .transform((v) =>
          v
            ?.split(',')
            .map((o) => o.trim())
            .filter(Boolean),
        ),
    ),
    BOOTSTRAP_API_TOKEN: unsetIfEmpty(z.string().min(16, 'BOOTSTRAP_API_TOKEN must be at least 16 characters').optional()),
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
    // Bounded work per org (src/platform/http/rateLimit.ts, src/verification/job/routes.ts): over a bound, a 429 with Retry-After.
    RATE_LIMIT_REQUESTS_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    VERIFICATION_JOBS_PER_MINUTE: z.coerce.number().int().min(1).default(60),
    VERIFICATION_QUEUE_PER_ORG: z.coerce.number().int().min(1).default(20),
    VERIFICATION_QUEUE_MAX: z.coerce.number().int().min(1).default(200),
    /** Redeliveries on request (POST /events/:id, each retrying up to 24 h) running at once per org. */
    REDELIVERIES_PER_ORG: z.coerce.number().int().min(1).default(50),
    NODE_ENV: z.string().optional(),
    // The key ring (src/platform/crypto/keyRing.ts): generated under DATA_DIR when unset, outside production.
    DATA_ENCRYPTION_KEYS: unsetIfEmpty(z.string().optional()),
    IDENTITY_INDEX_KEY: unsetIfEmpty(z.string().optional()),
  })
  .extend(VerificationEnvSchema.shape);

export type Config = z.infer<typeof EnvSchema> & {
  dataDir: string;
  keyRing: KeyRing;
  /** Where the key ring came from; `generated`: a development key was written under DATA_DIR just now. */
  keyRingSource: { source: 'environment' | 'data-dir'; generated: boolean };
};
export type VerificationSettings = z.infer<typeof VerificationEnvSchema>;

function parse<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid environment:\n${lines}`);
  }
  return parsed.data;
}

function temporalTlsProblem(p: z.infer<typeof EnvSchema>): string | null {
  if (Boolean(p.TEMPORAL_TLS_CERT) !== Boolean(p.TEMPORAL_TLS_KEY))
    return 'TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together (the client certificate and its private key)';
  if (p.TEMPORAL_TLS === false && (p.TEMPORAL_TLS_CERT || p.TEMPORAL_TLS_CA || p.TEMPORAL_TLS_SERVER_NAME || p.TEMPORAL_API_KEY))
    return 'TEMPORAL_TLS=false contradicts TEMPORAL_TLS_CERT / TEMPORAL_TLS_CA / TEMPORAL_TLS_SERVER_NAME / TEMPORAL_API_KEY';
  return null;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = parse(EnvSchema, env);
  const tlsProblem = temporalTlsProblem(parsed);
  if (tlsProblem) throw new Error(`invalid environment:\n  ${tlsProblem}`);
  const dataDir = resolve(parsed.DATA_DIR);
  let keys: ReturnType<typeof loadKeyRing>;
  try {
    keys = loadKeyRing(parsed, dataDir);
  } catch (err) {
    throw new Error(`invalid environment:\n  ${(err as Error).message}`, { cause: err });
  }
  const { ring, source, generated } = keys;
  return { ...parsed, dataDir, keyRing: ring, keyRingSource: { source, generated } };
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
