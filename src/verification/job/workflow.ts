// One verification job: run the checks (images and the result stay in the database; only ids
// go in and the decision comes out). Internal errors are retried; after the retries, or
// when the images are gone, the job is marked failed — a job never stays pending.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { VerificationActivities, VerificationJobRef } from './activities';
import { JOB_FAILURE, VERIFICATION_NON_RETRYABLE } from './failures';

const checks = proxyActivities<Pick<VerificationActivities, 'runVerificationChecks'>>({
  startToCloseTimeout: '60s',
  retry: {
    maximumAttempts: 3,
    initialInterval: '2s',
    backoffCoefficient: 2,
    nonRetryableErrorTypes: [...VERIFICATION_NON_RETRYABLE],
  },
});

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
  let summary;
  try {
    summary = await checks.runVerificationChecks({ jobId, orgId });
  } catch (err) {
    const cause = err instanceof ActivityFailure ? err.cause : err;
    const type = cause instanceof ApplicationFailure ? cause.type : undefined;
    const code =
      type === JOB_FAILURE.imagesDeleted ? 'images_deleted' : type === JOB_FAILURE.jobNotFound ? 'job_not_found' : 'internal_error';
    const message =
      code === 'internal_error'
        ? 'the checks failed after retries; the error is in the worker log'
        : ((cause as Error)?.message ?? String(cause));
    await store.failVerificationJob({ jobId, orgId, failure: { code, message } });
    return { status: 'failed', failureCode: code };
  }
  return { status: 'completed', decision: summary.decision };
}
