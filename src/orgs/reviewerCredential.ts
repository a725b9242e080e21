// A review decides an application, so the workflow must know the reviewer is one the engine
// issued, not whatever an update sent through Temporal claims. The API, having checked the
// reviewer's key, gives the review update a credential: the decision it covers, signed with a
// key-ring key (HMAC-SHA256). The workflow has an activity check it (and that the key is still
// live and allowed to review this application) before it records the decision; an update
// without one, or with a forged or stale one, is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../platform/crypto/keyRing';

export interface ReviewGrant {
  orgId: string;
  applicationId: string;
  decision: 'Approved' | 'Denied';
  /** The reviewer: their API key's id. */
  keyId: string;
}

/** How long a credential stays good: the update is sent at once; this only bounds replays of a leaked one. */
export const CREDENTIAL_LIFETIME_MS = 15 * 60_000;

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

function mac(ring: KeyRing, ringKeyId: string, body: string): Buffer {
  return createHmac('sha256', ring.key(ringKeyId, 'reviewer-credential')).update(body).digest();
}

export function issueReviewerCredential(ring: KeyRing, grant: ReviewGrant, now = Date.now()): string {
  const body = encode({ ...grant, issuedAt: now, ringKeyId: ring.activeKeyId });
  return `${body}.${mac(ring, ring.activeKeyId, body).toString('base64url')}`;
}

export type CredentialCheck = { ok: true; grant: ReviewGrant } | { ok: false; error: string };

/** Whether the credential is the engine's, unexpired, and covers exactly this review. */
export function checkReviewerCredential(ring: KeyRing, credential: string, expected: ReviewGrant, now = Date.now()): CredentialCheck {
  const refused = (why: string): CredentialCheck => ({ ok: false, error: `the review's reviewer credential ${why}` });
  const [body, signature, extra] = credential.split('.');
  if (!body || !signature || extra !== undefined) return refused('is malformed');
  let claims: ReviewGrant & { issuedAt: number; ringKeyId: string };
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return refused('is malformed');
  }
  if (typeof claims?.ringKeyId !== 'string' || !ring.keyIds.includes(claims.ringKeyId)) return refused('was not issued by this engine');
  const want = mac(ring, claims.ringKeyId, body);
  const got = Buffer.from(signature, 'base64url');
  if (got.length !== want.length || !timingSafeEqual(got, want)) return refused('was not issued by this engine');
  if (typeof claims.issuedAt !== 'number' || now - claims.issuedAt > CREDENTIAL_LIFETIME_MS || claims.issuedAt - now > 60_000)
    return refused('has expired');
  for (const k of ['orgId', 'applicationId', 'decision', 'keyId'] as const)
    if (claims[k] !== expected[k]) return refused(`was issued for another ${k === 'keyId' ? 'reviewer' : k}`);
  return { ok: true, grant: expected };
}
