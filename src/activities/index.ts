// Activities are built by one factory from their dependencies (database, config, HTTP).
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import type { Config } from '../config';
import { createApplicationActivities } from './applications';
import { createEventActivities } from './events';
import { createWebhookDeliveryActivities } from './webhookDelivery';
import { createVerificationActivities } from './verification';

export interface ActivityDeps {
  db: Kysely<Database>;
  config: Config;
  fetch?: typeof fetch;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createApplicationActivities(deps),
    ...createEventActivities(deps),
    ...createWebhookDeliveryActivities(deps),
    ...createVerificationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
