// POST /applications/:id/redact: erases the applicant's personal data on request, with Stripe
// Identity's `redact` semantics (../redaction.ts says what is kept and what becomes "[redacted]").
// An application still open is canceled through its workflow first; a final one is redacted at
// once; asking again answers the same. The `application.redacted` event is recorded with the
// redaction and then delivered to the org's webhooks.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/client';
import { Router } from 'express';
import type { EngineDeps } from '../../platform/deps';
import { ApiError, conflict, notFound } from '../../platform/http/errors';
import { route, sendDocument } from '../../platform/http/jsonApi';
import { log } from '../../platform/log';
import { isDatabaseId } from '../../platform/database/ids';
import { eventIdsByDedupeKeys, hasEnabledWebhooks } from '../../webhooks/repository';
import { eventDeliveryWorkflowId } from '../../webhooks/workflows/eventDelivery';
import type { webhookDeliveryWorkflow } from '../../webhooks/workflows/webhookDelivery';
import { isTerminal } from '../domain';
import { cancelUpdate } from '../messages';
import { ApplicationStillOpen, applicationStatus, getAggregate, redactApplication, redactionEventKey } from '../repository';
import { executeApplicationUpdate, WorkflowRequestRefused, WorkflowUnavailable } from '../workflowClient';
import '../schemas/redaction';
import { applicationDocument } from './serialize';

/** The cancel reason of an application redacted while still open. */
export const REDACTION_CANCEL_REASON = 'redacted on request';

/** What every change asked of a redacted application is answered (it cannot be updated or used any more). */
export const refusedAsRedacted = (applicationId: string) =>
  conflict(`application ${applicationId} was redacted: its personal data is erased and it takes no more changes`, 'redacted');

export function redactionRoutes(deps: EngineDeps): Router {
  const router = Router();

  /** Cancels an open application through its workflow (the workflow closes its persons and its reminders). */
  async function cancelForRedaction(orgId: string, id: string): Promise<void> {
    try {
      await executeApplicationUpdate(deps, id, cancelUpdate, [{ reason: REDACTION_CANCEL_REASON }], `redact-${id}`);
    } catch (err) {
      if (err instanceof WorkflowUnavailable) throw new ApiError(503, 'Service Unavailable', err.message, { code: 'unavailable' });
      // Refused: it reached another final status meanwhile (approved, denied, its deadline). Redacted as it is.
      if (!(err instanceof WorkflowRequestRefused)) throw err;
      const status = await applicationStatus(deps.db, orgId, id);
      if (!status || !isTerminal(status)) throw conflict(`application ${id} could not be canceled: ${err.message}`, 'invalid_state');
    }
  }

  /** Starts the event's delivery, once per event (as a workflow's own delivery would); the event stays listed either way. */
  async function deliverRedactionEvent(orgId: string, id: string): Promise<void> {
    const [eventId] = await eventIdsByDedupeKeys(deps.db, orgId, [redactionEventKey(id)]);
    if (!eventId || !(await hasEnabledWebhooks(deps.db, orgId))) return;
    try {
      await deps.temporal.workflow.start<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
        taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
        workflowId: eventDeliveryWorkflowId(eventId),
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ eventId, orgId }],
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      // The redaction stands; asking again (or POST /events/:id) delivers the event.
      log.warn('could not start the delivery of application.redacted', { applicationId: id, eventId, error: (err as Error).message });
    }
  }

  router.post(
    '/applications/:applicationId/redact',
    route(async (req, res) => {
      const id = String(req.params.applicationId);
      const status = isDatabaseId(id) ? await applicationStatus(deps.db, req.orgId, id) : undefined;
      if (!status) throw notFound('application', id);
      // Stripe cancels a session still in progress before redacting it.
      if (!isTerminal(status)) await cancelForRedaction(req.orgId, id);
      let outcome;
      try {
        outcome = await redactApplication(deps.db, req.orgId, id);
      } catch (err) {
        if (err instanceof ApplicationStillOpen) throw conflict(err.message, 'invalid_state');
        throw err;
      }
      if (outcome === 'not_found') throw notFound('application', id);
      await deliverRedactionEvent(req.orgId, id);
      const agg = await getAggregate(deps.db, deps.config.keyRing, req.orgId, id);
      if (!agg) throw notFound('application', id);
      sendDocument(res, 200, applicationDocument(agg));
    }),
  );

  return router;
}
