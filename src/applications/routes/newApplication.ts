// How a validated POST /applications body becomes the application the repository stores.
import { createHash } from 'node:crypto';
import { identityKey } from '../identity';
import type { NewApplication, NewPerson } from '../repository';
import type { BusinessAttributes, CreateApplicationRequest, IndividualAttributes } from '../schemas/applications';

type PersonAttributes = IndividualAttributes | BusinessAttributes['officer'] | BusinessAttributes['beneficialOwners'][number];

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
export const requestHash = (data: unknown) => createHash('sha256').update(stable(data)).digest('hex');

export const fullNameOf = (n: { first: string; last: string }) => `${n.first} ${n.last}`;

const person = (role: NewPerson['role'], position: number, a: PersonAttributes): NewPerson => ({
  role,
  position,
  fullName: fullNameOf(a.fullName),
  dateOfBirth: a.dateOfBirth,
  identityKey: identityKey(a),
  usPerson: !!a.ssn,
  evaluationParams: a.evaluationParams ?? {},
});

export function newApplication(data: CreateApplicationRequest['data']): NewApplication {
  const common = {
    attributes: data.attributes as Record<string, unknown>,
    tags: data.attributes.tags ?? {},
    idempotencyKey: data.attributes.idempotencyKey ?? null,
    requestHash: requestHash(data),
  };
  if (data.type === 'individualApplication') {
    return {
      ...common,
      type: data.type,
      displayName: fullNameOf(data.attributes.fullName),
      email: data.attributes.email,
      persons: [person('individual', 0, data.attributes)],
    };
  }
  return {
    ...common,
    type: data.type,
    displayName: data.attributes.name,
    email: data.attributes.contact.email,
    persons: [
      person('officer', 0, data.attributes.officer),
      ...data.attributes.beneficialOwners.map((bo, i) => person('beneficialOwner', i + 1, bo)),
    ],
  };
}
