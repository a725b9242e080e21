// Everything the API and the activities read and write about events, webhooks and delivery
// attempts. Every function takes the org id: another org's rows are simply not found.
import { ApplicationFailure } from '@temporalio/common';
import type { Insertable, Kysely, Selectable, SelectQueryBuilder, Transaction, Updateable } from 'kysely';
import type { Database, EventsTable, WebhookAttemptsTable, WebhooksTable } from '../../migrations/database';
import type { KeyRing } from '../platform/crypto/keyRing';
import { seal } from '../platform/crypto/envelope';
import { openSealed, type SealedColumn } from '../platform/crypto/sealedColumns';
import { reserveIds } from '../platform/database/sequences';

type Db = Kysely<Database> | Transaction<Database>;
export type EventRow = Selectable<EventsTable>;
type StoredWebhook = Selectable<WebhooksTable>;
/** A webhook as the API shows it: without its signing token. */
export type WebhookRow = Omit<StoredWebhook, 'token' | 'token_sealed'>;
/** A webhook with its signing token opened: for delivering only. */
export type DeliveryWebhook = WebhookRow & { token: string };
export type AttemptRow = Selectable<WebhookAttemptsTable>;

export interface Page {
  limit: number;
  offset: number;
}
export interface Listing<T> {
  rows: T[];
  total: number;
}

// --- Events: exactly one row per state transition, however often the activity is retried. ---

export interface RecordEventInput {
  orgId: string;
  /** e.g. 'application.approved' (the emitting capability names its types, e.g. EVENT in src/applications/domain.ts) */
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
 * as a workflow records an event to deliver it right after — and whether this call recorded it
 * (false: the dedupe key was there already, the change it announces was recorded before).
 */
export async function recordEventForDelivery(
  db: Kysely<Database> | Transaction<Database>,
  input: RecordEventInput,
): Promise<{ eventId: string; hasWebhooks: boolean; created: boolean }> {
  const dedupeKey = `${input.orgId}:${input.dedupeKey}`;
  const inserted = await db
    .insertInto('events')
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
  if (inserted) return { eventId: String(inserted.id), hasWebhooks: Boolean(inserted.has_webhooks), created: true };
  const row = await db.selectFrom('events').select(['id', 'type']).where('dedupe_key', '=', dedupeKey).executeTakeFirstOrThrow();
  if (row.type !== input.type) {
    throw ApplicationFailure.nonRetryable(
      `dedupe key ${input.dedupeKey} was already used for a ${row.type} event`,
      'EventDedupeKeyConflict',
    );
  }
  return { eventId: String(row.id), hasWebhooks: await hasEnabledWebhooks(db, input.orgId), created: false };
}

/** The ids of the org's events recorded under these dedupe keys (as passed to recordEventIn), oldest first. */
export async function eventIdsByDedupeKeys(db: Db, orgId: string, dedupeKeys: string[]): Promise<string[]> {
  if (dedupeKeys.length === 0) return [];
  const rows = await db
    .selectFrom('events')
    .select('id')
    .where('org_id', '=', orgId)
    .where(
      'dedupe_key',
      'in',
      dedupeKeys.map((k) => `${orgId}:${k}`),
    )
    .orderBy('id')
    .execute();
  return rows.map((r) => String(r.id));
}

export async function findEvent(db: Db, orgId: string, id: string): Promise<EventRow | undefined> {
  return db.selectFrom('events').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

export async function eventExists(db: Db, orgId: string, id: string): Promise<boolean> {
  return (await db.selectFrom('events').select('id').where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst()) !== undefined;
}

/** The org's events among `ids`, oldest first (the order they are delivered in). */
export async function eventsByIds(db: Db, orgId: string, ids: string[]): Promise<EventRow[]> {
  return db.selectFrom('events').selectAll().where('org_id', '=', orgId).where('id', 'in', ids).orderBy('id').execute();
}

/** `since` and `until` are RFC 3339 timestamps. */
export interface EventFilter {
  type?: string[];
  since?: string;
  until?: string;
}

/** Newest first. */
export async function listEvents(db: Db, orgId: string, f: EventFilter, page: Page): Promise<Listing<EventRow>> {
  let q = db.selectFrom('events').where('org_id', '=', orgId);
  if (f.type?.length) q = q.where('type', 'in', f.type);
  if (f.since) q = q.where('created_at', '>=', new Date(f.since) as never);
  if (f.until) q = q.where('created_at', '<', new Date(f.until) as never);
  const [rows, total] = await Promise.all([
    q.selectAll().orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

// --- Webhooks: the signing token is sealed (src/platform/crypto/envelope.ts), opened only to sign a delivery. ---

const tokenContext = (webhookId: unknown) => `webhooks.token:${String(webhookId)}`;

/** The sealed columns of this capability, for key rotation (src/engine/storedData.ts). */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  { table: 'webhooks', column: 'token_sealed', key: ['id'], context: (r) => tokenContext(r.id) },
];

const WEBHOOK_COLUMNS = [
  'id',
  'org_id',
  'label',
  'url',
  'content_type',
  'delivery_mode',
  'include_resources',
  'subscription_type',
  'status',
  'created_at',
] as const;

/** The token of a row read with its sealed (or, before migration 010, clear) token column. */
function withToken(ring: KeyRing, row: StoredWebhook): DeliveryWebhook {
  const { token, token_sealed, ...rest } = row;
  return { ...rest, token: token_sealed ? openSealed(ring, token_sealed, tokenContext(row.id)).toString('utf8') : (token ?? '') };
}

/** Narrows a webhooks query to the org's webhooks that receive application events (Unit's OnlyAuthorizationRequest ones receive none). */
export function enabledWebhooks<O>(
  q: SelectQueryBuilder<Database, 'webhooks', O>,
  orgId: string,
): SelectQueryBuilder<Database, 'webhooks', O> {
  return q
    .where('webhooks.org_id', '=', orgId)
    .where('webhooks.status', '=', 'Enabled')
    .where('webhooks.subscription_type', '!=', 'OnlyAuthorizationRequest');
}

/** Whether the org has a webhook that would receive application events (no delivery to schedule otherwise). */
export async function hasEnabledWebhooks(db: Kysely<Database> | Transaction<Database>, orgId: string): Promise<boolean> {
  return (await enabledWebhooks(db.selectFrom('webhooks').select('webhooks.id'), orgId).limit(1).executeTakeFirst()) !== undefined;
}

/** The webhooks an event of the org is delivered to, in id order. */
export async function listEnabledWebhooks(db: Db, orgId: string): Promise<WebhookRow[]> {
  return enabledWebhooks(db.selectFrom('webhooks').select(WEBHOOK_COLUMNS), orgId).orderBy('id').execute();
}

/** The same, with their signing tokens. */
export async function listWebhooksForDelivery(db: Db, ring: KeyRing, orgId: string): Promise<DeliveryWebhook[]> {
  const rows = await enabledWebhooks(db.selectFrom('webhooks').selectAll(), orgId).orderBy('id').execute();
  return rows.map((r) => withToken(ring, r));
}

export async function findWebhook(db: Db, orgId: string, id: string): Promise<WebhookRow | undefined> {
  return db.selectFrom('webhooks').select(WEBHOOK_COLUMNS).where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
}

/** The webhook with its signing token. */
export async function findWebhookForDelivery(db: Db, ring: KeyRing, orgId: string, id: string): Promise<DeliveryWebhook | undefined> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).where('org_id', '=', orgId).executeTakeFirst();
  return row && withToken(ring, row);
}

/** Not scoped: only for a delivery request that carries no org id (histories from before it did, direct calls). */
export async function findWebhookInAnyOrg(db: Db, ring: KeyRing, id: string): Promise<DeliveryWebhook | undefined> {
  const row = await db.selectFrom('webhooks').selectAll().where('id', '=', id).executeTakeFirst();
  return row && withToken(ring, row);
}

export type NewWebhook = Pick<
  Insertable<WebhooksTable>,
  'label' | 'url' | 'content_type' | 'delivery_mode' | 'include_resources' | 'subscription_type'
> & { token: string };
export type WebhookChanges = Pick<
  Updateable<WebhooksTable>,
  'label' | 'url' | 'content_type' | 'include_resources' | 'subscription_type' | 'status'
> & { token?: string };

/** Stores the webhook with its token sealed (under the id it gets, taken first). */
export async function insertWebhook(db: Db, ring: KeyRing, orgId: string, values: NewWebhook): Promise<WebhookRow> {
  const { token, ...settings } = values;
  const [id] = await reserveIds(db, 'webhooks', 1);
  return db
    .insertInto('webhooks')
    .values({ id, org_id: orgId, ...settings, token: null, token_sealed: seal(ring, Buffer.from(token, 'utf8'), tokenContext(id)) })
    .returning(WEBHOOK_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Throws when the webhook is not the org's (callers load it first). A new token is sealed. */
export async function updateWebhook(db: Db, ring: KeyRing, orgId: string, id: string, changes: WebhookChanges): Promise<WebhookRow> {
  const { token, ...settings } = changes;
  return db
    .updateTable('webhooks')
    .set({
      ...settings,
      ...(token !== undefined ? { token: null, token_sealed: seal(ring, Buffer.from(token, 'utf8'), tokenContext(id)) } : {}),
    })
    .where('id', '=', id)
    .where('org_id', '=', orgId)
    .returning(WEBHOOK_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** Seals the tokens of webhooks stored before migration 010 and empties the clear column. Returns how many. */
export async function sealLegacyWebhookTokens(db: Kysely<Database>, ring: KeyRing): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom('webhooks')
        .select(['id', 'token'])
        .where('token', 'is not', null)
        .orderBy('id')
        .limit(100)
        .forUpdate()
        .skipLocked()
        .execute();
      for (const w of rows) {
        await trx
          .updateTable('webhooks')
          .set({ token: null, token_sealed: seal(ring, Buffer.from(w.token!, 'utf8'), tokenContext(w.id)) })
          .where('id', '=', w.id)
          .execute();
      }
      return rows.length;
    });
    total += n;
    if (n < 100) return total;
  }
}

/** Ids are decimal strings (checked by the caller's schema); `since` and `until` are RFC 3339 timestamps. */
export interface WebhookFilter {
  since?: string;
  until?: string;
  fromId?: string;
  toId?: string;
}

/** Newest first. */
export async function listWebhooks(db: Db, orgId: string, f: WebhookFilter, page: Page): Promise<Listing<WebhookRow>> {
  let q = db.selectFrom('webhooks').where('org_id', '=', orgId);
  if (f.since) q = q.where('created_at', '>=', new Date(f.since) as never);
  if (f.until) q = q.where('created_at', '<', new Date(f.until) as never);
  if (f.fromId) q = q.where('id', '>=', f.fromId);
  if (f.toId) q = q.where('id', '<=', f.toId);
  const [rows, total] = await Promise.all([
    q.select(WEBHOOK_COLUMNS).orderBy('id', 'desc').limit(page.limit).offset(page.offset).execute(),
    q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

// --- Delivery attempts: one row per HTTP attempt (or refused destination), delivered or not. ---

/** An event's delivery log, oldest first. */
export async function attemptsOfEvent(db: Db, orgId: string, eventId: string): Promise<AttemptRow[]> {
  return db
    .selectFrom('webhook_attempts')
    .selectAll()
    .where('event_id', '=', eventId)
    .where('org_id', '=', orgId)
    .orderBy('id', 'asc')
    .execute();
}

/** What was tried already for these events (optionally: only for these webhooks). */
export async function loggedAttempts(
  db: Db,
  orgId: string,
  eventIds: string[],
  webhookIds?: string[],
): Promise<Pick<AttemptRow, 'event_id' | 'webhook_id' | 'delivered'>[]> {
  let q = db
    .selectFrom('webhook_attempts')
    .select(['event_id', 'webhook_id', 'delivered'])
    .where('org_id', '=', orgId)
    .where('event_id', 'in', eventIds);
  if (webhookIds) q = q.where('webhook_id', 'in', webhookIds);
  return q.execute();
}

export type AttemptOutcome = Pick<Insertable<WebhookAttemptsTable>, 'status_code' | 'error' | 'duration_ms' | 'delivered'>;

export async function insertAttempt(
  db: Db,
  orgId: string,
  row: Omit<Insertable<WebhookAttemptsTable>, 'id' | 'org_id' | 'created_at'>,
): Promise<void> {
  await db
    .insertInto('webhook_attempts')
    .values({ org_id: orgId, ...row })
    .execute();
}

/** Fills in the outcome of an attempt claimed before its request (see claimOnlyAttempt). */
export async function updateAttempt(db: Db, orgId: string, id: string, outcome: AttemptOutcome): Promise<void> {
  await db.updateTable('webhook_attempts').set(outcome).where('id', '=', id).where('org_id', '=', orgId).execute();
}

/**
 * Logs an AtMostOnce webhook's one attempt at an event *before* its request, unless one is
 * logged already (then: undefined, send nothing). The webhook's row lock makes concurrent
 * claimers (a timed-out attempt still running, the per-event hand-over) take turns.
 */
export async function claimOnlyAttempt(
  db: Kysely<Database>,
  orgId: string,
  webhookId: string,
  eventId: string,
): Promise<{ id: string } | undefined> {
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom('webhooks').select('id').where('id', '=', webhookId).where('org_id', '=', orgId).forUpdate().execute();
    const earlier = await trx
      .selectFrom('webhook_attempts')
      .select('id')
      .where('event_id', '=', eventId)
      .where('webhook_id', '=', webhookId)
      .where('org_id', '=', orgId)
      .limit(1)
      .executeTakeFirst();
    if (earlier) return undefined;
    return trx
      .insertInto('webhook_attempts')
      .values({
        org_id: orgId,
        event_id: eventId,
        webhook_id: webhookId,
        attempt: 1,
        status_code: null,
        error: 'sending',
        duration_ms: 0,
        delivered: false,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
  });
}
