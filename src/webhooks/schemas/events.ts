// Event resources (Unit's shape) and their delivery log.
import { z } from 'zod';
import { JSON_API } from '../../platform/http/jsonApi';
import { registry } from '../../platform/openapi/registry';
import { Pagination } from './webhooks';

const RelationshipData = z.object({ type: z.string(), id: z.string() });

export const EventResource = registry.register(
  'Event',
  z.object({
    type: z.string().describe('e.g. application.approved, document.rejected, application.documentsReminder, application.redacted'),
    id: z.string(),
    attributes: z.object({ createdAt: z.string() }).catchall(z.unknown()),
    relationships: z.record(z.string(), z.object({ data: RelationshipData })),
  }),
);

export const EventDocument = z.object({ data: EventResource });
export const EventListDocument = z.object({ data: z.array(EventResource), meta: Pagination });

export const WebhookDeliveryResource = registry.register(
  'WebhookDelivery',
  z.object({
    type: z.literal('webhookDelivery'),
    id: z.string(),
    attributes: z.object({
      createdAt: z.string(),
      attempt: z.number().int().describe('Attempt number within one delivery run (1 = first try)'),
      delivered: z.boolean(),
      statusCode: z.number().int().nullable(),
      error: z.string().nullable(),
      durationMs: z.number().int(),
    }),
    relationships: z.object({ event: z.object({ data: RelationshipData }), webhook: z.object({ data: RelationshipData }) }),
  }),
);
export const WebhookDeliveryListDocument = z.object({ data: z.array(WebhookDeliveryResource) });

/** The body POSTed to webhooks, signed in X-Unit-Signature. */
export const WebhookPayload = registry.register('WebhookPayload', z.object({ data: z.array(EventResource) }));

const stringOrList = z
  .union([z.string(), z.array(z.string()), z.record(z.string(), z.string())])
  .transform((v) => (typeof v === 'string' ? [v] : Array.isArray(v) ? v : Object.values(v)));

/** Filters as express's extended query parser hands them over (`filter[type][0]=…` → filter.type). */
export const EventListFilter = z.object({
  type: stringOrList.optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

export const EventIdParams = z.object({ id: z.string() });
export const EventListQuery = z.object({
  'page[limit]': z.coerce.number().int().min(1).max(1000).optional(),
  'page[offset]': z.coerce.number().int().min(0).optional(),
  'filter[type][]': z.array(z.string()).optional().describe('Only events of these types'),
  'filter[since]': z.string().optional().describe('RFC 3339; events created at or after'),
  'filter[until]': z.string().optional().describe('RFC 3339; events created before'),
});

const json = <T extends z.ZodType>(schema: T) => ({ content: { [JSON_API]: { schema } } });
const errors = { description: 'JSON:API errors' };
const tags = ['Events'];

registry.registerPath({
  method: 'get',
  path: '/events',
  tags,
  summary: 'List events, newest first',
  request: { query: EventListQuery },
  responses: { 200: { description: 'Events', ...json(EventListDocument) }, 400: errors },
});
registry.registerPath({
  method: 'get',
  path: '/events/{id}',
  tags,
  summary: 'Get an event',
  request: { params: EventIdParams },
  responses: { 200: { description: 'The event', ...json(EventDocument) }, 404: errors },
});
registry.registerPath({
  method: 'post',
  path: '/events/{id}',
  tags,
  summary: 'Fire an event again to every enabled webhook',
  request: { params: EventIdParams },
  responses: { 200: { description: 'The event; delivery runs in the background', ...json(EventDocument) }, 404: errors },
});
registry.registerPath({
  method: 'get',
  path: '/events/{id}/deliveries',
  tags,
  summary: 'Every HTTP attempt to deliver the event, oldest first',
  request: { params: EventIdParams },
  responses: { 200: { description: 'Delivery attempts', ...json(WebhookDeliveryListDocument) }, 404: errors },
});
registry.registerWebhook({
  method: 'post',
  path: 'event',
  summary: 'An event, POSTed to each enabled webhook',
  description:
    'Content-Type application/json (contentType Json) or application/vnd.api+json (JsonAPI). Header X-Unit-Signature: base64 HMAC-SHA1 of the raw body keyed with the webhook token. Answer 2xx; AtLeastOnce webhooks are retried with exponential backoff for up to 24 h.',
  request: { body: { content: { 'application/json': { schema: WebhookPayload } } } },
  responses: { 200: { description: 'Any 2xx acknowledges the delivery' } },
});
