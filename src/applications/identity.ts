// Keys that recognise what was seen before without storing it: the identity index finds the same
// person on another application without a column holding their SSN or passport number; the
// request hash recognises the same POST /applications body again (idempotencyKey). Both are
// HMACs under the server's IDENTITY_INDEX_KEY: an unkeyed hash of a 9-digit SSN (or of a body
// whose only unknown is one) is reversed by trying every value.
import type { KeyRing } from '../platform/crypto/keyRing';

type IdentityIndex = Pick<KeyRing, 'identityIndex'>;

/** HMAC of the normalised SSN, or of nationality + passport number. */
export function identityKey(ring: IdentityIndex, p: { ssn?: unknown; passport?: unknown; nationality?: unknown }): string {
  const upper = (v: unknown) => String(v ?? '').toUpperCase();
  const raw = p.ssn ? `ssn:${String(p.ssn)}` : `passport:${upper(p.nationality)}:${upper(p.passport)}`;
  return ring.identityIndex(raw);
}

/** JSON with sorted keys: the same body hashes the same however its keys were ordered. */
const stable = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
};

/** The request's `data` ({type, attributes}) hashed: the same idempotencyKey with another body is a conflict. */
export const requestHash = (ring: IdentityIndex, data: unknown) => ring.identityIndex(`request:${stable(data)}`);
