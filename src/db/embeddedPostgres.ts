// With DATABASE_URL unset the engine runs PostgreSQL embedded (PGlite, persisted under
// DATA_DIR) and serves it over the Postgres wire protocol so `pg` talks to it as to any server.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres { url: string; stop(): Promise<void> }

type OnData = (data: Uint8Array) => void;
interface Batch { handlerId: number; messages: Uint8Array[]; onData: OnData; resolve(n: number): void; reject(e: unknown): void }

// Extended-query messages that a client sends ahead of its Sync: Parse, Bind, Describe, Execute, Close.
const HELD_UNTIL_SYNC = new Set([0x50, 0x42, 0x44, 0x45, 0x43]);

/**
 * PGlite is one session. pglite-socket's own queue runs each protocol message as its own
 * job, so with several pooled connections one query's Parse/Bind/Execute interleave with
 * another's (wrong rows, "portal does not exist"). This queue runs everything a connection
 * sends up to its Sync (or a simple Query) as one exclusive batch, and while a connection
 * holds an open transaction only that connection's batches run.
 */
class ProtocolBatchQueue {
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
              await this.db.execProtocolRawStream(m, { onRawData: (d: Uint8Array) => { bytes += d.length; chunks.push(d.slice()); } });
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

  getQueueLength() { return this.ready.length; }

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

export async function startEmbeddedPostgres(dataDir: string | 'memory', port = 0): Promise<EmbeddedPostgres> {
  let location: string | undefined;
  if (dataDir !== 'memory') {
    location = join(dataDir, 'pglite');
    mkdirSync(location, { recursive: true });
  }
  const db = await PGlite.create(location);
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 100 } as ConstructorParameters<typeof PGLiteSocketServer>[0]);
  (server as unknown as { queryQueue: ProtocolBatchQueue }).queryQueue = new ProtocolBatchQueue(db);
  await server.start();
  const actual = (server as unknown as { port: number }).port;
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${actual}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await db.close();
    },
  };
}

/**
 * The same, on a thread of its own: PGlite is single-threaded WebAssembly, and on the engine's
 * main thread every query would wait behind HTTP requests and activities (and they behind it).
 * The thread loads TypeScript through tsx, as the engine itself does.
 */
export async function startEmbeddedPostgresThread(dataDir: string): Promise<EmbeddedPostgres> {
  const entry = new URL('./embeddedPostgresThread.ts', import.meta.url).href;
  const worker = new Worker(
    `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(entry)}); })`,
    { eval: true, workerData: { dataDir } },
  );
  const url = await new Promise<string>((resolve, reject) => {
    worker.once('message', (m: { url: string }) => resolve(m.url));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the embedded PostgreSQL thread exited (code ${code}) before it was ready`)));
  });
  worker.removeAllListeners('exit');
  worker.on('error', (err) => { process.stderr.write(`embedded PostgreSQL thread failed: ${err.message}\n`); process.exitCode = 1; });
  return {
    url,
    async stop() {
      const stopped = new Promise<void>((resolve) => {
        worker.once('message', () => resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage('stop');
      await stopped;
      await worker.terminate();
    },
  };
}
