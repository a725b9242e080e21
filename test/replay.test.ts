// Workflow code must stay deterministic: every history recorded from a real run (see
// test/support/histories.ts) replays against today's workflow code without a nondeterminism error.
// test/histories: v1-* protocol 1 with the database activities as ordinary activities; v2-*
// protocol 1 with them local (patch `database-activities-run-locally`); unprefixed: protocol 2
// (patch `application-protocol-2`), re-recorded with RECORD_HISTORIES=1.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { APPLICATION_PROTOCOL_2_PATCH } from '../src/applications/workflows/application';
import { HISTORIES_DIR } from './support/histories';

const files = readdirSync(HISTORIES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('workflow replay of recorded histories', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(3);
  });

  it('covers both protocols: v1-/v2- application histories ran protocol 1, the others protocol 2', () => {
    const patches = (file: string) => JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')).events
      .filter((e: any) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
      .map((e: any) => JSON.parse(Buffer.from(e.markerRecordedEventAttributes.details['patch-data'].payloads[0].data, 'base64').toString()).id);
    const apps = files.filter((f) => /^(v\d+-)?application-/.test(f));
    const protocol2 = apps.filter((f) => patches(f).includes(APPLICATION_PROTOCOL_2_PATCH));
    expect(protocol2.length).toBeGreaterThanOrEqual(3);
    expect(protocol2.every((f) => !/^v\d+-/.test(f))).toBe(true);
    expect(apps.filter((f) => /^v\d+-/.test(f)).length).toBeGreaterThanOrEqual(3);
  });

  it.each(files)('replays %s deterministically', async (file) => {
    const history = historyFromJSON(JSON.parse(readFileSync(join(HISTORIES_DIR, file), 'utf8')));
    await expect(
      Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') }, replayName: file }, history),
    ).resolves.toBeUndefined();
  });
});
