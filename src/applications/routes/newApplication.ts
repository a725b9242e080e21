// How a validated POST /applications body becomes the application the repository stores.
import type { KeyRing } from '../../platform/crypto/keyRing';
import { identityKey, requestHash } from '../identity';
import type { NewApplication, NewPerson } from '../repository';
import type { BusinessAttributes, CreateApplicationRequest, IndividualAttributes } from '../schemas/applications';

type PersonAttributes = IndividualAttributes | BusinessAttributes['officer'] | BusinessAttributes['beneficialOwners'][number];

export const fullNameOf = (n: { first: string; last: string }) => `${n.first} ${n.last}`;

const person = (ring: KeyRing, role: NewPerson['role'], position: number, a: PersonAttributes): NewPerson => ({
  role,
  position,
  fullName: fullNameOf(a.fullName),
  dateOfBirth: a.dateOfBirth,
  identityKey: identityKey(ring, a),
  usPerson: !!a.ssn,
  evaluationParams: a.evaluationParams ?? {},
});

/** `ring`: the identity index and the request hash are keyed (see ../identity.ts). */
export function newApplication(data: CreateApplicationRequest['data'], ring: KeyRing): NewApplication {
  const common = {
    attributes: data.attributes as Record<string, unknown>,
    tags: data.attributes.tags ?? {},
    idempotencyKey: data.attributes.idempotencyKey ?? null,
    requestHash: requestHash(ring, data),
  };
  if (data.type === 'individualApplication') {
    return {
      ...common,
      type: data.type,
      displayName: fullNameOf(data.attributes.fullName),
      email: data.attributes.email,
      persons: [person(ring, 'individual', 0, data.attributes)],
    };
  }
  return {
    ...common,
    type: data.type,
    displayName: data.attributes.name,
    email: data.attributes.contact.email,
    persons: [
      person(ring, 'officer', 0, data.attributes.officer),
      ...data.attributes.beneficialOwners.map((bo, i) => person(ring, 'beneficialOwner', i + 1, bo)),
    ],
  };
}
