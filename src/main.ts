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
import { startDevServer, type DevServer } from './platform/temporal/devServer';
import { installTemporalRuntime } from './platform/temporal/runtime';
import { createWorker } from './engine/worker';
import { join } from 'node:path';
import { verifyAllModelFiles } from './verification/modelFiles';

const config = loadConfig();
installTemporalRuntime();
verifyAllModelFiles();
const database = await openDatabase(config);
if (await bootstrapDefaultOrg(database.db, config.BOOTSTRAP_API_TOKEN)) log.info('created the default org for BOOTSTRAP_API_TOKEN');

let devServer: DevServer | null = null;
let address = config.TEMPORAL_ADDRESS;
if (!address) {
  devServer = await startDevServer({
    port: config.TEMPORAL_DEV_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    dbFile: join(config.dataDir, 'temporal.sqlite'),
    namespace: config.TEMPORAL_NAMESPACE,
  });
  address = devServer.address;
}
const temporal = await connectTemporal(address, config.TEMPORAL_NAMESPACE);
const connection = await NativeConnection.connect({ address });
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
