// With DATABASE_URL unset the engine runs PostgreSQL embedded (PGlite, persisted under
// DATA_DIR) and serves it over the Postgres wire protocol so `pg` talks to it as to any server.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgres { url: string; stop(): Promise<void> }

export async function startEmbeddedPostgres(dataDir: string | 'memory', port = 0): Promise<EmbeddedPostgres> {
  let location: string | undefined;
  if (dataDir !== 'memory') {
    location = join(dataDir, 'pglite');
    mkdirSync(location, { recursive: true });
  }
  const db = await PGlite.create(location);
  // PGlite is single-session; the server multiplexes connections and keeps a transaction on its connection.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 64 } as ConstructorParameters<typeof PGLiteSocketServer>[0]);
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
