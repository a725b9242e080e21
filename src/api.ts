// API-only entry point (docker-compose): needs DATABASE_URL and TEMPORAL_ADDRESS.
import { loadConfig } from './platform/config';
import { connectDatabase } from './platform/database/connection';
import { migrate } from './platform/database/migrate';
import { log } from './platform/log';
import { connectTemporal } from './platform/temporal/client';
import { createApp } from './engine/httpApi';
import { boundClientTime } from './platform/http/jsonApi';
import { bootstrapDefaultOrg } from './orgs/repository';

const config = loadConfig();
if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
  throw new Error('the API entry point needs DATABASE_URL and TEMPORAL_ADDRESS (use `npm start` for the all-in-one engine)');
const db = connectDatabase(config.DATABASE_URL);
await migrate(db);
await bootstrapDefaultOrg(db, config.BOOTSTRAP_API_TOKEN);
const temporal = await connectTemporal(config.TEMPORAL_ADDRESS, config.TEMPORAL_NAMESPACE);
boundClientTime(
  createApp({ db, temporal, config }).listen(config.PORT, config.HOST, () => log.info('API listening', { port: config.PORT })),
);
