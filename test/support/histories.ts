// Recorded workflow histories for the replay test. Run a suite with RECORD_HISTORIES=1 to
// (re)write them; commit the JSON so every later change to workflow code is replayed
// against what real executions recorded.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

export const HISTORIES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'histories');

export async function recordHistory(temporal: Client, workflowId: string, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  const history = await temporal.workflow.getHandle(workflowId).fetchHistory();
  // Stored decrypted: a test run's key ring is thrown away with it (replay passes plain payloads through).
  await decodePayloadsInPlace(history, temporal.options.loadedDataConverter.payloadCodecs);
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // Proto JSON, the format of `temporal workflow show --output json`.
  writeFileSync(join(HISTORIES_DIR, `${name}.json`), historyToJSON(history));
}

const isPayload = (v: object): v is Payload =>
  'metadata' in v && 'data' in v && typeof v.metadata === 'object' && v.metadata !== null && v.data instanceof Uint8Array;

/** Replaces every payload in `message` (a history, an event, …) by its decoded form. */
export async function decodePayloadsInPlace(message: unknown, codecs: PayloadCodec[]): Promise<void> {
  if (message === null || typeof message !== 'object' || message instanceof Uint8Array) return;
  const node = message as Record<string, unknown>;
  for (const [key, value] of Object.entries(node)) {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) continue;
    if (!Array.isArray(value) && isPayload(value)) {
      let decoded: Payload = value;
      for (const codec of [...codecs].reverse()) [decoded] = await codec.decode([decoded]);
      node[key] = decoded;
    } else await decodePayloadsInPlace(value, codecs);
  }
}
