// Recording events: exactly one row per state transition, however often the activity is retried.
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityDeps } from './index';

export interface RecordEventInput {
  orgId: string;
  /** e.g. 'application.approved' (see src/webhooks/eventTypes.ts) */
  type: string;
  attributes: Record<string, unknown>;
  relationships: Record<string, unknown>;
  /** Identifies the transition, e.g. `application-42-approved`; namespaced per org when stored. */
  dedupeKey: string;
}

export function createEventActivities(deps: Pick<ActivityDeps, 'db'> & Partial<ActivityDeps>) {
  const { db } = deps;
  return {
    async recordEvent(input: RecordEventInput): Promise<{ eventId: string }> {
      const dedupeKey = `${input.orgId}:${input.dedupeKey}`;
      await db.insertInto('events')
        .values({
          org_id: input.orgId,
          type: input.type,
          attributes: JSON.stringify(input.attributes ?? {}),
          relationships: JSON.stringify(input.relationships ?? {}),
          dedupe_key: dedupeKey,
        })
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .execute();
      const row = await db.selectFrom('events').select(['id', 'type']).where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow();
      if (row.type !== input.type) {
        throw ApplicationFailure.nonRetryable(`dedupe key ${input.dedupeKey} was already used for a ${row.type} event`, 'EventDedupeKeyConflict');
      }
      return { eventId: String(row.id) };
    },
  };
}
