// Workflow-side event emission: record the event (idempotent on its dedupe key), then start its
// delivery as an abandoned child workflow and return as soon as it has started, so a slow
// webhook receiver never delays the workflow that emitted the event.
import { deprecatePatch, ParentClosePolicy, proxyLocalActivities, startChild, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { createEventActivities } from '../activities';
import type { RecordEventInput } from '../repository';
import { eventDeliveryWorkflowId } from './eventDelivery';
import { LOCAL_DATABASE_ACTIVITIES_PATCH, webhookDeliveryWorkflow } from './webhookDelivery';

export type EmitEventInput = RecordEventInput;

// A short database write: a local activity, inside the workflow task that needs it.
const events = proxyLocalActivities<ReturnType<typeof createEventActivities>>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '1m' },
});

/** Deterministic; call from any workflow. Returns the event id. */
export async function emitEvent(input: EmitEventInput): Promise<string> {
  // Runs started before the patch was retired (see README, "Workflow versions") carry its marker.
  deprecatePatch(LOCAL_DATABASE_ACTIVITIES_PATCH);
  const { eventId } = await events.recordEvent(input);
  try {
    await startChild(webhookDeliveryWorkflow, {
      workflowId: eventDeliveryWorkflowId(eventId),
      args: [{ eventId, orgId: input.orgId }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // The same event (same dedupe key, e.g. after a workflow reset) is never delivered twice
      // automatically; POST /events/:id redelivers on request under another id.
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    });
  } catch (err) {
    if ((err as Error)?.name !== 'WorkflowExecutionAlreadyStartedError') throw err;
  }
  return eventId;
}

/** Emits one event from outside an application workflow (operations, tests). */
export async function emitEventWorkflow(input: EmitEventInput): Promise<string> {
  return emitEvent(input);
}
