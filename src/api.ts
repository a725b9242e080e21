// API-only entry point (docker-compose): needs DATABASE_URL and TEMPORAL_ADDRESS.
import { loadConfig } from './platform/config';
import { connectDatabase } from './platform/database/connection';
import { migrate } from './platform/database/migrate';
import { log } from './platform/log';
import { connectTemporal } from './platform/temporal/client';
import { ensureRetentionSchedule } from './retention/schedule';
import { temporalConnectionOptions } from './platform/temporal/connectionOptions';
import { createApp } from './engine/httpApi';
import { encryptLegacyPlaintext } from './engine/storedData';
import { boundClientTime } from './platform/http/jsonApi';
import { bootstrapDefaultOrg } from './orgs/repository';

const config = loadConfig();
if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
  throw new Error('the API entry point needs DATABASE_URL and TEMPORAL_ADDRESS (use `npm start` for the all-in-one engine)');
const db = connectDatabase(config.DATABASE_URL);
await migrate(db);
// Rows from before migration 010 hold personal data in the clear: sealed now, before anything serves.
const legacy = await encryptLegacyPlaintext(db, config.keyRing);
if (legacy.sealed) log.info('sealed personal data stored in the clear by an older version', { rows: legacy.sealed });
await bootstrapDefaultOrg(db, config.BOOTSTRAP_API_TOKEN);
const temporal = await connectTemporal(config, temporalConnectionOptions(config));
await ensureRetentionSchedule(temporal, config.TEMPORAL_TASK_QUEUE);
boundClientTime(
  createApp({ db, temporal, config }).listen(config.PORT, config.HOST, () => log.info('API listening', { port: config.PORT })),
);
