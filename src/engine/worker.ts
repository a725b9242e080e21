// Builds the engine's workers: one runs the workflows and activities on the engine's task queue,
// the other only the verification checks, on their own task queue (../verification/job/taskQueue.ts).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { ActivityDeps } from '../platform/deps';
import { dataConverter } from '../platform/temporal/payloadCodec';
import { verificationTaskQueue } from '../verification/job/taskQueue';
import { createActivities } from './activities';

export const WORKFLOWS_PATH = join(dirname(fileURLToPath(import.meta.url)), './workflows.ts');

export interface WorkerParams extends ActivityDeps {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Pre-bundled workflow code (tests bundle once for all suites). */
  workflowBundlePath?: string;
  options?: Partial<WorkerOptions>;
}

/** The engine's workers, run and shut down together. */
export interface EngineWorker {
  /** Resolves once every worker has stopped; rejects if one failed (the others are then shut down). */
  run(): Promise<void>;
  shutdown(): void;
}

export async function createWorker(p: WorkerParams): Promise<EngineWorker> {
  const activities = createActivities({ db: p.db, config: p.config, fetch: p.fetch });
  const engine = await Worker.create({
    connection: p.connection,
    namespace: p.namespace,
    dataConverter: dataConverter(p.config), // payloads sealed with the key ring (src/platform/temporal/payloadCodec.ts)
    taskQueue: p.taskQueue,
    ...(p.workflowBundlePath ? { workflowBundle: { codePath: p.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    // Every activity, the checks included: runs started before the verification task queue schedule them here.
    activities,
    // Two cores: model inference is the heavy activity; I/O activities are light.
    maxConcurrentActivityTaskExecutions: 16,
    maxConcurrentWorkflowTaskExecutions: 40,
    ...p.options,
  });
  const verification = await Worker.create({
    connection: p.connection,
    namespace: p.namespace,
    dataConverter: dataConverter(p.config),
    taskQueue: verificationTaskQueue(p.taskQueue),
    activities: { runVerificationChecks: activities.runVerificationChecks },
    ...p.options,
    // One slot per verification this process runs at once: the rest wait in the task queue, not in the activity.
    maxConcurrentActivityTaskExecutions: p.config.VERIFICATION_CONCURRENCY,
  });
  const workers = [engine, verification];
  const shutdown = () => {
    for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
  };
  return {
    async run() {
      const runs = await Promise.allSettled(workers.map((w) => w.run().finally(shutdown)));
      const failed = runs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
    shutdown,
  };
}
