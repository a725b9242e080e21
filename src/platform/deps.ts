// What the API and the activities are built from; entry points assemble it.
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import type { Config } from './config';

export interface EngineDeps {
  db: Kysely<Database>;
  temporal: Client;
  config: Config;
}

/** What activity factories receive: the database, the config and (for tests) an HTTP client. */
export interface ActivityDeps {
  db: Kysely<Database>;
  config: Config;
  fetch?: typeof fetch;
}
