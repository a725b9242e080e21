// The initial evaluation of an application: pure rules over facts the activity gathers.
// Override any rule by passing a partial rules object; defaults follow Unit's behaviour.
import type { ApplicationStatus } from '../domain';

export interface EvaluationRules {
  /** Persons younger than this are denied. */
  minimumAge: number;
  /** Unit's idTheftScore (0–1000): above this the application is denied. */
  idTheftScoreDenyAbove: number;
  /** Send an application to PendingReview when a person's SSN/passport is on another application of the org in one of `duplicateIdentityStatuses`. */
  reviewDuplicateIdentity: boolean;
  /** Open applications, and approved ones: an identity already onboarded is not onboarded again unseen. */
  duplicateIdentityStatuses?: readonly ApplicationStatus[];
}

export const DEFAULT_EVALUATION_RULES: EvaluationRules = {
  minimumAge: 18,
  idTheftScoreDenyAbove: 900,
  reviewDuplicateIdentity: true,
  duplicateIdentityStatuses: ['Pending', 'AwaitingDocuments', 'PendingReview', 'Approved'],
};

export interface PersonFacts {
  personId: string;
  label: string;
  dateOfBirth: string;
  hasDuplicateIdentity: boolean;
}

export interface ApplicationFacts {
  idTheftScore?: number | null;
  persons: PersonFacts[];
}

export type EvaluationResult =
  { outcome: 'Continue' } | { outcome: 'Denied' | 'PendingReview'; reasonCode: string; reason: string; personId?: string };

/** Whole years between dateOfBirth and today (both YYYY-MM-DD). */
export function ageOn(dateOfBirth: string, today: string): number {
  const [by, bm, bd] = dateOfBirth.split('-').map(Number);
  const [ty, tm, td] = today.split('-').map(Number);
  return ty - by - (tm < bm || (tm === bm && td < bd) ? 1 : 0);
}

export function evaluateApplicationRules(
  facts: ApplicationFacts,
  today: string,
  rules: EvaluationRules = DEFAULT_EVALUATION_RULES,
): EvaluationResult {
  for (const p of facts.persons) {
    const age = ageOn(p.dateOfBirth, today);
    if (age < rules.minimumAge) {
      return {
        outcome: 'Denied',
        reasonCode: 'Underage',
        reason: `${p.label}: younger than ${rules.minimumAge} (age ${age})`,
        personId: p.personId,
      };
    }
  }
  if (facts.idTheftScore != null && facts.idTheftScore > rules.idTheftScoreDenyAbove) {
    return {
      outcome: 'Denied',
      reasonCode: 'IdTheftScore',
      reason: `idTheftScore ${facts.idTheftScore} is above ${rules.idTheftScoreDenyAbove}`,
    };
  }
  if (rules.reviewDuplicateIdentity) {
    const dup = facts.persons.find((p) => p.hasDuplicateIdentity);
    if (dup)
      return {
        outcome: 'PendingReview',
        reasonCode: 'DuplicateIdentity',
        reason: `${dup.label}: the same SSN or passport is on another open or approved application`,
        personId: dup.personId,
      };
  }
  return { outcome: 'Continue' };
}
