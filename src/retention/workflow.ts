// The retention sweep, run by the Temporal Schedule `retention-sweep` (schedule.ts): each org's
// expired images, results and applications are erased by one activity per org, so one org's
// failure is retried on its own and never holds back the others.
import { proxyActivities } from '@temporalio/workflow';
import { EventDelivery } from '../webhooks/workflows/eventDelivery';
import type { RetentionActivities, SweepCounts } from './activities';

const { orgsToSweep } = proxyActivities<RetentionActivities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 5 } });
const { sweepOrg } = proxyActivities<RetentionActivities>({
  // Batched deletes; a large backlog is worked off over several runs (the activity stops early).
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '10s', maximumAttempts: 5 },
});

export async function retentionSweepWorkflow(): Promise<SweepCounts> {
  const total: SweepCounts = { images: 0, results: 0, applications: 0 };
  for (const orgId of await orgsToSweep()) {
    const n = await sweepOrg({ orgId });
    total.images += n.images;
    total.results += n.results;
    total.applications += n.applications;
    // Each redacted application's `application.redacted` event, delivered as a workflow's own are.
    const delivery = new EventDelivery(orgId);
    delivery.deliver(n.eventIds, { hasWebhooks: n.hasWebhooks });
    await delivery.settled();
  }
  return total;
}
