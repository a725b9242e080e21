// API keys, the org's settings and new orgs: request and resource shapes (the OpenAPI document is made from these).
import { z } from 'zod';
import { JSON_API } from '../../platform/http/jsonApi';
import { registry } from '../../platform/openapi/registry';
import { GRANTABLE_SCOPES, OPERATOR_GRANTABLE_SCOPES, SCOPES, type Scope } from '../scopes';

const Name = z.string().trim().min(1).max(100);

const newKeyRequest = <S extends Scope>(grantable: readonly [S, ...S[]], whoElse: string) =>
  z.strictObject({
    data: z.strictObject({
      type: z.literal('apiKey'),
      attributes: z.strictObject({
        name: Name,
        scopes: z
          .array(z.enum(grantable, { message: `each scope is one of ${grantable.join(', ')} (${whoElse})` }))
          .min(1)
          .max(grantable.length),
        expiresAt: z.iso
          .datetime({ offset: true })
          .refine((v) => Date.parse(v) > Date.now(), 'must be in the future')
          .optional(),
      }),
    }),
  });

/** An org's admin issues its own keys; review keys come from the engine's operators. */
export const CreateApiKeyRequest = registry.register(
  'CreateApiKeyRequest',
  newKeyRequest(
    GRANTABLE_SCOPES,
    "review keys are issued by the engine's operators: npm run admin -- create-key, or POST /orgs/{id}/api-keys",
  ),
);
/** An operator issues a key for an org, review keys included. */
export const CreateOrgApiKeyRequest = registry.register(
  'CreateOrgApiKeyRequest',
  newKeyRequest(OPERATOR_GRANTABLE_SCOPES, 'operator keys come from the admin command'),
);

export const ApiKeyResource = registry.register(
  'ApiKey',
  z.object({
    type: z.literal('apiKey'),
    id: z.string(),
    attributes: z.object({
      name: z.string(),
      scopes: z.array(z.enum(SCOPES)),
      createdAt: z.string(),
      expiresAt: z.string().nullable(),
      revokedAt: z.string().nullable(),
      /** Only in the response that created the key: it is not stored and cannot be shown again. */
      token: z.string().optional(),
    }),
  }),
);

const Days = z.number().int().min(1).max(36_500).nullable();
const RetentionSchema = z
  .strictObject({
    imagesDays: Days.describe('Selfies, document photos and uploaded files are erased this many days after upload (default 90).'),
    resultsDays: Days.describe('Verification results (what was read from the document) are redacted this many days after the job.'),
    applicationsDays: Days.describe('A decided or canceled application is redacted this many days after its last change.'),
  })
  .describe('How long the org keeps each kind of data; null = until erased on request (POST /applications/{id}/redact).');

export const OrgResource = registry.register(
  'Org',
  z.object({
    type: z.literal('org'),
    id: z.string(),
    attributes: z.object({ name: z.string(), allowSelfReview: z.boolean(), retention: RetentionSchema, createdAt: z.string() }),
  }),
);

export const PatchOrgRequest = registry.register(
  'PatchOrgRequest',
  z.strictObject({
    data: z.strictObject({
      type: z.literal('org'),
      attributes: z.strictObject({
        /** Let a key that submitted an application review it too (off: separation of duties). */
        allowSelfReview: z.boolean().optional(),
        retention: RetentionSchema.partial().optional(),
      }),
    }),
  }),
);

export const CreateOrgRequest = registry.register(
  'CreateOrgRequest',
  z.strictObject({
    data: z.strictObject({ type: z.literal('org'), attributes: z.strictObject({ name: Name }) }),
  }),
);

const json = <T extends z.ZodType>(schema: T) => ({ content: { [JSON_API]: { schema } } });
const errors = { description: 'JSON:API errors' };
const KeyDocument = z.object({ data: ApiKeyResource });
const OrgDocument = z.object({ data: OrgResource });
const KeyId = z.object({ id: z.string() });

registry.registerPath({
  method: 'post',
  path: '/api-keys',
  tags: ['API keys'],
  summary: "Issue an API key (admin scope); the response carries the key's token, shown this once",
  request: { body: json(CreateApiKeyRequest) },
  responses: { 201: { description: 'The key with its token', ...json(KeyDocument) }, 400: errors, 403: errors },
});
registry.registerPath({
  method: 'get',
  path: '/api-keys',
  tags: ['API keys'],
  summary: "List the org's keys (never their tokens), newest first",
  responses: { 200: { description: 'Keys', ...json(z.object({ data: z.array(ApiKeyResource) })) }, 403: errors },
});
registry.registerPath({
  method: 'delete',
  path: '/api-keys/{id}',
  tags: ['API keys'],
  summary: 'Revoke a key (takes effect within 10 s on every API process)',
  request: { params: KeyId },
  responses: { 200: { description: 'The revoked key', ...json(KeyDocument) }, 404: errors },
});
registry.registerPath({
  method: 'post',
  path: '/api-keys/{id}/rotate',
  tags: ['API keys'],
  summary: 'A new token with the same name, scopes and expiry; the old key is revoked',
  request: { params: KeyId },
  responses: { 201: { description: 'The new key with its token', ...json(KeyDocument) }, 404: errors },
});
registry.registerPath({
  method: 'get',
  path: '/org',
  tags: ['Org'],
  summary: "The calling key's org and its settings (admin scope)",
  responses: { 200: { description: 'The org', ...json(OrgDocument) } },
});
registry.registerPath({
  method: 'patch',
  path: '/org',
  tags: ['Org'],
  summary: "Change the org's settings (admin scope)",
  request: { body: json(PatchOrgRequest) },
  responses: { 200: { description: 'The org', ...json(OrgDocument) }, 400: errors },
});
registry.registerPath({
  method: 'post',
  path: '/orgs/{id}/api-keys',
  tags: ['Org'],
  summary: 'Issue a key for an org, review keys included (operator scope); the token is shown this once',
  request: { params: KeyId, body: json(CreateOrgApiKeyRequest) },
  responses: { 201: { description: 'The key with its token', ...json(KeyDocument) }, 400: errors, 403: errors, 404: errors },
});
registry.registerPath({
  method: 'post',
  path: '/orgs',
  tags: ['Org'],
  summary: 'Create an org with its first admin key (operator scope); the key token is shown this once',
  request: { body: json(CreateOrgRequest) },
  responses: {
    201: {
      description: 'The org; its first key in `included`',
      ...json(z.object({ data: OrgResource, included: z.array(ApiKeyResource) })),
    },
    400: errors,
    403: errors,
  },
});
