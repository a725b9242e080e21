// Which documents a person must provide, from Unit's evaluationParams.
//   useSelfieVerification Never (default)   → an ID document: IdDocument (front + back) for a US person
//                                            (has an SSN), Passport for a non-US person
//   ReplaceIdentification                  → a SelfieVerification instead of the ID document
//   Always                                 → both
//   requireIdVerification: true            → the ID document is required in every case
import type { DocumentType, PersonRole } from '../domain';

export interface EvaluationParams {
  useSelfieVerification?: 'Never' | 'ReplaceIdentification' | 'Always';
  requireIdVerification?: boolean;
}

export function requiredDocumentTypes(params: EvaluationParams | undefined, usPerson: boolean): DocumentType[] {
  const mode = params?.useSelfieVerification ?? 'Never';
  const idDocument: DocumentType = usPerson ? 'IdDocument' : 'Passport';
  const types: DocumentType[] = [];
  if (mode !== 'ReplaceIdentification' || params?.requireIdVerification) types.push(idDocument);
  if (mode !== 'Never') types.push('SelfieVerification');
  return types;
}

export function personLabel(role: PersonRole, position: number, fullName: string): string {
  if (role === 'individual') return `Applicant (${fullName})`;
  if (role === 'officer') return `Officer (${fullName})`;
  return `Beneficial owner ${position} (${fullName})`;
}

const WHO: Record<PersonRole, string> = { individual: 'the applicant', officer: 'the officer', beneficialOwner: 'the beneficial owner' };

export function documentDescription(type: DocumentType, role: PersonRole): string {
  switch (type) {
    case 'IdDocument':
      return `Please provide a copy of ${WHO[role]}'s driver's license or state ID (front and back)`;
    case 'Passport':
      return `Please provide a copy of ${WHO[role]}'s passport`;
    case 'SelfieVerification':
      return `Please complete a selfie verification of ${WHO[role]} and submit the verification job`;
  }
}
