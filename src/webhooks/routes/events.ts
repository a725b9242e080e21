// Events: what happened to an org's applications and documents, their delivery log, and
// redelivery on request. Every query is scoped to req.orgId (see ../repository).
import { Router, type Request } from 'express';
import type { EngineDeps } from '../../platform/deps';
import { deliveryResource, eventResource } from '../payload';
import type { webhookDeliveryWorkflow } from '../workflows/webhookDelivery';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { ApiError, notFound, parseOr400 } from '../../platform/http/errors';
import { pageParams, route, sendDocument } from '../../platform/http/jsonApi';
import { EventListFilter } from '../schemas/events';
import { isDatabaseId } from '../../platform/database/ids';
import { attemptsOfEvent, findEvent, listEvents } from '../repository';
import { OrgIdKey } from '../../platform/temporal/searchAttributes';

/** How long a client is told to wait before asking for another redelivery of the same event. */
const REDELIVERY_RETRY_AFTER_S = 60;
const eventRedeliveryWorkflowId = (eventId: string) => `event-${eventId}-redelivery`;

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

  // Unit's `events.fire(id)`: deliver the event again to every enabled webhook. One redelivery
  // of an event runs at a time (each may retry for up to 24 h): asking again meanwhile is a 429.
  router.post(
    '/events/:id',
    route(async (req, res) => {
      const event = await load(req);
      // Counted in Temporal's visibility store (every API process sees the same count; it may lag a moment).
      const running = await deps.temporal.workflow.count(
        `WorkflowType = 'webhookDeliveryWorkflow' AND ExecutionStatus = 'Running' AND OrgId = '${Number(req.orgId)}'`,
      );
      if (running.count >= deps.config.REDELIVERIES_PER_ORG) {
        res.setHeader('Retry-After', String(REDELIVERY_RETRY_AFTER_S));
        throw new ApiError(
          429,
          'Too Many Requests',
          `${running.count} redeliveries of this org's events are running (at most ${deps.config.REDELIVERIES_PER_ORG}); ask again once some have finished`,
          { code: 'too_many_redeliveries' },
        );
      }
      try {
        await deps.temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
          taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
          workflowId: eventRedeliveryWorkflowId(String(event.id)),
          workflowIdConflictPolicy: 'FAIL',
          workflowIdReusePolicy: 'ALLOW_DUPLICATE',
          args: [{ eventId: String(event.id), orgId: req.orgId }],
          typedSearchAttributes: [{ key: OrgIdKey, value: req.orgId }],
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        res.setHeader('Retry-After', String(REDELIVERY_RETRY_AFTER_S));
        throw new ApiError(
          429,
          'Too Many Requests',
          `event ${event.id} is being redelivered already; see GET /events/${event.id}/deliveries`,
          {
            code: 'redelivery_in_progress',
          },
        );
      }
      sendDocument(res, 200, { data: eventResource(event) });
    }),
  );

  return router;
}
