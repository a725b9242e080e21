// Which submitted attributes are sealed instead of stored as JSON: SSNs, passport numbers and
// dates of birth, wherever a person sits in the application (the applicant, the officer, each
// beneficial owner, a power of attorney agent, any person a later schema adds). The JSON keeps
// the rest; the sealed part is the list of fields taken out, each with its path.
import type { ApplicationType, PersonRole } from './domain';

export const SENSITIVE_KEYS: ReadonlySet<string> = new Set(['ssn', 'passport', 'dateOfBirth']);

export interface SensitiveField {
  path: Array<string | number>;
  value: unknown;
}

const MAX_DEPTH = 16; // the request schemas are strict and far shallower

/** The attributes without their sensitive fields, and those fields. */
export function splitSensitive(attributes: Record<string, unknown>): { open: Record<string, unknown>; sensitive: SensitiveField[] } {
  const sensitive: SensitiveField[] = [];
  const walk = (value: unknown, path: Array<string | number>): unknown => {
    if (path.length > MAX_DEPTH) return value;
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (!value || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (SENSITIVE_KEYS.has(k) && (typeof v === 'string' || typeof v === 'number')) sensitive.push({ path: [...path, k], value: v });
      else out[k] = walk(v, [...path, k]);
    }
    return out;
  };
  return { open: walk(attributes, []) as Record<string, unknown>, sensitive };
}

/** The attributes as submitted: the sealed fields put back where they were taken from. */
export function mergeSensitive(open: Record<string, unknown>, sensitive: readonly SensitiveField[]): Record<string, unknown> {
  const out = structuredClone(open);
  for (const { path, value } of sensitive) {
    let node: Record<string | number, unknown> = out;
    for (const [i, step] of path.slice(0, -1).entries()) {
      node[step] ??= typeof path[i + 1] === 'number' ? [] : {};
      node = node[step] as Record<string | number, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

/** Where a person's attributes sit in the application's (as newApplication reads them: officer 0, owners from 1). */
export function personAttributesAt(
  type: ApplicationType,
  attributes: Record<string, unknown>,
  role: PersonRole,
  position: number,
): Record<string, unknown> | undefined {
  if (type === 'individualApplication') return role === 'individual' ? attributes : undefined;
  if (role === 'officer') return attributes.officer as Record<string, unknown> | undefined;
  if (role === 'beneficialOwner') return (attributes.beneficialOwners as Array<Record<string, unknown>> | undefined)?.[position - 1];
  return undefined;
}
