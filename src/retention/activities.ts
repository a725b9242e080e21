// What the retention sweep erases, org by org: images after `imagesDays`, verification results
// after `resultsDays`, decided applications after `applicationsDays` (see orgs' retention
// settings). Each erasure is the capability's own (redaction keeps ids, statuses and decisions).
import { heartbeat } from '@temporalio/activity';
import type { ActivityDeps } from '../platform/deps';
import { findOrg, orgsWithRetention } from '../orgs/repository';
import {
  eraseDocumentFilesUploadedBefore,
  finalApplicationsUnchangedSince,
  redactApplication,
  redactionEventKey,
} from '../applications/repository';
import { eventIdsByDedupeKeys, hasEnabledWebhooks } from '../webhooks/repository';
import { eraseJobImagesCreatedBefore, jobsWithResultsCreatedBefore, redactVerificationJob } from '../verification/job/repository';

export interface SweepCounts {
  images: number;
  results: number;
  applications: number;
}
/** One org's sweep: the counts, and the events of the applications it redacted (for delivery). */
export interface OrgSweep extends SweepCounts {
  eventIds: string[];
  hasWebhooks: boolean;
}

const DAY_MS = 86_400_000;
/** Rows erased per statement, and the most one run erases of each kind per org (the next run goes on). */
const BATCH = 200;
const MAX_PER_RUN = 10_000;

function ignoreOutsideActivity(): void {
  try {
    heartbeat();
  } catch {
    /* called outside an activity (tests, the admin command) */
  }
}

export function createRetentionActivities({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    async orgsToSweep(): Promise<string[]> {
      return (await orgsWithRetention(db)).map((o) => o.orgId);
    },

    async sweepOrg({ orgId }: { orgId: string }, now = Date.now()): Promise<OrgSweep> {
      const org = await findOrg(db, orgId);
      const counts: OrgSweep = { images: 0, results: 0, applications: 0, eventIds: [], hasWebhooks: false };
      if (!org) return counts;
      const redacted: string[] = [];
      const { imagesDays, resultsDays, applicationsDays } = org.retention;
      if (imagesDays) {
        const cutoff = new Date(now - imagesDays * DAY_MS);
        for (let n = -1; n !== 0 && counts.images < MAX_PER_RUN; ignoreOutsideActivity()) {
          n =
            (await eraseJobImagesCreatedBefore(db, orgId, cutoff, BATCH)) +
            (await eraseDocumentFilesUploadedBefore(db, orgId, cutoff, BATCH));
          counts.images += n;
        }
      }
      if (resultsDays) {
        const cutoff = new Date(now - resultsDays * DAY_MS);
        for (let ids = ['']; ids.length && counts.results < MAX_PER_RUN; ignoreOutsideActivity()) {
          ids = await jobsWithResultsCreatedBefore(db, orgId, cutoff, BATCH);
          for (const id of ids) if ((await redactVerificationJob(db, orgId, id)) === 'redacted') counts.results++;
        }
      }
      if (applicationsDays) {
        const cutoff = new Date(now - applicationsDays * DAY_MS);
        for (let ids = ['']; ids.length && counts.applications < MAX_PER_RUN; ignoreOutsideActivity()) {
          ids = await finalApplicationsUnchangedSince(db, orgId, cutoff, BATCH);
          for (const id of ids) if ((await redactApplication(db, orgId, id)) === 'redacted') redacted.push(id);
          counts.applications = redacted.length;
        }
      }
      if (redacted.length) {
        counts.eventIds = await eventIdsByDedupeKeys(db, orgId, redacted.map(redactionEventKey));
        counts.hasWebhooks = await hasEnabledWebhooks(db, orgId);
      }
      return counts;
    },
  };
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>;
