// Webhook delivery from the workflow that recorded the events: one activity per
// batch of events (a transition and what led to it), with a few quick retries. Only when those
// are used up does an event get a delivery workflow of its own (the long backoff of up to 24 h),
// so a healthy receiver costs one activity per transition instead of a workflow per event.
// Running the same batch again (a workflow reset) sends nothing a webhook already has.
import {
  ActivityFailure,
  log,
  ParentClosePolicy,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import type { createWebhookDeliveryActivities } from '../activities';
import { webhookDeliveryWorkflow } from './webhookDelivery';

type DeliveryActivities = ReturnType<typeof createWebhookDeliveryActivities>;

/** Quick retries before handing over: attempts at about 0, 1, 3 and 7 s. */
const QUICK_RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 4 } as const;
const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;

/** The id of an event's own delivery workflow: one per event, so it is never delivered twice automatically. */
export function eventDeliveryWorkflowId(eventId: string): string {
  return `event-${eventId}-delivery`;
}

export interface DeliverOptions {
  /** false: the org has no webhook to deliver to, skip the activity (default true). */
  hasWebhooks?: boolean;
  /**
   * The workflow's final transition: nothing waits for its next task any more, so the delivery
   * runs as a local activity in the current task instead of a round trip through the server;
   * while the application is open an ordinary activity keeps a slow receiver from delaying the
   * workflow (default false).
   */
  final?: boolean;
}

export class EventDelivery {
  private readonly pending: Promise<void>[] = [];

  constructor(
    private readonly orgId: string,
    private readonly webhookTimeoutMs = DEFAULT_WEBHOOK_TIMEOUT_MS,
  ) {}

  /** Starts delivering; does not wait (see `settled`). */
  deliver(eventIds: string[], { hasWebhooks = true, final = false }: DeliverOptions = {}): void {
    if (eventIds.length === 0 || !hasWebhooks) return;
    // Each webhook gets the batch's events one after another, each bounded by the HTTP timeout.
    const options = { startToCloseTimeout: eventIds.length * this.webhookTimeoutMs + 5_000, retry: QUICK_RETRY };
    const { deliverEvents } = final ? proxyLocalActivities<DeliveryActivities>(options) : proxyActivities<DeliveryActivities>(options);
    this.pending.push(
      deliverEvents({ orgId: this.orgId, eventIds }).then(
        () => undefined,
        (err) => this.handOver(eventIds, err),
      ),
    );
  }

  /** Resolves once every batch was delivered or handed over to its own delivery workflow. */
  async settled(): Promise<void> {
    while (this.pending.length) await this.pending.shift();
  }

  private async handOver(eventIds: string[], err: unknown): Promise<void> {
    if (!(err instanceof ActivityFailure)) throw err;
    log.warn('webhook delivery handed over to per-event workflows', { eventIds, reason: err.cause?.message ?? err.message });
    for (const eventId of eventIds) {
      try {
        await startChild(webhookDeliveryWorkflow, {
          workflowId: eventDeliveryWorkflowId(eventId),
          args: [{ eventId, orgId: this.orgId, continueAttempts: true }],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (e) {
        if ((e as Error)?.name !== 'WorkflowExecutionAlreadyStartedError') throw e;
      }
    }
  }
}
