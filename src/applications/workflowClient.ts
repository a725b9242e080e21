// The API's side of the application workflow: starting it (idempotently) and calling its updates.
import { ActivityFailure, WorkflowNotFoundError, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { ApiError, conflict } from '../api/errors';
import { durationMs } from '../config';
import type { EngineDeps } from '../deps';
import type { applicationWorkflow } from '../workflows/application';
import { applicationWorkflowId, type ApplicationWorkflowInput } from '../workflows/applicationTypes';
import { ApplicationIdKey, ApplicationStatusKey, ApplicationTypeKey, OrgIdKey } from '../workflows/searchAttributes';
import type { ApplicationRow } from './repository';

/**
 * Starts `application-<id>` unless it was already started (by an earlier attempt of the same
 * idempotent request, say). A closed workflow is never started again for the same application.
 */
export async function startApplicationWorkflow(deps: EngineDeps, app: ApplicationRow): Promise<void> {
  const input: ApplicationWorkflowInput = {
    applicationId: app.id,
    orgId: String(app.org_id),
    applicationType: app.type,
    awaitingDocumentsDeadlineMs: durationMs(deps.config.AWAITING_DOCUMENTS_DEADLINE),
    awaitingDocumentsReminderMs: durationMs(deps.config.AWAITING_DOCUMENTS_REMINDER),
  };
  try {
    await deps.temporal.workflow.start<typeof applicationWorkflow>('applicationWorkflow', {
      taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
      workflowId: applicationWorkflowId(app.id),
      args: [input],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      memo: { applicant: app.display_name },
      typedSearchAttributes: [
        { key: ApplicationStatusKey, value: 'Pending' },
        { key: ApplicationTypeKey, value: app.type },
        { key: OrgIdKey, value: String(app.org_id) },
        { key: ApplicationIdKey, value: app.id },
      ],
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return;
    throw err;
  }
}

/** Executes an update of the application workflow; a rejected update (validator) becomes a 409 with its reason. */
export async function executeApplicationUpdate<Ret, Args extends [unknown, ...unknown[]]>(deps: EngineDeps, applicationId: string, def: UpdateDefinition<Ret, Args>, args: Args, updateId?: string): Promise<Ret> {
  const handle = deps.temporal.workflow.getHandle(applicationWorkflowId(applicationId));
  try {
    // The same updateId twice (a client's double submit) runs once; the second gets the first's result.
    return await handle.executeUpdate(def, { args, ...(updateId ? { updateId } : {}) });
  } catch (err) {
    // The update ran but its activity kept failing (database down, say): not the client's fault.
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ActivityFailure) throw unavailable('the request could not be processed right now; retry it');
    if (err instanceof WorkflowUpdateFailedError) throw conflict(err.cause?.message ?? err.message, 'invalid_state');
    if (err instanceof WorkflowNotFoundError) throw conflict('the application is no longer being processed', 'invalid_state');
    const e = err as { name?: string; message?: string };
    if (e?.name === 'WorkflowNotFoundError' || /workflow execution already completed/i.test(e?.message ?? '')) throw conflict('the application is no longer being processed', 'invalid_state');
    throw err;
  }
}

export const unavailable = (detail: string) => new ApiError(503, 'Service Unavailable', detail, { code: 'unavailable' });
