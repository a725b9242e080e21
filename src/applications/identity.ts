// The key that finds the same person on another application without storing their SSN or
// passport number in a column of its own.
import { createHash } from 'node:crypto';

/** SHA-256 of the normalised SSN, or of nationality + passport number. */
export function identityKey(p: { ssn?: string; passport?: string; nationality?: string }): string {
  const raw = p.ssn ? `ssn:${p.ssn}` : `passport:${(p.nationality ?? '').toUpperCase()}:${(p.passport ?? '').toUpperCase()}`;
  return createHash('sha256').update(raw).digest('hex');
}
