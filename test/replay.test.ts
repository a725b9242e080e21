// Workflow code must stay deterministic: every history recorded from a real run (see
// test/support/histories.ts) replays against today's workflow code without a nondeterminism
// error. Re-record with RECORD_HISTORIES=1 npm test only when a change is meant to be breaking
// (README, "Workflow versions"); otherwise keep the old histories and add new ones beside them.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parseKeyRing } from '../src/platform/crypto/keyRing';
import { dataConverter } from '../src/platform/temporal/payloadCodec';
import { HISTORIES_DIR } from './support/histories';

const files = readdirSync(HISTORIES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();
const workflowType = (file: string): string =>
  JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')).events[0].workflowExecutionStartedEventAttributes.workflowType.name;

describe('workflow replay of recorded histories', () => {
  it('has recorded histories of the application, person and webhook delivery workflows', () => {
    const types = new Set(files.map(workflowType));
    expect([...types].sort()).toEqual(expect.arrayContaining(['applicationWorkflow', 'personWorkflow', 'webhookDeliveryWorkflow']));
    expect(files.filter((f) => workflowType(f) === 'applicationWorkflow').length).toBeGreaterThanOrEqual(4);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    // The engine's data converter, as its workers have it: histories recorded before payload
    // encryption (or stored decrypted) pass through the codec unchanged.
    const keyRing = parseKeyRing(inject('dataEncryptionKeys'), inject('identityIndexKey'));
    await expect(
      Worker.runReplayHistory(
        { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter({ keyRing }), replayName: file },
        history,
      ),
    ).resolves.toBeUndefined();
  });
});
