// Webhooks: where an org's events are POSTed. Every query is scoped to req.orgId (see ../repository).
import { randomBytes } from 'node:crypto';
import { Router, type Request } from 'express';
import type { EngineDeps } from '../../platform/deps';
import { webhookResource } from '../payload';
import { notFound, parseOr400, ValidationError } from '../../platform/http/errors';
import { isObviouslyPrivate } from '../destinationPolicy';
import { pageParams, route, sendDocument } from '../../platform/http/jsonApi';
import { CreateWebhookRequest, PatchWebhookRequest, WebhookListFilter } from '../schemas/webhooks';
import { isDatabaseId } from '../../platform/database/ids';
import { findWebhook, insertWebhook, listWebhooks, updateWebhook } from '../repository';

export function webhookRoutes(deps: EngineDeps): Router {
  const { db } = deps;
  const router = Router();

  const load = async (req: Request) => {
    const id = String(req.params.id);
    const row = isDatabaseId(id) ? await findWebhook(db, req.orgId, id) : undefined;
    if (!row) throw notFound('webhook', id);
    return row;
  };

  const refusePrivateDestination = (url: string) => {
    if (!deps.config.WEBHOOK_ALLOW_PRIVATE_NETWORKS && isObviouslyPrivate(url)) {
      throw new ValidationError([
        {
          status: '400',
          title: 'Bad Request',
          code: 'invalid_field',
          source: { pointer: '/data/attributes/url' },
          detail: 'url: private, loopback and link-local destinations are not allowed (WEBHOOK_ALLOW_PRIVATE_NETWORKS=true allows them)',
        },
      ]);
    }
  };

  router.post(
    '/webhooks',
    route(async (req, res) => {
      const { attributes: a } = parseOr400(CreateWebhookRequest, req.body).data;
      refusePrivateDestination(a.url);
      const token = a.token ?? randomBytes(24).toString('base64url');
      const row = await insertWebhook(db, deps.config.keyRing, req.orgId, {
        label: a.label,
        url: a.url,
        token,
        content_type: a.contentType,
        delivery_mode: a.deliveryMode,
        include_resources: a.includeResources ?? false,
        subscription_type: a.subscriptionType ?? 'All',
      });
      // The token is shown here, once; it is stored sealed and masked in every other response.
      sendDocument(res, 201, { data: webhookResource(row, token) });
    }),
  );

  router.get(
    '/webhooks',
    route(async (req, res) => {
      const { limit, offset } = pageParams(req.query);
      const f = parseOr400(WebhookListFilter, req.query.filter ?? {}, 'filter', 'parameter');
      const { rows, total } = await listWebhooks(db, req.orgId, f, { limit, offset });
      sendDocument(res, 200, { data: rows.map((r) => webhookResource(r)), meta: { pagination: { total, limit, offset } } });
    }),
  );

  router.get(
    '/webhooks/:id',
    route(async (req, res) => {
      sendDocument(res, 200, { data: webhookResource(await load(req)) });
    }),
  );

  router.patch(
    '/webhooks/:id',
    route(async (req, res) => {
      const existing = await load(req);
      const { attributes: a } = parseOr400(PatchWebhookRequest, req.body).data;
      if (a.url !== undefined) refusePrivateDestination(a.url);
      const changes = {
        ...(a.label !== undefined && { label: a.label }),
        ...(a.url !== undefined && { url: a.url }),
        ...(a.token !== undefined && { token: a.token }),
        ...(a.contentType !== undefined && { content_type: a.contentType }),
        ...(a.includeResources !== undefined && { include_resources: a.includeResources }),
        ...(a.subscriptionType !== undefined && { subscription_type: a.subscriptionType }),
      };
      const row =
        Object.keys(changes).length === 0 ? existing : await updateWebhook(db, deps.config.keyRing, req.orgId, existing.id, changes);
      sendDocument(res, 200, { data: webhookResource(row, a.token) });
    }),
  );

  for (const [action, status] of [
    ['enable', 'Enabled'],
    ['disable', 'Disabled'],
  ] as const) {
    router.post(
      `/webhooks/:id/${action}`,
      route(async (req, res) => {
        const existing = await load(req);
        const row = await updateWebhook(db, deps.config.keyRing, req.orgId, existing.id, { status });
        sendDocument(res, 200, { data: webhookResource(row) });
      }),
    );
  }

  return router;
}
