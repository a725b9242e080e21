// Webhook requests and resources (Unit's shapes: the official SDK's Webhook types).
import { z } from 'zod';
import { JSON_API } from '../../platform/http/jsonApi';
import { registry } from '../../platform/openapi/registry';

export const WebhookContentType = z.enum(['Json', 'JsonAPI']);
export const WebhookDeliveryMode = z.enum(['AtMostOnce', 'AtLeastOnce']);
export const WebhookSubscriptionType = z.enum(['All', 'OnlyAuthorizationRequest', 'AllExceptAuthorizationRequest']);
export const WebhookStatus = z.enum(['Enabled', 'Disabled']);

function isHttpUrl(value: string): boolean {
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
  } catch {
    return false;
  }
}

const WebhookUrl = z.string().max(2048).refine(isHttpUrl, 'must be an absolute http:// or https:// URL');
const WebhookToken = z
  .string()
  .min(1)
  .max(256)
  .describe('Secret used to sign deliveries (X-Unit-Signature = base64 HMAC-SHA1 of the body). Generated when omitted.');
const Label = z.string().trim().min(1).max(255);

export const CreateWebhookRequest = registry.register(
  'CreateWebhookRequest',
  z.object({
    data: z.strictObject({
      type: z.literal('webhook'),
      attributes: z.strictObject({
        label: Label,
        url: WebhookUrl,
        token: WebhookToken.optional(),
        contentType: WebhookContentType,
        deliveryMode: WebhookDeliveryMode,
        includeResources: z.boolean().optional(),
        subscriptionType: WebhookSubscriptionType.optional(),
      }),
    }),
  }),
);
export type CreateWebhookRequest = z.infer<typeof CreateWebhookRequest>;

export const PatchWebhookRequest = registry.register(
  'PatchWebhookRequest',
  z.object({
    data: z.strictObject({
      type: z.literal('webhook'),
      attributes: z.strictObject({
        label: Label.optional(),
        url: WebhookUrl.optional(),
        token: WebhookToken.optional(),
        contentType: WebhookContentType.optional(),
        includeResources: z.boolean().optional(),
        subscriptionType: WebhookSubscriptionType.optional(),
      }),
    }),
  }),
);
export type PatchWebhookRequest = z.infer<typeof PatchWebhookRequest>;

export const WebhookResource = registry.register(
  'Webhook',
  z.object({
    type: z.literal('webhook'),
    id: z.string(),
    attributes: z.object({
      createdAt: z.string(),
      label: z.string(),
      url: z.string(),
      status: WebhookStatus,
      contentType: WebhookContentType,
      deliveryMode: WebhookDeliveryMode,
      includeResources: z.boolean(),
      subscriptionType: z.string(),
      token: z
        .string()
        .describe(
          'The signing secret, shown only in the response to the request that set it (create, or a PATCH with a token); `********` otherwise.',
        ),
    }),
  }),
);

export const Pagination = z.object({
  pagination: z.object({ total: z.number().int(), limit: z.number().int(), offset: z.number().int() }),
});
export const WebhookDocument = z.object({ data: WebhookResource });
export const WebhookListDocument = z.object({ data: z.array(WebhookResource), meta: Pagination });

export const WebhookIdParams = z.object({ id: z.string() });
export const WebhookListQuery = z.object({
  'page[limit]': z.coerce.number().int().min(1).max(1000).optional(),
  'page[offset]': z.coerce.number().int().min(0).optional(),
  'filter[since]': z.string().optional(),
  'filter[until]': z.string().optional(),
  'filter[fromId]': z.string().optional(),
  'filter[toId]': z.string().optional(),
});

/** Filters as express's extended query parser hands them over (`filter[since]=…` → filter.since). */
export const WebhookListFilter = z.object({
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
  fromId: z
    .string()
    .regex(/^\d{1,18}$/, 'must be an integer id')
    .optional(),
  toId: z
    .string()
    .regex(/^\d{1,18}$/, 'must be an integer id')
    .optional(),
});

const json = <T extends z.ZodType>(schema: T) => ({ content: { [JSON_API]: { schema } } });
const errors = { description: 'JSON:API errors' };
const tags = ['Webhooks'];

registry.registerPath({
  method: 'post',
  path: '/webhooks',
  tags,
  summary: 'Create a webhook',
  request: { body: json(CreateWebhookRequest) },
  responses: { 201: { description: 'Created', ...json(WebhookDocument) }, 400: errors },
});
registry.registerPath({
  method: 'get',
  path: '/webhooks',
  tags,
  summary: 'List webhooks',
  request: { query: WebhookListQuery },
  responses: { 200: { description: 'Webhooks, newest first', ...json(WebhookListDocument) }, 400: errors },
});
registry.registerPath({
  method: 'get',
  path: '/webhooks/{id}',
  tags,
  summary: 'Get a webhook',
  request: { params: WebhookIdParams },
  responses: { 200: { description: 'The webhook', ...json(WebhookDocument) }, 404: errors },
});
registry.registerPath({
  method: 'patch',
  path: '/webhooks/{id}',
  tags,
  summary: 'Update a webhook',
  request: { params: WebhookIdParams, body: json(PatchWebhookRequest) },
  responses: { 200: { description: 'The updated webhook', ...json(WebhookDocument) }, 400: errors, 404: errors },
});
registry.registerPath({
  method: 'post',
  path: '/webhooks/{id}/enable',
  tags,
  summary: 'Enable a webhook',
  request: { params: WebhookIdParams },
  responses: { 200: { description: 'The webhook', ...json(WebhookDocument) }, 404: errors },
});
registry.registerPath({
  method: 'post',
  path: '/webhooks/{id}/disable',
  tags,
  summary: 'Disable a webhook (it receives nothing until enabled)',
  request: { params: WebhookIdParams },
  responses: { 200: { description: 'The webhook', ...json(WebhookDocument) }, 404: errors },
});
