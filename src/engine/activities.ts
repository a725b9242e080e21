// Activities are built by one factory from their dependencies (database, config, HTTP).
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import type { Config } from '../platform/config';
import { createApplicationActivities } from '../applications/activities';
import { createEventActivities } from '../webhooks/events';
import { createWebhookDeliveryActivities } from '../webhooks/activities';
import { createVerificationActivities } from '../verification/job/activities';

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
