// Events: what happened to an org's applications and documents, their delivery log, and
// redelivery on request. Every query is scoped to req.orgId (see ../repository).
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import type { EngineDeps } from '../../platform/deps';
import { deliveryResource, eventResource } from '../payload';
import type { webhookDeliveryWorkflow } from '../workflows/webhookDelivery';
import { notFound, parseOr400 } from '../../platform/http/errors';
import { pageParams, route, sendDocument } from '../../platform/http/jsonApi';
import { EventListFilter } from '../schemas/events';
import { isDatabaseId } from '../../platform/database/ids';
import { attemptsOfEvent, findEvent, listEvents } from '../repository';

export function eventRoutes(deps: EngineDeps): Router {
  const { db } = deps;
  const router = Router();

  const load = async (req: Request) => {
    const id = String(req.params.id);
    const row = isDatabaseId(id) ? await findEvent(db, req.orgId, id) : undefined;
    if (!row) throw notFound('event', id);
    return row;
  };

  router.get(
    '/events',
    route(async (req, res) => {
      const { limit, offset } = pageParams(req.query);
      const f = parseOr400(EventListFilter, req.query.filter ?? {}, 'filter', 'parameter');
      const { rows, total } = await listEvents(db, req.orgId, f, { limit, offset });
      sendDocument(res, 200, { data: rows.map(eventResource), meta: { pagination: { total, limit, offset } } });
    }),
  );

  router.get(
    '/events/:id',
    route(async (req, res) => {
      sendDocument(res, 200, { data: eventResource(await load(req)) });
    }),
  );

  router.get(
    '/events/:id/deliveries',
    route(async (req, res) => {
      const event = await load(req);
      const rows = await attemptsOfEvent(db, req.orgId, event.id);
      sendDocument(res, 200, { data: rows.map(deliveryResource) });
    }),
  );

  // Unit's `events.fire(id)`: deliver the event again to every enabled webhook.
  router.post(
    '/events/:id',
    route(async (req, res) => {
      const event = await load(req);
      await deps.temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
        taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
        workflowId: `event-${event.id}-redelivery-${randomUUID()}`,
        args: [{ eventId: String(event.id), orgId: req.orgId }],
      });
      sendDocument(res, 200, { data: eventResource(event) });
    }),
  );

  return router;
}
