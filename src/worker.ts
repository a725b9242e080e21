// Worker-only entry point (docker-compose, horizontal scaling): needs DATABASE_URL and TEMPORAL_ADDRESS.
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from './platform/config';
import { connectDatabase } from './platform/database/connection';
import { migrate } from './platform/database/migrate';
import { temporalConnectionOptions } from './platform/temporal/connectionOptions';
import { installTemporalRuntime } from './platform/temporal/runtime';
import { createWorker } from './engine/worker';
import { verifyAllModelFiles } from './verification/modelFiles';

const config = loadConfig();
installTemporalRuntime();
if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
  throw new Error('the worker entry point needs DATABASE_URL and TEMPORAL_ADDRESS (use `npm start` for the all-in-one engine)');
verifyAllModelFiles();
const db = connectDatabase(config.DATABASE_URL);
await migrate(db);
const connection = await NativeConnection.connect(temporalConnectionOptions(config));
const worker = await createWorker({ connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TEMPORAL_TASK_QUEUE, db, config });
process.once('SIGTERM', () => worker.shutdown());
process.once('SIGINT', () => worker.shutdown());
await worker.run();
await db.destroy();
