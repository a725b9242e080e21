// The engine's stored personal data as a whole: what each capability seals (their repositories
// describe their own tables), brought together for the passes that walk all of it.
//  - encryptLegacyPlaintext: at start, after migrate — seals what rows from before migration 010
//    still hold in the clear and empties those columns (a no-op once done).
//  - rewrapStoredData: `npm run admin -- rewrap-data` after a key rotation — re-wraps every sealed
//    value whose data key is wrapped by a key other than the active one (the data itself is not
//    re-encrypted), and recomputes the identity index and request hashes (after a change of
//    IDENTITY_INDEX_KEY). Once it reports, the old key can leave DATA_ENCRYPTION_KEYS.
// Both are safe to run while the engine serves and from several processes at once.
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import type { KeyRing } from '../platform/crypto/keyRing';
import { rewrapColumn, type SealedColumn } from '../platform/crypto/sealedColumns';
import * as applications from '../applications/repository';
import * as verification from '../verification/job/repository';
import * as webhooks from '../webhooks/repository';

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  ...applications.SEALED_COLUMNS,
  ...verification.SEALED_COLUMNS,
  ...webhooks.SEALED_COLUMNS,
];

/** Seals every value still in the clear; returns how many rows changed (0 once everything is sealed). */
export async function encryptLegacyPlaintext(db: Kysely<Database>, ring: KeyRing): Promise<{ sealed: number }> {
  const counts = [
    await applications.sealLegacyApplicationData(db, ring),
    await verification.sealLegacyVerificationData(db, ring),
    await webhooks.sealLegacyWebhookTokens(db, ring),
  ];
  return { sealed: counts.reduce((a, b) => a + b, 0) };
}

/**
 * Moves every sealed value to the ring's active key. `rewrapped`: values re-wrapped;
 * `reindexed`: identity keys and request hashes recomputed because they differed.
 */
export async function rewrapStoredData(db: Kysely<Database>, ring: KeyRing): Promise<{ rewrapped: number; reindexed: number }> {
  let rewrapped = 0;
  for (const column of SEALED_COLUMNS) rewrapped += await rewrapColumn(db, ring, column);
  const reindexed = await applications.reindexApplications(db, ring);
  return { rewrapped, reindexed };
}
