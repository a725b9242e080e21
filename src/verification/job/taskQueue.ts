// Verification checks run on a task queue of their own, served by a worker with one activity slot
// per verification the process may run at once (VERIFICATION_CONCURRENCY). A burst of jobs then
// waits in Temporal (schedule-to-start) instead of inside the activity, where the wait would
// count against its start-to-close timeout. Pure: safe in workflow code.

/** The verification task queue beside the engine's task queue (`onboarding` → `onboarding-verification`). */
export const verificationTaskQueue = (engineTaskQueue: string): string => `${engineTaskQueue}-verification`;
