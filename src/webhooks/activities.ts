// Recording events, and delivering them to webhooks over HTTP, logging every attempt in webhook_attempts.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { eventResource, WEBHOOK_CONTENT_TYPES, webhookBody } from './payload';
import { SIGNATURE_HEADER, signBody } from './signature';
import {
  claimOnlyAttempt,
  eventExists,
  eventsByIds,
  findEvent,
  findWebhookForDelivery,
  findWebhookInAnyOrg,
  insertAttempt,
  listEnabledWebhooks,
  listWebhooksForDelivery,
  loggedAttempts,
  recordEventForDelivery,
  updateAttempt,
  type AttemptOutcome,
  type EventRow,
  type RecordEventInput,
  type DeliveryWebhook,
} from './repository';
import type { ActivityDeps } from '../platform/deps';
import { WebhookDestinationRefused } from './destinationPolicy';
import {
  postWebhook,
  WebhookDeliveryCanceled,
  WebhookDeliveryTimeout,
  WebhookHostUnresolved,
  type HostResolver,
} from './deliveryTransport';

export interface DeliveryTarget {
  webhookId: string;
  deliveryMode: 'AtMostOnce' | 'AtLeastOnce';
}
export interface DeliverWebhookInput {
  eventId: string;
  webhookId: string;
  /** scopes the look-up (absent in histories from before it was added) */
  orgId?: string;
  /** only when called outside Temporal */
  attempt?: number;
  /**
   * Taking over from deliverEvents (which gave up its quick retries): skip a webhook that
   * already has the event (or had its one AtMostOnce attempt) and number attempts after the
   * logged ones. Unset for redelivery on request, which always sends.
   */
  continueAttempts?: boolean;
}
export interface DeliverEventsInput {
  orgId: string;
  eventIds: string[];
}
export interface DeliverEventsResult {
  delivered: number;
  skipped: number;
}
export interface DeliverWebhookResult {
  outcome: 'delivered' | 'skipped';
  statusCode?: number;
  reason?: string;
}

/** The Temporal attempt number (1-based) when running as an activity. */
function currentAttempt(fallback = 1): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return fallback;
  }
}
function cancellationSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/** Error text safe to store and show: no URL (it may carry credentials or query secrets), no token. */
function describeError(err: unknown, secrets: string[]): string {
  const e = err as { name?: string; message?: string; code?: string };
  // Network errors carry a code and say what failed ("connect ECONNREFUSED 127.0.0.1:8443").
  let text = e?.code && e.message ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}`;
  for (const s of secrets) if (s) text = text.split(s).join('[redacted]');
  return text.slice(0, 500);
}

export function createEventActivities(deps: Pick<ActivityDeps, 'db'> & Partial<ActivityDeps>) {
  const { db } = deps;
  return {
    /** Records an event (once per dedupe key) and says whether any webhook would receive it. */
    async recordEvent(input: RecordEventInput): Promise<{ eventId: string; hasWebhooks: boolean }> {
      const { eventId, hasWebhooks } = await recordEventForDelivery(db, input);
      return { eventId, hasWebhooks };
    },
  };
}

export interface WebhookDeliveryDeps extends Pick<ActivityDeps, 'db' | 'config'> {
  /** How webhook hosts are resolved (the system resolver unless a test injects one). */
  resolveHost?: HostResolver;
}

export function createWebhookDeliveryActivities(deps: WebhookDeliveryDeps) {
  const { db, config } = deps;

  return {
    /** The org's enabled webhooks that subscribe to this event, and the HTTP timeout the workflow sizes its activity timeout on. */
    async listWebhooksForEvent(input: { eventId: string; orgId: string }): Promise<{ targets: DeliveryTarget[]; timeoutMs: number }> {
      if (!(await eventExists(db, input.orgId, input.eventId)))
        throw ApplicationFailure.nonRetryable(`event ${input.eventId} not found in org ${input.orgId}`, 'EventNotFound');
      const hooks = await listEnabledWebhooks(db, input.orgId);
      return {
        targets: hooks.map((h) => ({ webhookId: String(h.id), deliveryMode: h.delivery_mode })),
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
      };
    },

    /**
     * POSTs `{"data":[event]}` signed with the webhook's token. 2xx = delivered; anything else
     * (or a network error / timeout) throws a retryable failure after logging the attempt.
     * A webhook disabled or gone since the delivery started is skipped without a request.
     */
    async deliverWebhook(input: DeliverWebhookInput): Promise<DeliverWebhookResult> {
      const attempt = currentAttempt(input.attempt ?? 1);
      const hook = input.orgId
        ? await findWebhookForDelivery(db, config.keyRing, input.orgId, input.webhookId)
        : await findWebhookInAnyOrg(db, config.keyRing, input.webhookId);
      if (!hook) return { outcome: 'skipped', reason: 'webhook not found' };
      if (hook.status !== 'Enabled') return { outcome: 'skipped', reason: 'webhook disabled' };
      const event = await findEvent(db, hook.org_id, input.eventId);
      if (!event) throw ApplicationFailure.nonRetryable(`event ${input.eventId} not found for webhook ${input.webhookId}`, 'EventNotFound');

      let attemptNo = attempt;
      if (input.continueAttempts) {
        const before = await loggedAttempts(db, hook.org_id, [input.eventId], [input.webhookId]);
        const mine = before.filter((a) => String(a.webhook_id) === String(hook.id));
        if (mine.some((a) => a.delivered) || (hook.delivery_mode === 'AtMostOnce' && mine.length > 0))
          return { outcome: 'skipped', reason: 'already delivered' };
        attemptNo = mine.length + 1;
      }
      const out = await attemptDelivery(hook, event, attemptNo, input.continueAttempts === true && hook.delivery_mode === 'AtMostOnce');
      if (out.kind === 'skipped') return { outcome: 'skipped', reason: 'already delivered' };
      if (out.kind === 'refused') throw ApplicationFailure.nonRetryable(out.error, 'WebhookDestinationRefused');
      if (out.kind === 'failed') {
        throw ApplicationFailure.retryable(
          `webhook ${hook.id}: ${out.error}`,
          out.unresolved ? 'WebhookHostUnresolved' : 'WebhookDeliveryFailed',
          { webhookId: String(hook.id), statusCode: out.statusCode },
        );
      }
      return { outcome: 'delivered', statusCode: out.statusCode ?? undefined };
    },

    /**
     * Delivers a batch of events (in order) to every enabled webhook of the org: the webhooks in
     * parallel, each one's events one after another. Safe to retry and to run again for the same
     * events: a webhook that already has an event is skipped, an AtMostOnce webhook gets one
     * attempt per event, and a refused destination is logged and not retried. Throws a retryable
     * failure while an AtLeastOnce webhook still misses an event.
     */
    async deliverEvents(input: DeliverEventsInput): Promise<DeliverEventsResult> {
      if (input.eventIds.length === 0) return { delivered: 0, skipped: 0 };
      const hooks = await listWebhooksForDelivery(db, config.keyRing, input.orgId);
      if (hooks.length === 0) return { delivered: 0, skipped: 0 };
      const events = await eventsByIds(db, input.orgId, input.eventIds);
      const logged = await loggedAttempts(db, input.orgId, input.eventIds);
      let delivered = 0;
      let skipped = 0;
      const failures: string[] = [];
      await Promise.all(
        hooks.map(async (hook) => {
          for (const event of events) {
            const before = logged.filter((a) => String(a.event_id) === String(event.id) && String(a.webhook_id) === String(hook.id));
            if (before.some((a) => a.delivered) || (hook.delivery_mode === 'AtMostOnce' && before.length > 0)) {
              skipped += 1;
              continue;
            }
            const out = await attemptDelivery(hook, event, before.length + 1, hook.delivery_mode === 'AtMostOnce');
            if (out.kind === 'delivered') {
              delivered += 1;
              continue;
            }
            if (out.kind === 'skipped') {
              skipped += 1;
              continue;
            }
            if (out.kind === 'refused' || hook.delivery_mode === 'AtMostOnce') continue;
            // Keep this webhook's events in order: the rest wait for the retry.
            failures.push(`webhook ${hook.id}: ${out.error}`);
            return;
          }
        }),
      );
      if (failures.length) throw ApplicationFailure.retryable(failures.join('; '), 'WebhookDeliveryFailed');
      return { delivered, skipped };
    },
  };

  type Attempt =
    | { kind: 'delivered'; statusCode: number | null }
    | { kind: 'failed'; error: string; statusCode: number | null; unresolved?: boolean }
    | { kind: 'refused'; error: string }
    | { kind: 'skipped' };

  /**
   * One HTTP attempt of one event to one webhook, logged in webhook_attempts whatever happens.
   * `onlyOnce` (an AtMostOnce webhook's automatic delivery): the attempt is claimed and logged
   * first, so no retry, crash or concurrent run sends a second one. Redelivery on request sends
   * again whatever the mode.
   */
  async function attemptDelivery(hook: DeliveryWebhook, event: EventRow, attempt: number, onlyOnce = false): Promise<Attempt> {
    const claimed = onlyOnce ? await claimOnlyAttempt(db, hook.org_id, hook.id, event.id) : null;
    if (claimed === undefined) return { kind: 'skipped' };
    const record = async (row: AttemptOutcome) => {
      if (claimed) await updateAttempt(db, hook.org_id, claimed.id, row);
      else await insertAttempt(db, hook.org_id, { event_id: event.id, webhook_id: hook.id, attempt, ...row });
    };
    const body = JSON.stringify(webhookBody(eventResource(event)));
    const started = performance.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const res = await postWebhook(
        {
          url: hook.url,
          headers: {
            'content-type': WEBHOOK_CONTENT_TYPES[hook.content_type],
            [SIGNATURE_HEADER]: signBody(hook.token, body),
            'user-agent': 'onboarding-engine-webhooks/1',
          },
          body,
        },
        {
          timeoutMs: config.WEBHOOK_TIMEOUT_MS,
          allowPrivateNetworks: config.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
          signal: cancellationSignal(),
          resolveHost: deps.resolveHost,
        },
      );
      statusCode = res.status;
      if (res.status < 200 || res.status > 299) error = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    } catch (err) {
      const durationMs = Math.round(performance.now() - started);
      if (err instanceof WebhookDestinationRefused || err instanceof WebhookHostUnresolved) {
        // Nothing was sent. A refusal is not retried (the address will not become public by waiting).
        await record({ status_code: null, error: err.message, duration_ms: durationMs, delivered: false });
        return err instanceof WebhookDestinationRefused
          ? { kind: 'refused', error: err.message }
          : { kind: 'failed', error: err.message, statusCode: null, unresolved: true };
      }
      error =
        err instanceof WebhookDeliveryTimeout || err instanceof WebhookDeliveryCanceled
          ? err.message
          : describeError(err, [hook.url, hook.token]);
    }
    const durationMs = Math.round(performance.now() - started);
    await record({ status_code: statusCode, error, duration_ms: durationMs, delivered: error === null });
    return error === null ? { kind: 'delivered', statusCode } : { kind: 'failed', error, statusCode };
  }
}
