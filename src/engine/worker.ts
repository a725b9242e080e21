// Builds the one worker that runs the engine's workflows and activities.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { ActivityDeps } from '../platform/deps';
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

export async function createWorker(p: WorkerParams): Promise<Worker> {
  return Worker.create({
    connection: p.connection,
    namespace: p.namespace,
    taskQueue: p.taskQueue,
    ...(p.workflowBundlePath ? { workflowBundle: { codePath: p.workflowBundlePath } } : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ db: p.db, config: p.config, fetch: p.fetch }),
    // Two cores: model inference is the heavy activity; I/O activities are light.
    maxConcurrentActivityTaskExecutions: 16,
    maxConcurrentWorkflowTaskExecutions: 40,
    ...p.options,
  });
}
