// How stored events and webhooks look on the wire (Unit's shapes), shared by the API and the
// delivery activity so a delivered event and GET /events/:id are the same resource.
import type { Selectable } from 'kysely';
import type { EventsTable, WebhookAttemptsTable } from '../../migrations/database';
import type { WebhookRow } from './repository';

export interface EventResource {
  type: string;
  id: string;
  attributes: { createdAt: string } & Record<string, unknown>;
  relationships: Record<string, unknown>;
}

// Generated<Timestamp> columns select as Date (pg) but are typed loosely by the schema.
const iso = (d: unknown) => (d instanceof Date ? d : new Date(String(d))).toISOString();

export function eventResource(
  row: Pick<Selectable<EventsTable>, 'id' | 'type' | 'attributes' | 'relationships' | 'created_at'>,
): EventResource {
  const { createdAt: _ignored, ...attributes } = (row.attributes ?? {}) as Record<string, unknown>;
  return {
    type: row.type,
    id: String(row.id),
    attributes: { createdAt: iso(row.created_at), ...attributes },
    relationships: row.relationships ?? {},
  };
}

/** The body POSTed to a webhook: Unit sends the same document for both content types. */
export function webhookBody(event: EventResource): { data: EventResource[] } {
  return { data: [event] };
}

export const WEBHOOK_CONTENT_TYPES = { Json: 'application/json', JsonAPI: 'application/vnd.api+json' } as const;

/** What a webhook's `token` shows except in the response to the request that set it. */
export const MASKED_WEBHOOK_TOKEN = '********';

/**
 * `token`: given only in the response to the request that set it (the create, a PATCH with a new
 * token); every other response shows MASKED_WEBHOOK_TOKEN. Unit's Webhook resource has the field;
 * the engine stores the secret sealed and never shows it again.
 */
export function webhookResource(row: WebhookRow, token?: string) {
  return {
    type: 'webhook' as const,
    id: String(row.id),
    attributes: {
      createdAt: iso(row.created_at),
      label: row.label,
      url: row.url,
      status: row.status,
      contentType: row.content_type,
      deliveryMode: row.delivery_mode,
      includeResources: row.include_resources,
      subscriptionType: row.subscription_type,
      token: token ?? MASKED_WEBHOOK_TOKEN,
    },
  };
}

export function deliveryResource(row: Selectable<WebhookAttemptsTable>) {
  return {
    type: 'webhookDelivery' as const,
    id: String(row.id),
    attributes: {
      createdAt: iso(row.created_at),
      attempt: row.attempt,
      delivered: row.delivered,
      statusCode: row.status_code,
      error: row.error,
      durationMs: row.duration_ms,
    },
    relationships: {
      event: { data: { type: 'event', id: String(row.event_id) } },
      webhook: { data: { type: 'webhook', id: String(row.webhook_id) } },
    },
  };
}
