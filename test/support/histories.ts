// Recorded workflow histories for the replay test. Run a suite with RECORD_HISTORIES=1 to
// (re)write them; commit the JSON so every later change to workflow code is replayed
// against what real executions recorded.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'histories');

export async function recordHistory(temporal: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // Proto JSON, the format of `temporal workflow show --output json`.
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}
