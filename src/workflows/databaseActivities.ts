// Short database activities (status writes, event rows, webhook look-ups) run as *local*
// activities: inside the workflow task that needs them, instead of a round trip through the
// server and a new workflow task each. Histories recorded before this change used ordinary
// activities; the patch keeps them replaying exactly as they ran.
import { patched, proxyActivities, proxyLocalActivities, type ActivityOptions, type LocalActivityOptions } from '@temporalio/workflow';

export const LOCAL_DATABASE_ACTIVITIES_PATCH = 'database-activities-run-locally';

type Options = Pick<ActivityOptions & LocalActivityOptions, 'startToCloseTimeout' | 'retry'>;

/** Returns a getter: call it where the activity runs, so the patch is decided at that point of the history. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function databaseActivities<A extends Record<string, (...args: any[]) => any>>(options: Options): () => A {
  const remote = proxyActivities<A>(options);
  const local = proxyLocalActivities<A>(options);
  return () => (patched(LOCAL_DATABASE_ACTIVITIES_PATCH) ? local : remote) as A;
}
