// Delivering one event to one webhook over HTTP, logging every attempt in webhook_attempts.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { eventResource, WEBHOOK_CONTENT_TYPES, webhookBody } from '../webhooks/payload';
import { SIGNATURE_HEADER, signBody } from '../webhooks/signature';
import type { ActivityDeps } from './index';
import { assertDeliverable, WebhookDestinationRefused } from '../webhooks/destinationPolicy';

export interface DeliveryTarget { webhookId: string; deliveryMode: 'AtMostOnce' | 'AtLeastOnce' }
export interface DeliverWebhookInput { eventId: string; webhookId: string; /** scopes the look-up (absent in histories from before it was added) */ orgId?: string; /** only when called outside Temporal */ attempt?: number }
export interface DeliverWebhookResult { outcome: 'delivered' | 'skipped'; statusCode?: number; reason?: string }

/** The Temporal attempt number (1-based) when running as an activity. */
function currentAttempt(fallback = 1): number {
  try { return Context.current().info.attempt; } catch { return fallback; }
}
function cancellationSignal(): AbortSignal | undefined {
  try { return Context.current().cancellationSignal; } catch { return undefined; }
}

/** Error text safe to store and show: no URL (it may carry credentials or query secrets), no token. */
function describeError(err: unknown, secrets: string[]): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  let text = e?.cause?.code ? `${e.message ?? 'fetch failed'} (${e.cause.code})` : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
  for (const s of secrets) if (s) text = text.split(s).join('[redacted]');
  return text.slice(0, 500);
}

export function createWebhookDeliveryActivities(deps: Pick<ActivityDeps, 'db' | 'config'> & Partial<ActivityDeps>) {
  const { db, config } = deps;
  const doFetch = deps.fetch ?? fetch;

  return {
    /** The org's enabled webhooks that subscribe to this event, and the HTTP timeout the workflow sizes its activity timeout on. */
    async listWebhooksForEvent(input: { eventId: string; orgId: string }): Promise<{ targets: DeliveryTarget[]; timeoutMs: number }> {
      const event = await db.selectFrom('events').select('id').where('id', '=', input.eventId).where('org_id', '=', input.orgId).executeTakeFirst();
      if (!event) throw ApplicationFailure.nonRetryable(`event ${input.eventId} not found in org ${input.orgId}`, 'EventNotFound');
      const hooks = await db.selectFrom('webhooks').select(['id', 'delivery_mode'])
        .where('org_id', '=', input.orgId)
        .where('status', '=', 'Enabled')
        // Unit's OnlyAuthorizationRequest webhooks receive authorization requests only; the engine emits none.
        .where('subscription_type', '!=', 'OnlyAuthorizationRequest')
        .orderBy('id')
        .execute();
      return { targets: hooks.map((h) => ({ webhookId: String(h.id), deliveryMode: h.delivery_mode })), timeoutMs: config.WEBHOOK_TIMEOUT_MS };
    },

    /**
     * POSTs `{"data":[event]}` signed with the webhook's token. 2xx = delivered; anything else
     * (or a network error / timeout) throws a retryable failure after logging the attempt.
     * A webhook disabled or gone since the delivery started is skipped without a request.
     */
    async deliverWebhook(input: DeliverWebhookInput): Promise<DeliverWebhookResult> {
      const attempt = currentAttempt(input.attempt ?? 1);
      let q = db.selectFrom('webhooks').selectAll().where('id', '=', input.webhookId);
      if (input.orgId) q = q.where('org_id', '=', input.orgId);
      const hook = await q.executeTakeFirst();
      if (!hook) return { outcome: 'skipped', reason: 'webhook not found' };
      if (hook.status !== 'Enabled') return { outcome: 'skipped', reason: 'webhook disabled' };
      const event = await db.selectFrom('events').selectAll().where('id', '=', input.eventId).where('org_id', '=', hook.org_id).executeTakeFirst();
      if (!event) throw ApplicationFailure.nonRetryable(`event ${input.eventId} not found for webhook ${input.webhookId}`, 'EventNotFound');

      if (!config.WEBHOOK_ALLOW_PRIVATE_NETWORKS) {
        try {
          await assertDeliverable(hook.url);
        } catch (err) {
          // Logged like any attempt; not retried (the address will not become public by waiting).
          const reason = err instanceof WebhookDestinationRefused ? err.message : `cannot resolve the webhook's host: ${(err as Error).message}`;
          await db.insertInto('webhook_attempts').values({ org_id: hook.org_id, event_id: input.eventId, webhook_id: input.webhookId, attempt: currentAttempt(input.attempt ?? 1), status_code: null, error: reason, duration_ms: 0, delivered: false }).execute();
          if (err instanceof WebhookDestinationRefused) throw ApplicationFailure.nonRetryable(reason, 'WebhookDestinationRefused');
          throw ApplicationFailure.retryable(reason, 'WebhookHostUnresolved');
        }
      }
      const body = JSON.stringify(webhookBody(eventResource(event)));
      const timeout = AbortSignal.timeout(config.WEBHOOK_TIMEOUT_MS);
      const cancel = cancellationSignal();
      const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;

      const started = performance.now();
      let statusCode: number | null = null;
      let error: string | null = null;
      try {
        const res = await doFetch(hook.url, {
          method: 'POST',
          headers: {
            'content-type': WEBHOOK_CONTENT_TYPES[hook.content_type],
            [SIGNATURE_HEADER]: signBody(hook.token, body),
            'user-agent': 'onboarding-engine-webhooks/1',
          },
          body,
          signal,
          redirect: 'manual',
        });
        statusCode = res.status;
        await res.body?.cancel().catch(() => undefined);
        if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
      } catch (err) {
        error = timeout.aborted
          ? `no response within ${config.WEBHOOK_TIMEOUT_MS} ms`
          : describeError(err, [hook.url, hook.token]);
      }
      const durationMs = Math.round(performance.now() - started);
      const delivered = error === null;

      await db.insertInto('webhook_attempts').values({
        org_id: hook.org_id, event_id: event.id, webhook_id: hook.id,
        attempt, status_code: statusCode, error, duration_ms: durationMs, delivered,
      }).execute();

      if (!delivered) {
        throw ApplicationFailure.retryable(`webhook ${hook.id}: ${error}`, 'WebhookDeliveryFailed', { webhookId: String(hook.id), statusCode });
      }
      return { outcome: 'delivered', statusCode: statusCode ?? undefined };
    },
  };
}
