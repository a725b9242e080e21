// Runs the Temporal CLI's dev server (installed by scripts/setup.mjs from PyPI) as a
// child process, with SQLite persistence so a restart keeps workflow history.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SEARCH_ATTRIBUTES } from './searchAttributes';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const temporalCliPath = () => join(ROOT, '.tools', 'py', 'bin', 'temporal');
export const temporalTestServerPath = () => join(ROOT, '.tools', 'py', 'bin', 'temporal-test-server');

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface DevServerOptions {
  port: number;
  uiPort?: number;
  /** SQLite file; omitted = in memory (tests). */
  dbFile?: string;
  namespace?: string;
  headless?: boolean;
  /** The Web UI's remote codec (the engine's /codec endpoint), so it shows decrypted payloads. */
  codecEndpoint?: string;
}

const SA_TYPE = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const;

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const bin = temporalCliPath();
  if (!existsSync(bin)) throw new Error(`Temporal CLI not found at ${bin}; run \`npm run setup\``);
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(opts.port),
    '--namespace',
    opts.namespace ?? 'default',
    '--log-level',
    'error',
  ];
  if (opts.dbFile) {
    mkdirSync(dirname(opts.dbFile), { recursive: true });
    // WAL with synchronous=NORMAL: durable across process crashes and restarts, without an
    // fsync per workflow task (the default journal made SQLite the engine's bottleneck).
    args.push('--db-filename', opts.dbFile, '--sqlite-pragma', 'journal_mode=wal', '--sqlite-pragma', 'synchronous=normal');
  }
  if (opts.headless || !opts.uiPort) args.push('--headless');
  else {
    args.push('--ui-port', String(opts.uiPort), '--ui-ip', '127.0.0.1', '--ui-disable-news-fetch');
    if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  }
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=${SA_TYPE[key.type as keyof typeof SA_TYPE]}`);
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const address = `127.0.0.1:${opts.port}`;
  await waitForPort(opts.port, 60_000, () =>
    child.exitCode !== null ? `temporal dev server exited (${child.exitCode}): ${stderr}` : null,
  );
  return {
    address,
    uiUrl: opts.uiPort && !opts.headless ? `http://127.0.0.1:${opts.uiPort}` : null,
    process: child,
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

export async function waitForPort(port: number, timeoutMs: number, failed: () => string | null = () => null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = failed();
    if (why) throw new Error(why);
    const ok = await new Promise<boolean>((res) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        res(true);
      });
      s.once('error', () => res(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on port ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => res(p));
    });
  });
}
