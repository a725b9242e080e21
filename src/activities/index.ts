// Activities are built by one factory from their dependencies (database, config, HTTP).
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import type { Config } from '../config';

export interface ActivityDeps {
  db: Kysely<Database>;
  config: Config;
  fetch?: typeof fetch;
}

export function createActivities(deps: ActivityDeps) {
  return {
  };
}

export type Activities = ReturnType<typeof createActivities>;
