// The Temporal Schedule that runs the retention sweep every hour. Created (or brought back to
// this spec) when the API starts (src/api.ts, src/main.ts); overlapping runs are skipped, missed ones are not caught up
// (the next run erases what is due then).
import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';

export const RETENTION_SCHEDULE_ID = 'retention-sweep';

export async function ensureRetentionSchedule(client: Client, taskQueue: string, scheduleId = RETENTION_SCHEDULE_ID): Promise<void> {
  const options = {
    scheduleId,
    spec: { intervals: [{ every: '1h' }] },
    action: { type: 'startWorkflow' as const, workflowType: 'retentionSweepWorkflow', taskQueue, workflowId: `${scheduleId}-run` },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1h' },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule
      .getHandle(scheduleId)
      .update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: options.policies }));
  }
}
