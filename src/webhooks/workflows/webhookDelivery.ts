// Fans one event out to the org's enabled webhooks. AtLeastOnce webhooks are retried with
// exponential backoff (1 s, ×2, at most 10 min apart) for up to 24 h; AtMostOnce get one attempt.
import { ActivityFailure, deprecatePatch, log, proxyActivities, proxyLocalActivities, type RetryPolicy } from '@temporalio/workflow';
import type { createWebhookDeliveryActivities } from '../activities';

type DeliveryActivities = ReturnType<typeof createWebhookDeliveryActivities>;

/** Retry timing of AtLeastOnce deliveries; tests pass short values, production uses the defaults. */
export interface DeliveryRetryOptions {
  initialIntervalMs?: number;
  backoffCoefficient?: number;
  maximumIntervalMs?: number;
  /** Give up after this many attempts (default: unlimited within giveUpAfterMs). */
  maximumAttempts?: number;
  /** Give up this long after the first attempt (default 24 h). */
  giveUpAfterMs?: number;
}

export const DEFAULT_DELIVERY_RETRY: Required<DeliveryRetryOptions> = {
  initialIntervalMs: 1_000,
  backoffCoefficient: 2,
  maximumIntervalMs: 10 * 60_000,
  maximumAttempts: 0, // 0 = unlimited; giveUpAfterMs bounds it (about 150 attempts)
  giveUpAfterMs: 24 * 3600_000,
};

export interface WebhookDeliveryInput {
  eventId: string;
  orgId: string;
  retry?: DeliveryRetryOptions;
  /** Taking over an event a workflow's own delivery gave up on: skip webhooks that already have it. */
  continueAttempts?: boolean;
}

export interface WebhookDeliveryOutcome {
  webhookId: string;
  outcome: 'delivered' | 'skipped' | 'failed';
  reason?: string;
}
export interface WebhookDeliveryResult {
  eventId: string;
  deliveries: WebhookDeliveryOutcome[];
}

// The webhook look-up is a short database read: a local activity, inside the workflow task that needs it.
const setup = proxyLocalActivities<DeliveryActivities>({ startToCloseTimeout: '30s', retry: { maximumInterval: '30s' } });

/** Retired patch: the short database activities were ordinary activities before it (all are local now). */
export const LOCAL_DATABASE_ACTIVITIES_PATCH = 'database-activities-run-locally';

export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryResult> {
  // Runs started before the patch was retired (see README, "Workflow versions") carry its marker.
  deprecatePatch(LOCAL_DATABASE_ACTIVITIES_PATCH);
  const { targets, timeoutMs } = await setup.listWebhooksForEvent({ eventId: input.eventId, orgId: input.orgId });
  const r = { ...DEFAULT_DELIVERY_RETRY, ...input.retry };
  // The HTTP request times out after timeoutMs; a few seconds more cover writing its log row,
  // and keep the wait short when a worker dies mid-attempt.
  const startToCloseTimeout = timeoutMs + 5_000;

  const deliveries = await Promise.all(
    targets.map(async (t): Promise<WebhookDeliveryOutcome> => {
      const retry: RetryPolicy =
        t.deliveryMode === 'AtMostOnce'
          ? { maximumAttempts: 1 }
          : {
              initialInterval: r.initialIntervalMs,
              backoffCoefficient: r.backoffCoefficient,
              maximumInterval: r.maximumIntervalMs,
              nonRetryableErrorTypes: ['EventNotFound'],
              ...(r.maximumAttempts > 0 ? { maximumAttempts: r.maximumAttempts } : {}),
            };
      const { deliverWebhook } = proxyActivities<DeliveryActivities>({
        startToCloseTimeout,
        ...(t.deliveryMode === 'AtLeastOnce' ? { scheduleToCloseTimeout: r.giveUpAfterMs } : {}),
        retry,
      });
      try {
        const res = await deliverWebhook({
          eventId: input.eventId,
          webhookId: t.webhookId,
          orgId: input.orgId,
          ...(input.continueAttempts ? { continueAttempts: true } : {}),
        });
        return { webhookId: t.webhookId, outcome: res.outcome, ...(res.reason ? { reason: res.reason } : {}) };
      } catch (err) {
        if (!(err instanceof ActivityFailure)) throw err;
        // Gave up: the attempts are in webhook_attempts; the event can be fired again on request.
        const reason = (err as { cause?: { message?: string }; message?: string }).cause?.message ?? (err as Error).message;
        log.warn('webhook delivery gave up', { eventId: input.eventId, webhookId: t.webhookId, reason });
        return { webhookId: t.webhookId, outcome: 'failed', reason };
      }
    }),
  );
  return { eventId: input.eventId, deliveries };
}
