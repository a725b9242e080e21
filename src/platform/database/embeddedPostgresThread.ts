// Worker-thread entry of the embedded PostgreSQL (see startEmbeddedPostgresThread): PGlite and
// its socket server run here, so their work does not queue behind the API and the worker on the
// engine's main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { startEmbeddedPostgres } from './embeddedPostgres';

const { dataDir } = workerData as { dataDir: string };
const embedded = await startEmbeddedPostgres(dataDir);
parentPort!.postMessage({ url: embedded.url });
parentPort!.on('message', async (m) => {
  if (m !== 'stop') return;
  await embedded.stop();
  parentPort!.postMessage({ stopped: true });
});
