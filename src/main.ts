// `npm start`: the whole engine on one machine — embedded PostgreSQL (unless DATABASE_URL),
// the Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS), the worker and the API.
import { NativeConnection } from '@temporalio/worker';
import { createApp } from './engine/httpApi';
import { boundClientTime } from './platform/http/jsonApi';
import { bootstrapDefaultOrg } from './orgs/repository';
import { loadConfig } from './platform/config';
import { openDatabase } from './platform/database/open';
import { log } from './platform/log';
import { connectTemporal } from './platform/temporal/client';
import { ensureRetentionSchedule } from './retention/schedule';
import { temporalConnectionOptions, type TemporalConnectionOptions } from './platform/temporal/connectionOptions';
import { startDevServer, type DevServer } from './platform/temporal/devServer';
import { installTemporalRuntime } from './platform/temporal/runtime';
import { createWorker } from './engine/worker';
import { encryptLegacyPlaintext } from './engine/storedData';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { verifyAllModelFiles } from './verification/modelFiles';

const config = loadConfig();
if (config.keyRingSource.generated)
  log.warn('generated a development key ring under DATA_DIR/keys (set DATA_ENCRYPTION_KEYS and IDENTITY_INDEX_KEY in production)', {
    dataDir: config.dataDir,
  });
installTemporalRuntime();
verifyAllModelFiles();
const database = await openDatabase(config);
// Rows from before migration 010 hold personal data in the clear: sealed now, before anything serves.
const legacy = await encryptLegacyPlaintext(database.db, config.keyRing);
if (legacy.sealed) log.info('sealed personal data stored in the clear by an older version', { rows: legacy.sealed });
if (await bootstrapDefaultOrg(database.db, config.BOOTSTRAP_API_TOKEN)) log.info('created the default org for BOOTSTRAP_API_TOKEN');

let devServer: DevServer | null = null;
let target: TemporalConnectionOptions;
if (config.TEMPORAL_ADDRESS) target = temporalConnectionOptions(config);
else {
  // The dev UI shows decrypted history through the engine's codec endpoint, under a path
  // secret for this run (src/platform/temporal/codecRoutes.ts): the UI cannot send an API key.
  config.TEMPORAL_UI_CODEC_SECRET ??= randomBytes(32).toString('base64url');
  const apiHost = ['0.0.0.0', '::', ''].includes(config.HOST) ? '127.0.0.1' : config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST;
  devServer = await startDevServer({
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: join(config.dataDir, 'temporal.sqlite'),
    namespace: config.TEMPORAL_NAMESPACE,
    codecEndpoint: config.PORT ? `http://${apiHost}:${config.PORT}/codec/ui/${config.TEMPORAL_UI_CODEC_SECRET}` : undefined,
  });
  target = { address: devServer.address };
}
const { address } = target;
const temporal = await connectTemporal(config, target);
await ensureRetentionSchedule(temporal, config.TEMPORAL_TASK_QUEUE);
const connection = await NativeConnection.connect(target);
const worker = await createWorker({
  connection,
  namespace: config.TEMPORAL_NAMESPACE,
  taskQueue: config.TEMPORAL_TASK_QUEUE,
  db: database.db,
  config,
});
const running = worker.run();

const server = boundClientTime(
  createApp({ db: database.db, temporal, config }).listen(config.PORT, config.HOST, () => {
    log.info('engine started', {
      api: `http://${config.HOST}:${config.PORT}`,
      temporal: address,
      temporalUi: devServer?.uiUrl ?? 'see your cluster',
      database: config.DATABASE_URL ? 'DATABASE_URL' : `embedded (${config.dataDir})`,
    });
  }),
);

async function shutdown() {
  log.info('shutting down');
  server.close();
  worker.shutdown();
  await running.catch(() => undefined);
  await connection.close();
  await temporal.connection.close();
  await devServer?.stop();
  await database.close();
  process.exit(0);
}
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
