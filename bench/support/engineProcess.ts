// The all-in-one engine (src/main.ts) as a child process of the benchmark: its own temp
// DATA_DIR, free loopback ports, a bootstrap API token, and DATABASE_URL (a fresh database on
// that server) when the caller has one. It runs in its own process group so that stop()
// also ends the Temporal dev server it starts, even if the engine itself hangs.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../../src/platform/temporal/devServer';
import { embeddedUrlFile } from '../../src/platform/database/open';
import { listeningPorts, processTree } from './proc';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export interface EngineProcess {
  pid: number;
  baseUrl: string;
  token: string;
  temporalAddress: string;
  /** URL the benchmark uses to read the engine's database (stats, seeding). */
  databaseUrl: string;
  database: 'embedded PGlite' | 'PostgreSQL (DATABASE_URL)';
  /** the fresh database created on DATABASE_URL's server (its backends' CPU is counted), or null */
  databaseName: string | null;
  dataDir: string;
  logFile: string;
  /** Temporal dev server pid (the engine's child), when found. */
  temporalPid(): number | null;
  logTail(lines?: number): string;
  /** Why the engine is gone (exit code / signal), or null while it runs. */
  exited(): string | null;
  stop(): Promise<void>;
}

export interface StartEngineOptions {
  /** The caller's DATABASE_URL: a fresh database is created on that server for the run and dropped after. */
  databaseUrl?: string;
  logLevel?: string;
  keepData?: boolean;
  env?: Record<string, string>;
  startTimeoutMs?: number;
  onLog?: (line: string) => void;
}

const live = new Set<ChildProcess>();
/** Last resort on exit (including crashes): no engine or dev server outlives the benchmark. */
process.on('exit', () => {
  for (const c of live) {
    if (c.exitCode === null && c.pid) {
      try {
        process.kill(-c.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
});

async function createBenchDatabase(adminUrl: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `engine_bench_${Date.now()}_${process.pid}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } catch {
        /* best effort */
      } finally {
        await c.end();
      }
    },
  };
}

async function waitForHealth(baseUrl: string, child: ChildProcess, timeoutMs: number, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the engine exited with code ${child.exitCode} while starting:\n${tail()}`);
    try {
      const res = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(3000) });
      if (res.status === 200) return;
      await res.body?.cancel();
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`the engine did not answer GET /health with 200 within ${timeoutMs} ms:\n${tail()}`);
}

async function canConnect(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

export async function startEngine(opts: StartEngineOptions = {}): Promise<EngineProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-lifecycle-'));
  const logFile = join(dataDir, 'engine.log');
  const [port, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const token = `bench-${randomBytes(16).toString('hex')}`;
  const benchDb = opts.databaseUrl ? await createBenchDatabase(opts.databaseUrl) : null;

  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATA_DIR: dataDir,
    PORT: String(port),
    HOST: '127.0.0.1',
    TEMPORAL_DEV_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    BOOTSTRAP_API_TOKEN: token,
    LOG_LEVEL: opts.logLevel ?? 'warn',
    // the benchmark's webhook receiver listens on loopback
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    // One org sends the whole load: the per-org limits (600 requests a minute) would measure themselves.
    RATE_LIMIT_REQUESTS_PER_MINUTE: '1000000',
    VERIFICATION_JOBS_PER_MINUTE: '1000000',
    ...opts.env,
  };
  delete env.TEMPORAL_ADDRESS; // the all-in-one engine: always its own dev server
  if (benchDb) env.DATABASE_URL = benchDb.url;
  else delete env.DATABASE_URL;

  // BENCH_ENGINE_CPU_PROFILE=<dir>: the engine writes a V8 CPU profile there when it stops.
  const profile = process.env.BENCH_ENGINE_CPU_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_ENGINE_CPU_PROFILE}`] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/main.ts'], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  live.add(child);
  const log = createWriteStream(logFile);
  const tailLines: string[] = [];
  const onData = (d: Buffer) => {
    log.write(d);
    for (const line of d.toString('utf8').split('\n')) {
      if (!line) continue;
      tailLines.push(line);
      if (tailLines.length > 200) tailLines.shift();
      opts.onLog?.(line);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const tail = (n = 30) => tailLines.slice(-n).join('\n');

  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM'); // the engine's shutdown stops the worker, the dev server and the database
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
    }
    // Anything left in the group (a dev server that ignored SIGTERM): kill it.
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* group empty */
    }
    live.delete(child);
    log.end();
    if (benchDb) await benchDb.drop().catch(() => undefined);
    if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
  };

  try {
    await waitForHealth(baseUrl, child, opts.startTimeoutMs ?? 240_000, () => tail());
    let databaseUrl = benchDb?.url ?? '';
    if (!benchDb) {
      // The engine serves its PGlite over the Postgres protocol, behind a password; it leaves the URL in DATA_DIR.
      const urlFile = embeddedUrlFile(dataDir);
      if (existsSync(urlFile)) databaseUrl = readFileSync(urlFile, 'utf8').trim();
      if (!databaseUrl || !(await canConnect(databaseUrl)))
        throw new Error(`could not reach the engine's embedded PostgreSQL (${urlFile} missing or stale)`);
    }
    return {
      pid: child.pid!,
      baseUrl,
      token,
      dataDir,
      logFile,
      databaseUrl,
      temporalAddress: `127.0.0.1:${temporalPort}`,
      database: benchDb ? 'PostgreSQL (DATABASE_URL)' : 'embedded PGlite',
      databaseName: benchDb?.name ?? null,
      temporalPid: () => processTree(child.pid!).find((p) => p !== child.pid && listeningPorts(p).includes(temporalPort)) ?? null,
      logTail: tail,
      exited: () =>
        child.exitCode !== null || child.signalCode !== null ? `the engine exited (${child.exitCode ?? child.signalCode})` : null,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
