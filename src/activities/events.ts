// Recording events: exactly one row per state transition, however often the activity is retried.
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely, Transaction } from 'kysely';
import type { Database } from '../../migrations/database';
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

/** Inserts the event unless its dedupe key was recorded before; returns the event's id either way. */
export async function recordEventIn(db: Kysely<Database> | Transaction<Database>, input: RecordEventInput): Promise<string> {
  const dedupeKey = `${input.orgId}:${input.dedupeKey}`;
  const inserted = await db.insertInto('events')
    .values({
      org_id: input.orgId,
      type: input.type,
      attributes: JSON.stringify(input.attributes ?? {}),
      relationships: JSON.stringify(input.relationships ?? {}),
      dedupe_key: dedupeKey,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return String(inserted.id);
  const row = await db.selectFrom('events').select(['id', 'type']).where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow();
  if (row.type !== input.type) {
    throw ApplicationFailure.nonRetryable(`dedupe key ${input.dedupeKey} was already used for a ${row.type} event`, 'EventDedupeKeyConflict');
  }
  return String(row.id);
}

/** Whether the org has a webhook that would receive application events (no delivery to schedule otherwise). */
export async function hasEnabledWebhooks(db: Kysely<Database> | Transaction<Database>, orgId: string): Promise<boolean> {
  const row = await db.selectFrom('webhooks').select('id').where('org_id', '=', orgId).where('status', '=', 'Enabled')
    .where('subscription_type', '!=', 'OnlyAuthorizationRequest').limit(1).executeTakeFirst();
  return row !== undefined;
}

export function createEventActivities(deps: Pick<ActivityDeps, 'db'> & Partial<ActivityDeps>) {
  const { db } = deps;
  return {
    async recordEvent(input: RecordEventInput): Promise<{ eventId: string }> {
      return { eventId: await recordEventIn(db, input) };
    },
  };
}
