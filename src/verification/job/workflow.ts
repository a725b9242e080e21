// One verification job: run the checks (images and the result stay in the database; only ids
// go in and the decision comes out). Internal errors are retried; after the retries, or
// when the images are gone, the job is marked failed — a job never stays pending.
import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  TimeoutFailure,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { VerificationActivities, VerificationJobRef } from './activities';
import { JOB_FAILURE, VERIFICATION_NON_RETRYABLE } from './failures';
import { verificationTaskQueue } from './taskQueue';

type Checks = Pick<VerificationActivities, 'runVerificationChecks'>;

const CHECKS: ActivityOptions = {
  startToCloseTimeout: '60s',
  retry: {
    maximumAttempts: 3,
    initialInterval: '2s',
    backoffCoefficient: 2,
    nonRetryableErrorTypes: [...VERIFICATION_NON_RETRYABLE],
  },
};

/** How long the checks may wait for a free verification slot (the queue is bounded: minutes at worst). */
const CHECKS_START_DEADLINE = '1h';

/**
 * Runs started before the `verification-task-queue` patch scheduled the checks on the engine's
 * task queue, where the activity waited for a slot inside its own 60 s. New runs schedule them on
 * the verification task queue: the wait for a slot is schedule-to-start, outside start-to-close.
 */
function checksActivity(): Checks {
  if (!patched('verification-task-queue')) return proxyActivities<Checks>(CHECKS);
  return proxyActivities<Checks>({
    ...CHECKS,
    taskQueue: verificationTaskQueue(workflowInfo().taskQueue),
    scheduleToStartTimeout: CHECKS_START_DEADLINE,
  });
}

const store = proxyActivities<Pick<VerificationActivities, 'failVerificationJob'>>({
  startToCloseTimeout: '10s',
  retry: { maximumAttempts: 20, initialInterval: '1s', maximumInterval: '30s' },
});

export interface VerificationJobWorkflowResult {
  status: 'completed' | 'failed';
  decision?: string;
  failureCode?: string;
}

export async function verificationJobWorkflow({ jobId, orgId }: VerificationJobRef): Promise<VerificationJobWorkflowResult> {
  const checks = checksActivity();
  let summary;
  try {
    summary = await checks.runVerificationChecks({ jobId, orgId });
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    const code =
      type === JOB_FAILURE.imagesDeleted ? 'images_deleted' : type === JOB_FAILURE.jobNotFound ? 'job_not_found' : 'internal_error';
    const neverStarted = cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START';
    const message = neverStarted
      ? `no verification worker took the checks up within ${CHECKS_START_DEADLINE}; submit the job again`
      : code === 'internal_error'
        ? 'the checks failed after retries; the error is in the worker log'
        : ((cause as Error)?.message ?? String(cause));
    await store.failVerificationJob({ jobId, orgId, failure: { code, message } });
    return { status: 'failed', failureCode: code };
  }
  return { status: 'completed', decision: summary.decision };
}
