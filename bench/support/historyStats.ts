// "Where the time goes" on the Temporal side: for a sample of applications, the workflow
// histories of the application workflow and every workflow it started (person workflows,
// webhook-delivery workflows, recursively), counted per kind: workflow tasks, activities,
// child workflows, signals, updates, history events, and the time workflow and activity tasks
// spent queued (scheduled → started) versus running (started → completed).
import { Client, Connection } from '@temporalio/client';

export type WorkflowKind = 'application' | 'person' | 'delivery' | 'other';

export interface Counts {
  workflows: number;
  historyEvents: number;
  workflowTasks: number;
  activities: number;
  childWorkflows: number;
  signalsSent: number;
  signalsReceived: number;
  updates: number;
  timers: number;
  searchAttributeUpserts: number;
  /** sums (ms) of per-task latencies, for means */
  wftQueueMs: number;
  wftRunMs: number;
  actQueueMs: number;
  actRunMs: number;
  wftTimed: number;
  actTimed: number;
}

const zero = (): Counts => ({
  workflows: 0,
  historyEvents: 0,
  workflowTasks: 0,
  activities: 0,
  childWorkflows: 0,
  signalsSent: 0,
  signalsReceived: 0,
  updates: 0,
  timers: 0,
  searchAttributeUpserts: 0,
  wftQueueMs: 0,
  wftRunMs: 0,
  actQueueMs: 0,
  actRunMs: 0,
  wftTimed: 0,
  actTimed: 0,
});

const add = (a: Counts, b: Counts) => {
  for (const k of Object.keys(a) as (keyof Counts)[]) a[k] += b[k];
};

export const kindOf = (workflowId: string): WorkflowKind =>
  /^application-\d+-person-\d+$/.test(workflowId)
    ? 'person'
    : /^application-\d+$/.test(workflowId)
      ? 'application'
      : /^event-\d+-delivery$/.test(workflowId)
        ? 'delivery'
        : 'other';

const ms = (t: any): number => (t ? Number(t.seconds?.toString?.() ?? t.seconds ?? 0) * 1000 + Number(t.nanos ?? 0) / 1e6 : NaN);
const num = (v: any): number => Number(v?.toString?.() ?? v);

interface WorkflowStats {
  counts: Counts;
  children: string[];
}

function analyse(events: any[]): WorkflowStats {
  const c = zero();
  c.workflows = 1;
  c.historyEvents = events.length;
  const time = new Map<number, number>();
  const children: string[] = [];
  for (const e of events) {
    time.set(num(e.eventId), ms(e.eventTime));
    if (e.workflowTaskScheduledEventAttributes) c.workflowTasks += 1;
    else if (e.workflowTaskStartedEventAttributes) {
      const s = time.get(num(e.workflowTaskStartedEventAttributes.scheduledEventId));
      if (s !== undefined) {
        c.wftQueueMs += ms(e.eventTime) - s;
      }
    } else if (e.workflowTaskCompletedEventAttributes) {
      const s = time.get(num(e.workflowTaskCompletedEventAttributes.startedEventId));
      if (s !== undefined) {
        c.wftRunMs += ms(e.eventTime) - s;
        c.wftTimed += 1;
      }
    } else if (e.activityTaskScheduledEventAttributes) c.activities += 1;
    else if (e.activityTaskStartedEventAttributes) {
      const s = time.get(num(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (s !== undefined) c.actQueueMs += ms(e.eventTime) - s;
    } else if (e.activityTaskCompletedEventAttributes) {
      const s = time.get(num(e.activityTaskCompletedEventAttributes.startedEventId));
      if (s !== undefined) {
        c.actRunMs += ms(e.eventTime) - s;
        c.actTimed += 1;
      }
    } else if (e.startChildWorkflowExecutionInitiatedEventAttributes) {
      c.childWorkflows += 1;
      children.push(String(e.startChildWorkflowExecutionInitiatedEventAttributes.workflowId));
    } else if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) c.signalsSent += 1;
    else if (e.workflowExecutionSignaledEventAttributes) c.signalsReceived += 1;
    else if (e.workflowExecutionUpdateAcceptedEventAttributes) c.updates += 1;
    else if (e.timerStartedEventAttributes) c.timers += 1;
    else if (e.upsertWorkflowSearchAttributesEventAttributes) c.searchAttributeUpserts += 1;
  }
  return { counts: c, children };
}

export interface HistorySummary {
  sampled: number;
  /** mean per application, all workflows together */
  perApplication: Counts;
  /** mean per application, by workflow kind */
  byKind: Record<WorkflowKind, Counts>;
  errors: string[];
}

/** Histories of `application-<id>` for each id and everything it started; means per application. */
export async function summariseHistories(temporalAddress: string, namespace: string, applicationIds: string[]): Promise<HistorySummary> {
  const connection = await Connection.connect({ address: temporalAddress });
  const client = new Client({ connection, namespace });
  const total = zero();
  const byKind: Record<WorkflowKind, Counts> = { application: zero(), person: zero(), delivery: zero(), other: zero() };
  const errors: string[] = [];
  let sampled = 0;
  try {
    for (const appId of applicationIds) {
      const queue = [`application-${appId}`];
      const seen = new Set<string>();
      let ok = true;
      // Bounded: an application starts a handful of workflows (person + one delivery per event).
      while (queue.length > 0 && seen.size < 100) {
        const wid = queue.shift()!;
        if (seen.has(wid)) continue;
        seen.add(wid);
        try {
          const history = await client.workflow.getHandle(wid).fetchHistory();
          const s = analyse(history.events ?? []);
          add(total, s.counts);
          add(byKind[kindOf(wid)], s.counts);
          queue.push(...s.children);
        } catch (err) {
          ok = false;
          if (errors.length < 5) errors.push(`${wid}: ${(err as Error).message}`);
        }
      }
      if (ok) sampled += 1;
    }
  } finally {
    await connection.close();
  }
  const n = Math.max(1, applicationIds.length);
  const mean = (c: Counts): Counts => {
    const out = zero();
    for (const k of Object.keys(c) as (keyof Counts)[]) {
      out[k] = /Ms$/.test(k) || k === 'wftTimed' || k === 'actTimed' ? c[k] : c[k] / n;
    }
    return out;
  };
  return {
    sampled,
    perApplication: mean(total),
    byKind: {
      application: mean(byKind.application),
      person: mean(byKind.person),
      delivery: mean(byKind.delivery),
      other: mean(byKind.other),
    },
    errors,
  };
}
