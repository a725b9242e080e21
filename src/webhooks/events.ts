// Recording events: exactly one row per state transition, however often the activity is retried.
import { ApplicationFailure } from '@temporalio/common';
import type { Kysely, SelectQueryBuilder, Transaction } from 'kysely';
import type { Database } from '../../migrations/database';
import type { ActivityDeps } from '../platform/deps';

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
  return (await recordEventForDelivery(db, input)).eventId;
}

/**
 * The same, and whether the org has a webhook to deliver it to — asked in the same statement,
 * as a workflow records an event to deliver it right after.
 */
export async function recordEventForDelivery(db: Kysely<Database> | Transaction<Database>, input: RecordEventInput): Promise<{ eventId: string; hasWebhooks: boolean }> {
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
    .returning((eb) => ['id', eb.exists(enabledWebhooks(eb.selectFrom('webhooks').select('webhooks.id'), input.orgId)).as('has_webhooks')])
    .executeTakeFirst();
  if (inserted) return { eventId: String(inserted.id), hasWebhooks: Boolean(inserted.has_webhooks) };
  const row = await db.selectFrom('events').select(['id', 'type']).where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow();
  if (row.type !== input.type) {
    throw ApplicationFailure.nonRetryable(`dedupe key ${input.dedupeKey} was already used for a ${row.type} event`, 'EventDedupeKeyConflict');
  }
  return { eventId: String(row.id), hasWebhooks: await hasEnabledWebhooks(db, input.orgId) };
}

/** Narrows a webhooks query to the org's webhooks that receive application events (Unit's OnlyAuthorizationRequest ones receive none). */
export function enabledWebhooks<O>(q: SelectQueryBuilder<Database, 'webhooks', O>, orgId: string): SelectQueryBuilder<Database, 'webhooks', O> {
  return q.where('webhooks.org_id', '=', orgId).where('webhooks.status', '=', 'Enabled')
    .where('webhooks.subscription_type', '!=', 'OnlyAuthorizationRequest');
}

/** Whether the org has a webhook that would receive application events (no delivery to schedule otherwise). */
export async function hasEnabledWebhooks(db: Kysely<Database> | Transaction<Database>, orgId: string): Promise<boolean> {
  return (await enabledWebhooks(db.selectFrom('webhooks').select('webhooks.id'), orgId).limit(1).executeTakeFirst()) !== undefined;
}

export function createEventActivities(deps: Pick<ActivityDeps, 'db'> & Partial<ActivityDeps>) {
  const { db } = deps;
  return {
    async recordEvent(input: RecordEventInput): Promise<{ eventId: string }> {
      return { eventId: await recordEventIn(db, input) };
    },
  };
}
