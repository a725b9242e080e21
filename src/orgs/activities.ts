// The check a review passes before the application workflow records its decision: the
// credential is the engine's, the reviewer's key is still live and may review, and it did not
// submit the application (unless the org allows that).
import type { ActivityDeps } from '../platform/deps';
import { checkReviewerCredential } from './reviewerCredential';
import { findKey, reviewDuties } from './repository';
import { reviewRefusal } from './reviewDuties';

export interface AuthorizeReviewInput {
  orgId: string;
  applicationId: string;
  decision: 'Approved' | 'Denied';
  /** The reviewer's API key id, as the review update names it. */
  reviewer: string;
  credential: string;
}
export type AuthorizeReviewResult = { ok: true } | { ok: false; error: string };

export function createOrgActivities({ db, config }: Pick<ActivityDeps, 'db' | 'config'>) {
  return {
    async authorizeReview(input: AuthorizeReviewInput): Promise<AuthorizeReviewResult> {
      const { orgId, applicationId, decision, reviewer } = input;
      const check = checkReviewerCredential(config.keyRing, input.credential, { orgId, applicationId, decision, keyId: reviewer });
      if (!check.ok) return check;
      // reviewDuties joins the org: no row, no such application in this org.
      const [key, duties] = await Promise.all([findKey(db, orgId, reviewer), reviewDuties(db, orgId, applicationId)]);
      if (!key || !duties) return { ok: false, error: 'the reviewer key or the application is unknown' };
      const refusal = reviewRefusal(key, duties);
      return refusal ? { ok: false, error: refusal } : { ok: true };
    },
  };
}

export type OrgActivities = ReturnType<typeof createOrgActivities>;
