// Activities are built by one factory from their dependencies (database, config, HTTP).
import type { ActivityDeps } from '../platform/deps';
import { createApplicationActivities } from '../applications/activities';
import { createEventActivities, createWebhookDeliveryActivities } from '../webhooks/activities';
import { createVerificationActivities } from '../verification/job/activities';
import { createOrgActivities } from '../orgs/activities';
import { createRetentionActivities } from '../retention/activities';

export function createActivities(deps: ActivityDeps) {
  return {
    ...createApplicationActivities(deps),
    ...createEventActivities(deps),
    ...createWebhookDeliveryActivities(deps),
    ...createVerificationActivities(deps),
    ...createOrgActivities(deps),
    ...createRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
