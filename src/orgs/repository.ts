// Orgs and their API keys. A key's token is shown once and stored only as a SHA-256 hash (a token
// is 256 random bits: the hash needs no salt or stretching to resist guessing).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import { FIRST_KEY_SCOPES, isScope, type Scope } from './scopes';
import { isDatabaseId } from '../platform/database/ids';

export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
export const newApiToken = () => `v1.${randomBytes(32).toString('base64url')}`;

/** A live key as the API sees it: who is calling, for which org, allowed to do what. */
export interface ApiKeyIdentity {
  keyId: string;
  orgId: string;
  name: string;
  scopes: Scope[];
  expiresAt: Date | null;
}

export interface ApiKeyRecord extends ApiKeyIdentity {
  createdAt: Date;
  revokedAt: Date | null;
  createdByKeyId: string | null;
}

const KEY_COLUMNS = [
  'id',
  'org_id',
  'name',
  'scopes',
  'expires_at',
  'created_at',
  'revoked_at',
  'created_by_key_id',
  'token_hash',
] as const;
interface KeyRow {
  id: string;
  org_id: string;
  name: string;
  scopes: string[];
  expires_at: Date | null;
  created_at: Date;
  revoked_at: Date | null;
  created_by_key_id: string | null;
  token_hash: string;
}

const toRecord = (r: KeyRow): ApiKeyRecord => ({
  keyId: r.id,
  orgId: r.org_id,
  name: r.name,
  scopes: r.scopes.filter(isScope),
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
  createdByKeyId: r.created_by_key_id,
});

/** The live (not revoked, not expired) key with this token hash. */
export async function keyOfToken(db: Kysely<Database>, tokenHash: string, now = new Date()): Promise<ApiKeyIdentity | undefined> {
  const row = (await db.selectFrom('api_tokens').select(KEY_COLUMNS).where('token_hash', '=', tokenHash).executeTakeFirst()) as unknown as
    KeyRow | undefined;
  // The index found the row; the comparison that admits it takes the same time whatever the bytes.
  if (!row || !timingSafeEqual(Buffer.from(row.token_hash, 'hex'), Buffer.from(tokenHash, 'hex'))) return undefined;
  if (row.revoked_at || (row.expires_at && row.expires_at <= now)) return undefined;
  const { keyId, orgId, name, scopes, expiresAt } = toRecord(row);
  return { keyId, orgId, name, scopes, expiresAt };
}

/** A key of the org (live or not), or undefined. */
export async function findKey(db: Kysely<Database>, orgId: string, keyId: string): Promise<ApiKeyRecord | undefined> {
  if (!isDatabaseId(keyId)) return undefined;
  const row = await db.selectFrom('api_tokens').select(KEY_COLUMNS).where('org_id', '=', orgId).where('id', '=', keyId).executeTakeFirst();
  return row ? toRecord(row as unknown as KeyRow) : undefined;
}

/** The org's keys, newest first, revoked ones included (they say when). */
export async function listKeys(db: Kysely<Database>, orgId: string, page: { limit: number; offset: number }): Promise<ApiKeyRecord[]> {
  const rows = await db
    .selectFrom('api_tokens')
    .select(KEY_COLUMNS)
    .where('org_id', '=', orgId)
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  return (rows as unknown as KeyRow[]).map(toRecord);
}

export interface NewKey {
  name: string;
  scopes: Scope[];
  expiresAt?: Date | null;
  createdByKeyId?: string | null;
}

/** Issues a key; the token is returned here and never again. */
export async function createKey(
  db: Kysely<Database>,
  orgId: string,
  key: NewKey,
  token = newApiToken(),
): Promise<ApiKeyRecord & { token: string }> {
  const row = await db
    .insertInto('api_tokens')
    .values({
      org_id: orgId,
      name: key.name,
      description: key.name,
      scopes: [...new Set(key.scopes)],
      expires_at: key.expiresAt ?? null,
      created_by_key_id: key.createdByKeyId ?? null,
      token_hash: hashToken(token),
      revoked_at: null,
    })
    .returning(KEY_COLUMNS)
    .executeTakeFirstOrThrow();
  return { ...toRecord(row as unknown as KeyRow), token };
}

/** Revokes a key of the org (at once; API processes cache a key for at most 10 s). Already revoked: unchanged. */
export async function revokeKey(db: Kysely<Database>, orgId: string, keyId: string, now = new Date()): Promise<ApiKeyRecord | undefined> {
  if (!isDatabaseId(keyId)) return undefined;
  await db
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('org_id', '=', orgId)
    .where('id', '=', keyId)
    .where('revoked_at', 'is', null)
    .execute();
  return findKey(db, orgId, keyId);
}

/** A new token for the same name, scopes and expiry; the old key is revoked in the same transaction. */
export async function rotateKey(
  db: Kysely<Database>,
  orgId: string,
  keyId: string,
): Promise<(ApiKeyRecord & { token: string }) | undefined> {
  return db.transaction().execute(async (trx) => {
    const old = await findKey(trx, orgId, keyId);
    if (!old || old.revokedAt) return undefined;
    const fresh = await createKey(trx, orgId, { name: old.name, scopes: old.scopes, expiresAt: old.expiresAt, createdByKeyId: keyId });
    await revokeKey(trx, orgId, keyId);
    return fresh;
  });
}

/** Days each kind of data is kept; null: until erased on request. */
export interface RetentionSettings {
  imagesDays: number | null;
  resultsDays: number | null;
  applicationsDays: number | null;
}

export interface OrgRecord {
  orgId: string;
  name: string;
  allowSelfReview: boolean;
  retention: RetentionSettings;
  createdAt: Date;
}

const ORG_COLUMNS = [
  'id',
  'name',
  'allow_self_review',
  'created_at',
  'retention_images_days',
  'retention_results_days',
  'retention_applications_days',
] as const;

export async function findOrg(db: Kysely<Database>, orgId: string): Promise<OrgRecord | undefined> {
  if (!isDatabaseId(orgId)) return undefined;
  const row = await db.selectFrom('orgs').select(ORG_COLUMNS).where('id', '=', orgId).executeTakeFirst();
  return row && toOrg(row);
}

const toOrg = (
  row: { id: string; name: string; allow_self_review: boolean; created_at: unknown } & Record<`retention_${string}`, number | null>,
) => ({
  orgId: row.id,
  name: row.name,
  allowSelfReview: row.allow_self_review,
  retention: {
    imagesDays: row.retention_images_days,
    resultsDays: row.retention_results_days,
    applicationsDays: row.retention_applications_days,
  },
  createdAt: row.created_at as Date,
});

/** Every org with at least one retention period set (the retention sweep's work list). */
export async function orgsWithRetention(db: Kysely<Database>): Promise<OrgRecord[]> {
  const rows = await db
    .selectFrom('orgs')
    .select(ORG_COLUMNS)
    .where((eb) =>
      eb.or([
        eb('retention_images_days', 'is not', null),
        eb('retention_results_days', 'is not', null),
        eb('retention_applications_days', 'is not', null),
      ]),
    )
    .orderBy('id')
    .execute();
  return rows.map(toOrg);
}

export async function updateOrgSettings(
  db: Kysely<Database>,
  orgId: string,
  settings: { allowSelfReview?: boolean; retention?: Partial<RetentionSettings> },
): Promise<OrgRecord> {
  const r = settings.retention ?? {};
  const set = {
    ...(settings.allowSelfReview !== undefined ? { allow_self_review: settings.allowSelfReview } : {}),
    ...(r.imagesDays !== undefined ? { retention_images_days: r.imagesDays } : {}),
    ...(r.resultsDays !== undefined ? { retention_results_days: r.resultsDays } : {}),
    ...(r.applicationsDays !== undefined ? { retention_applications_days: r.applicationsDays } : {}),
  };
  if (Object.keys(set).length) await db.updateTable('orgs').set(set).where('id', '=', orgId).execute();
  return (await findOrg(db, orgId))!;
}

/** Creates an org with its first key (`applications` and `admin` unless told otherwise); the token is shown once. */
export async function createOrgWithKey(
  db: Kysely<Database>,
  name: string,
  firstKey: Partial<NewKey> & { token?: string } = {},
): Promise<{ org: OrgRecord; key: ApiKeyRecord & { token: string } }> {
  return db.transaction().execute(async (trx) => {
    const created = await trx.insertInto('orgs').values({ name }).returning('id').executeTakeFirstOrThrow();
    const key = await createKey(
      trx,
      created.id,
      { name: firstKey.name ?? 'first admin key', scopes: firstKey.scopes ?? FIRST_KEY_SCOPES, expiresAt: firstKey.expiresAt },
      firstKey.token,
    );
    return { org: (await findOrg(trx, created.id))!, key };
  });
}

/** BOOTSTRAP_API_TOKEN: on an empty database, a default org whose first key is that token. */
export async function bootstrapDefaultOrg(db: Kysely<Database>, token: string | undefined): Promise<string | null> {
  if (!token) return null;
  const any = await db.selectFrom('orgs').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  const { org } = await createOrgWithKey(db, 'Default org', { token, name: 'BOOTSTRAP_API_TOKEN' });
  return org.orgId;
}

/** Who submitted an application, and whether the org lets that key review it too. */
export async function reviewDuties(
  db: Kysely<Database>,
  orgId: string,
  applicationId: string,
): Promise<{ submittedByKeyId: string | null; allowSelfReview: boolean } | undefined> {
  const row = await db
    .selectFrom('applications as a')
    .innerJoin('orgs as o', 'o.id', 'a.org_id')
    .select(['a.submitted_by_key_id', 'o.allow_self_review'])
    .where('a.org_id', '=', orgId)
    .where('a.id', '=', applicationId)
    .executeTakeFirst();
  return row && { submittedByKeyId: row.submitted_by_key_id, allowSelfReview: row.allow_self_review };
}
