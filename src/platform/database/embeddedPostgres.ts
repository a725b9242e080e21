// With DATABASE_URL unset the engine runs PostgreSQL embedded (PGlite, persisted under
// DATA_DIR) and serves it over the Postgres wire protocol so `pg` talks to it as to any server:
// on loopback, to clients that prove the password kept under DATA_DIR (embeddedPassword.ts).
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { embeddedPassword } from './embeddedPassword';
import { listenOnLoopback, type ProtocolQueue } from './embeddedPostgresWire';

export interface EmbeddedPostgres {
  url: string;
  stop(): Promise<void>;
}

type OnData = (data: Uint8Array) => void;
interface Batch {
  handlerId: number;
  messages: Uint8Array[];
  onData: OnData;
  resolve(n: number): void;
  reject(e: unknown): void;
}

// Extended-query messages that a client sends ahead of its Sync: Parse, Bind, Describe, Execute, Close.
const HELD_UNTIL_SYNC = new Set([0x50, 0x42, 0x44, 0x45, 0x43]);

/**
 * PGlite is one session. Run each protocol message as its own job, and with several pooled
 * connections one query's Parse/Bind/Execute interleave with another's (wrong rows, "portal
 * does not exist"), as they do in pglite-socket's queue. This queue runs everything a connection
 * sends up to its Sync (or a simple Query) as one exclusive batch, and while a connection
 * holds an open transaction only that connection's batches run.
 */
class ProtocolBatchQueue implements ProtocolQueue {
  private held = new Map<number, Uint8Array[]>();
  private ready: Batch[] = [];
  private running = false;
  private owner: number | null = null;

  constructor(private readonly db: PGlite) {}

  enqueue(handlerId: number, message: Uint8Array, onData: OnData): Promise<number> {
    const messages = this.held.get(handlerId) ?? [];
    messages.push(message);
    if (HELD_UNTIL_SYNC.has(message[0])) {
      this.held.set(handlerId, messages);
      return Promise.resolve(0);
    }
    this.held.delete(handlerId);
    return new Promise((resolve, reject) => {
      this.ready.push({ handlerId, messages, onData, resolve, reject });
      void this.pump();
    });
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.ready.length > 0) {
        let index = 0;
        if (this.owner !== null && this.db.isInTransaction()) {
          index = this.ready.findIndex((b) => b.handlerId === this.owner);
          if (index === -1) break; // the transaction's owner has not sent its next batch yet
        }
        const batch = this.ready.splice(index, 1)[0];
        let bytes = 0;
        // The answer goes back in one socket write instead of one per protocol message.
        const chunks: Uint8Array[] = [];
        try {
          await this.db.runExclusive(async () => {
            for (const m of batch.messages) {
              await this.db.execProtocolRawStream(m, {
                onRawData: (d: Uint8Array) => {
                  bytes += d.length;
                  chunks.push(d.slice());
                },
              });
            }
          });
          this.owner = batch.handlerId;
          if (chunks.length) batch.onData(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
          batch.resolve(bytes);
        } catch (err) {
          batch.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }

  getQueueLength() {
    return this.ready.length;
  }

  clearQueueForHandler(handlerId: number) {
    this.held.delete(handlerId);
    this.ready = this.ready.filter((b) => {
      if (b.handlerId !== handlerId) return true;
      b.reject(new Error('Handler disconnected'));
      return false;
    });
  }

  async clearTransactionIfNeeded(handlerId: number) {
    if (this.owner === handlerId && this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    if (this.owner === handlerId) this.owner = null;
    void this.pump();
  }
}

export interface EmbeddedPostgresOptions {
  port?: number;
  authenticationTimeoutMs?: number;
}

/** The one role clients log in as (PGlite's own superuser). */
const USER = 'postgres';

export async function startEmbeddedPostgres(dataDir: string | 'memory', options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
  let location: string | undefined;
  if (dataDir !== 'memory') {
    location = join(dataDir, 'pglite');
    mkdirSync(location, { recursive: true, mode: 0o700 });
    // The files are the database: a password on the socket means nothing if other users can read them.
    chmodSync(location, 0o700);
  }
  const password = embeddedPassword(dataDir);
  const db = await PGlite.create(location);
  const listener = await listenOnLoopback({ ...options, queue: new ProtocolBatchQueue(db), user: USER, password });
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${listener.port}/postgres?sslmode=disable`,
    async stop() {
      await listener.close();
      await db.close();
    },
  };
}

/**
 * The same, on a thread of its own: PGlite is single-threaded WebAssembly, and on the engine's
 * main thread every query would wait behind HTTP requests and activities (and they behind it).
 * The thread loads TypeScript through tsx, as the engine itself does.
 */
export async function startEmbeddedPostgresThread(dataDir: string, readyTimeoutMs = 120_000): Promise<EmbeddedPostgres> {
  const entry = new URL('./embeddedPostgresThread.ts', import.meta.url).href;
  // Resolved here, from this project: an eval'd worker would resolve it from the working directory.
  // (require resolution gives dist/esm/api/index.cjs; its ESM twin index.mjs sits next to it)
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const worker = new Worker(
    `import(${JSON.stringify(tsx)}).then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData: { dataDir } },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  let url: string;
  try {
    url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the embedded PostgreSQL thread was not ready within ${readyTimeoutMs} ms`)),
        readyTimeoutMs,
      );
      worker.once('message', (m: { url: string }) => {
        clearTimeout(timer);
        resolve(m.url);
      });
      worker.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      void exit.then(() => {
        clearTimeout(timer);
        reject(new Error('the embedded PostgreSQL thread exited before it was ready'));
      });
    });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  let stopping = false;
  worker.on('error', (err) => process.stderr.write(`embedded PostgreSQL thread failed: ${err.message}\n`));
  void exit.then(() => {
    if (stopping) return;
    // Without its database the engine can only fail every request: stop it, loudly.
    process.stderr.write('the embedded PostgreSQL thread stopped unexpectedly; exiting\n');
    process.exit(1);
  });
  return {
    url,
    async stop() {
      stopping = true;
      if (exited) return;
      const stopped = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      worker.postMessage('stop');
      await Promise.race([stopped, exit, new Promise((r) => setTimeout(r, 10_000).unref())]);
      await worker.terminate();
    },
  };
}
