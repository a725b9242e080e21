// What erasing an applicant on request leaves of their application (Stripe Identity's `redact`):
// the application stays readable in the API with its ids, status, decision, reason codes and
// timestamps, but every field that holds personal data reads REDACTED (a string field, or each
// string of a name, address or phone, so the resource keeps its shape), lists of personal data
// are emptied, tags (the partner's metadata) are erased, and SSNs, passport numbers and dates of
// birth are gone. Pure: the repository applies it in one transaction (redactApplication).
import { SENSITIVE_KEYS } from './sensitiveAttributes';

export const REDACTED = '[redacted]';

/** Fields that hold personal data, at any depth (the applicant, a business's contact, officer and owners, an agent). */
const PERSONAL_KEYS: ReadonlySet<string> = new Set([
  'fullName',
  'name',
  'dba',
  'address',
  'phone',
  'email',
  'nationality',
  'jwtSubject',
  'ip',
  'ein',
  'website',
]);
/** Removed outright: identification and dates of birth (sealed, and erased with their column), the partner's idempotency key. */
const REMOVED_KEYS: ReadonlySet<string> = new Set([...SENSITIVE_KEYS, 'idempotencyKey']);
/** Emptied: device fingerprints are a list of personal data, tags the partner's metadata. */
const EMPTIED: Readonly<Record<string, () => unknown>> = { deviceFingerprints: () => [], tags: () => ({}) };

const MAX_DEPTH = 16; // the request schemas are strict and far shallower

/** A personal value replaced: strings (at any depth inside it) become REDACTED, the rest null. */
function placeholder(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return REDACTED;
  if (Array.isArray(value)) return value.map((v) => placeholder(v, depth + 1));
  if (value && typeof value === 'object' && depth < MAX_DEPTH)
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, placeholder(v, depth + 1)]));
  return null;
}

/** The submitted attributes (`applications.attributes`) as a redacted application keeps them. */
export function redactAttributes(attributes: Record<string, unknown>): Record<string, unknown> {
  const walk = (value: unknown, depth: number): unknown => {
    if (depth > MAX_DEPTH) return null;
    if (Array.isArray(value)) return value.map((v) => walk(v, depth + 1));
    if (!value || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (REMOVED_KEYS.has(k)) continue;
      if (k in EMPTIED) out[k] = EMPTIED[k]();
      else if (PERSONAL_KEYS.has(k)) out[k] = v === null || v === undefined ? v : placeholder(v);
      else out[k] = walk(v, depth + 1);
    }
    return out;
  };
  return walk(attributes, 0) as Record<string, unknown>;
}

/** Every person's name in the attributes (fullName objects at any depth) and the persons' stored names. */
export function namesIn(attributes: Record<string, unknown>, storedNames: readonly string[]): string[] {
  const names = new Set<string>(storedNames);
  const walk = (value: unknown, depth: number) => {
    if (depth > MAX_DEPTH || !value || typeof value !== 'object') return;
    if (Array.isArray(value)) return value.forEach((v) => walk(v, depth + 1));
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (k === 'fullName' && v && typeof v === 'object') {
        const { first, last } = v as { first?: unknown; last?: unknown };
        for (const part of [first, last]) if (typeof part === 'string') names.add(part);
        if (typeof first === 'string' && typeof last === 'string') names.add(`${first} ${last}`);
      } else walk(v, depth + 1);
    }
  };
  walk(attributes, 0);
  return [...names].map((n) => n.trim()).filter((n) => n.length >= 2 && n !== REDACTED);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A reason text with every name in it replaced by REDACTED: the engine's reasons name the person
 * ("Beneficial owner 2 (Jane Doe): selfie_face_mismatch"), a reviewer's may too. Whole words
 * only, longest names first, any case.
 */
export function withoutNames(text: string | null, names: readonly string[]): string | null {
  if (!text || !names.length) return text;
  const alternatives = [...names].sort((a, b) => b.length - a.length).map(escape);
  return text.replace(new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`, 'giu'), REDACTED);
}
