// The API's side of the application and person workflows: starting them (idempotently) and
// calling their updates. Failures come back as the typed errors below; routes say them in HTTP.
import { ActivityFailure, WorkflowNotFoundError, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { WithStartWorkflowOperation, WorkflowUpdateFailedError } from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { durationMs } from '../platform/config';
import type { EngineDeps } from '../platform/deps';
import type { applicationWorkflow } from './workflows/application';
import { applicationWorkflowId, personWorkflowId } from './domain';
import { initialEvaluationUpdate, type ApplicationWorkflowInput } from './messages';
import { ApplicationIdKey, ApplicationStatusKey, ApplicationTypeKey, OrgIdKey } from '../platform/temporal/searchAttributes';
import type { ApplicationRow } from './repository';

/** Temporal could not say whether the workflow was started: keep what is stored, let the client retry. */
export class WorkflowStartUnknown extends Error {
  override name = 'WorkflowStartUnknown';
}

/** The workflow refused the update (its validator) or has ended: the request does not fit the application's state. */
export class WorkflowRequestRefused extends Error {
  override name = 'WorkflowRequestRefused';
}

/** The update was accepted but its activity kept failing (the database is down, say): not the client's fault. */
export class WorkflowUnavailable extends Error {
  override name = 'WorkflowUnavailable';
}

/** How long POST /applications waits for the initial evaluation before answering with Pending. */
const EVALUATION_WAIT_MS = 5_000;

/**
 * Starts `application-<id>` with its `initialEvaluation` update (update-with-start: one round
 * trip) and returns once the evaluation is recorded: 'evaluated'. 'started' when the workflow
 * runs but has not answered in time (no worker yet) or was started before (an idempotent
 * retry of the same request): the database then says how far it got. A closed workflow is
 * never started again for the same application. Throws when nothing could be started.
 */
export async function startApplicationWorkflow(deps: EngineDeps, app: ApplicationRow): Promise<'evaluated' | 'started'> {
  const input: ApplicationWorkflowInput = {
    applicationId: app.id,
    orgId: String(app.org_id),
    applicationType: app.type,
    awaitingDocumentsDeadlineMs: durationMs(deps.config.AWAITING_DOCUMENTS_DEADLINE),
    awaitingDocumentsReminderMs: durationMs(deps.config.AWAITING_DOCUMENTS_REMINDER),
    webhookTimeoutMs: deps.config.WEBHOOK_TIMEOUT_MS,
  };
  const workflowId = applicationWorkflowId(app.id);
  const startWorkflowOperation = new WithStartWorkflowOperation<typeof applicationWorkflow>('applicationWorkflow', {
    taskQueue: deps.config.TEMPORAL_TASK_QUEUE,
    workflowId,
    args: [input],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    memo: { applicant: app.display_name },
    typedSearchAttributes: [
      { key: ApplicationStatusKey, value: 'Pending' },
      { key: ApplicationTypeKey, value: app.type },
      { key: OrgIdKey, value: String(app.org_id) },
      { key: ApplicationIdKey, value: app.id },
    ],
  });
  try {
    await deps.temporal.withDeadline(Date.now() + EVALUATION_WAIT_MS, () =>
      deps.temporal.workflow.executeUpdateWithStart(initialEvaluationUpdate, { startWorkflowOperation }),
    );
    return 'evaluated';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'started';
    // Timed out waiting for a worker, or a workflow from before this update existed: it runs.
    // Only a definite "not found" means nothing was started (the caller may then clean up).
    const found = await deps.temporal.workflow
      .getHandle(workflowId)
      .describe()
      .then(
        () => true,
        (e) => (e instanceof WorkflowNotFoundError ? false : (e as Error)),
      );
    if (found === true) return 'started';
    if (found === false) throw err;
    throw new WorkflowStartUnknown(`${(err as Error)?.message}; then: ${found.message}`);
  }
}

/** Executes an update of the application workflow; a rejected update (validator) throws WorkflowRequestRefused with its reason. */
export async function executeApplicationUpdate<Ret, Args extends [unknown, ...unknown[]]>(
  deps: EngineDeps,
  applicationId: string,
  def: UpdateDefinition<Ret, Args>,
  args: Args,
  updateId?: string,
): Promise<Ret> {
  return executeUpdate(deps, applicationWorkflowId(applicationId), def, args, updateId);
}

/** The same for a person's workflow (verify-document goes to the person it concerns). */
export async function executePersonUpdate<Ret, Args extends [unknown, ...unknown[]]>(
  deps: EngineDeps,
  applicationId: string,
  personId: string,
  def: UpdateDefinition<Ret, Args>,
  args: Args,
  updateId?: string,
): Promise<Ret> {
  return executeUpdate(deps, personWorkflowId(applicationId, personId), def, args, updateId);
}

async function executeUpdate<Ret, Args extends [unknown, ...unknown[]]>(
  deps: EngineDeps,
  workflowId: string,
  def: UpdateDefinition<Ret, Args>,
  args: Args,
  updateId?: string,
): Promise<Ret> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  try {
    // The same updateId twice (a client's double submit) runs once; the second gets the first's result.
    return await handle.executeUpdate(def, { args, ...(updateId ? { updateId } : {}) });
  } catch (err) {
    // The update ran but its activity kept failing (database down, say): not the client's fault.
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ActivityFailure)
      throw new WorkflowUnavailable('the request could not be processed right now; retry it');
    if (err instanceof WorkflowUpdateFailedError) throw new WorkflowRequestRefused(err.cause?.message ?? err.message);
    const e = err as { name?: string; message?: string };
    if (
      err instanceof WorkflowNotFoundError ||
      e?.name === 'WorkflowNotFoundError' ||
      /workflow execution already completed/i.test(e?.message ?? '')
    ) {
      throw new WorkflowRequestRefused('the application is no longer being processed');
    }
    throw err;
  }
}
