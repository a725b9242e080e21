// Activities of verificationJobWorkflow. Images are read from the database here and never leave
// this process: the workflow passes {jobId, orgId} and gets back only the small result.
import { ApplicationFailure } from '@temporalio/common';
import { verificationSettings } from '../../platform/config';
import { log } from '../../platform/log';
import type { ActivityDeps } from '../../platform/deps';
import { completeJob, failJob, findJobWithSameSelfie, getJob, loadJobImages, storeSelfieHash } from './repository';
import { VerificationResultSchema, type JobFailure, type VerificationResult } from './result';
import { runVerificationJob, sameSelfie, warmUpVerificationModels, type ExpectedPerson } from './checks';
import { JOB_FAILURE } from './failures';

export interface VerificationJobRef {
  jobId: string;
  orgId: string;
}

/**
 * Jobs run at most VERIFICATION_CONCURRENCY (default 2) at a time per worker process (model
 * inference is CPU-bound: more concurrent jobs than cores only add latency and memory). The
 * verification task queue's worker has that many activity slots, so new runs never wait here
 * (they wait in Temporal before they start, see ./taskQueue.ts); this bound is for runs started
 * before it, whose checks arrive on the engine's task queue, next to them in the same process.
 */
let running = 0;
const waiting: Array<() => void> = [];
async function withSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= verificationSettings().VERIFICATION_CONCURRENCY) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

let warmUp: Promise<void> | null = null;
/** Loads the models once per process (in the background at worker start; awaited by the first job). */
function ensureWarm(): Promise<void> {
  warmUp ??= warmUpVerificationModels().catch((err) => {
    warmUp = null;
    throw err;
  });
  return warmUp;
}

export function createVerificationActivities(deps: ActivityDeps, opts: { warmUp?: boolean } = {}) {
  const { db } = deps;
  // Default: warm up in real workers; not under vitest, where most suites never run a verification job.
  const settings = verificationSettings();
  if (opts.warmUp ?? settings.VERIFICATION_WARM_UP ?? !settings.VITEST) {
    // Off the critical path: the first job would otherwise pay ~1 s of session creation.
    setTimeout(() => {
      ensureWarm().catch((err) => log.warn('verification model warm-up failed', { error: (err as Error).message }));
    }, 0).unref();
  }

  return {
    /**
     * Loads the job's images, runs the checks, stores the selfie hash and the result. Only the
     * decision goes back to the workflow: the result holds personal data (name, date of birth,
     * document number) that stays out of Temporal.
     */
    async runVerificationChecks({ jobId, orgId }: VerificationJobRef): Promise<VerificationSummary> {
      const job = await getJob(db, deps.config.keyRing, orgId, jobId);
      if (!job) throw ApplicationFailure.nonRetryable(`verification job ${jobId} not found`, JOB_FAILURE.jobNotFound);
      if (job.status === 'completed' && job.result) return summarise(VerificationResultSchema.parse(job.result));
      const images = await loadJobImages(db, deps.config.keyRing, orgId, jobId);
      if (!images.selfie || !images.idFront) {
        throw ApplicationFailure.nonRetryable(
          `the images of verification job ${jobId} were erased before the checks ran`,
          JOB_FAILURE.imagesDeleted,
        );
      }
      await ensureWarm();
      const out = await withSlot(() =>
        runVerificationJob({
          selfie: images.selfie!,
          idFront: images.idFront!,
          idBack: images.idBack,
          selfieFrames: images.selfieFrames,
          expectedPerson: job.expected_person as ExpectedPerson | null,
          findReusedSelfie: (hash) => findJobWithSameSelfie(db, orgId, jobId, hash, sameSelfie),
        }),
      );
      if (out.selfieHash) await storeSelfieHash(db, orgId, jobId, out.selfieHash);
      // Never log images, fields or scores' inputs: ids, decision and timings only.
      log.info('verification checks done', {
        jobId,
        decision: out.result.decision.value,
        reasonCodes: out.result.decision.reasonCodes,
        ms: out.timings.total,
      });
      await completeJob(db, deps.config.keyRing, orgId, jobId, VerificationResultSchema.parse(out.result));
      return summarise(out.result);
    },

    async failVerificationJob({ jobId, orgId, failure }: VerificationJobRef & { failure: JobFailure }): Promise<void> {
      log.warn('verification job failed', { jobId, code: failure.code });
      await failJob(db, orgId, jobId, failure);
    },
  };
}

export interface VerificationSummary {
  decision: VerificationResult['decision']['value'];
  reasonCodes: string[];
}
const summarise = (r: VerificationResult): VerificationSummary => ({ decision: r.decision.value, reasonCodes: r.decision.reasonCodes });

export type VerificationActivities = ReturnType<typeof createVerificationActivities>;
