// Durability: a worker process killed (SIGKILL) in the middle of processing loses nothing.
// Another worker picks the applications up; each reaches its status exactly once, with exactly
// one event per transition, and every event is delivered to the webhook.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './support/engine';
import { eventTypes, individualApplication, insertVerificationJob, waitForStatus } from './support/applicationFixtures';
import { recordHistory } from './support/histories';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

function startWorkerProcess(engine: TestEngine): ChildProcess {
  // The real worker entry point, as docker-compose runs it, in its own process.
  return spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: engine.config.DATABASE_URL,
      TEMPORAL_ADDRESS: engine.config.TEMPORAL_ADDRESS,
      TEMPORAL_TASK_QUEUE: engine.config.TEMPORAL_TASK_QUEUE,
      // The same key ring as the test engine (payloads, data at rest).
      DATA_ENCRYPTION_KEYS: engine.config.DATA_ENCRYPTION_KEYS,
      IDENTITY_INDEX_KEY: engine.config.IDENTITY_INDEX_KEY,
      WEBHOOK_TIMEOUT_MS: '2000',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('durability across a killed worker', () => {
  let engine: TestEngine;
  let receiver: WebhookReceiver;
  let worker: ChildProcess | null = null;

  beforeAll(async () => {
    engine = await startTestEngine({ env: { WEBHOOK_TIMEOUT_MS: '2000' } });
    await engine.stopWorker(); // only the worker processes below serve this task queue
    // A receiver that answers slowly, so deliveries are in flight when the worker dies.
    receiver = await startWebhookReceiver({ delayMs: 300 });
    const hook = await engine.api('POST', '/webhooks', {
      data: {
        type: 'webhook',
        attributes: {
          label: 'durability',
          url: receiver.url,
          token: 'durability-secret',
          contentType: 'Json',
          deliveryMode: 'AtLeastOnce',
        },
      },
    });
    expect(hook.status).toBe(201);
  });
  afterAll(async () => {
    worker?.kill('SIGKILL');
    await receiver?.close();
    await engine?.stop();
  });

  it('applications in flight when the worker is killed still reach their status exactly once, with one event per transition', async () => {
    worker = startWorkerProcess(engine);
    // Wait until the worker is up and serving (one warm-up application goes through).
    const warm = await engine.api('POST', '/applications', {
      data: individualApplication({ useSelfieVerification: 'ReplaceIdentification' }),
    });
    await waitForStatus(engine, warm.body.data.id, 'AwaitingDocuments', 90_000);

    const created = await Promise.all(
      Array.from({ length: 12 }, () =>
        engine.api('POST', '/applications', { data: individualApplication({ useSelfieVerification: 'ReplaceIdentification' }) }),
      ),
    );
    for (const res of created) expect(res.status).toBe(201);
    const ids: string[] = created.map((res) => res.body.data.id);
    // Kill the worker as soon as it has started on this batch, before it has finished it.
    const until = Date.now() + 60_000;
    for (;;) {
      const rows = await engine.db.selectFrom('applications').select('status').where('id', 'in', ids).execute();
      if (rows.some((r) => r.status !== 'Pending')) break;
      if (Date.now() > until) throw new Error('the worker never processed anything');
      await sleep(5);
    }
    worker.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));
    const statusesAtKill = await engine.db.selectFrom('applications').select('status').where('id', 'in', ids).execute();
    const eventsAtKill = await Promise.all(ids.map((id) => eventTypes(engine, engine.orgId, id)));
    const transitionsAtKill = eventsAtKill.reduce((n, e) => n + e.length, 0);
    const deliveredAtKill = receiver.delivered().length;

    worker = startWorkerProcess(engine);
    for (const id of ids) await waitForStatus(engine, id, 'AwaitingDocuments', 90_000);

    // Each applicant completes the selfie verification; the application is approved.
    for (const id of ids) {
      const app = await engine.api('GET', `/applications/${id}`);
      const doc = app.body.included.find((d: any) => d.attributes.documentType === 'SelfieVerification');
      const jobId = await insertVerificationJob(engine, engine.orgId, { documentType: 'drivers-license', decision: 'accept' });
      const verified = await engine.api('POST', `/applications/${id}/documents/${doc.id}/verify`, {
        data: { type: 'selfieVerification', attributes: { jobId } },
      });
      expect(verified.status).toBe(200);
    }
    for (const id of ids) await waitForStatus(engine, id, 'Approved', 30_000);

    // The status is recorded before the event is announced: give the last event a moment.
    const eventsUntil = Date.now() + 15_000;
    for (const id of ids) {
      while ((await eventTypes(engine, engine.orgId, id)).length < 4 && Date.now() < eventsUntil) await sleep(100);
    }
    await sleep(500); // a duplicate, if any, would show up now
    for (const id of ids) {
      expect(await eventTypes(engine, engine.orgId, id), `events of application ${id}`).toEqual([
        'application.created',
        'application.awaitingDocuments',
        'document.approved',
        'application.approved',
      ]);
    }
    await recordHistory(engine.temporal, `application-${ids[0]}`, 'application-selfie-approved-after-worker-kill');
    const view = await engine.temporal.workflow
      .getHandle(`application-${ids[0]}`)
      .query<{ persons: Array<{ personId: string }> }>('status');
    await recordHistory(engine.temporal, `application-${ids[0]}-person-${view.persons[0].personId}`, 'person-selfie-approved');

    // At least once to the webhook: every event of these applications arrives.
    const events = await engine.db.selectFrom('events').select(['id', 'relationships']).where('org_id', '=', engine.orgId).execute();
    const mine = events.filter((e) => ids.includes((e.relationships as any)?.application?.data?.id)).map((e) => e.id);
    expect(mine).toHaveLength(ids.length * 4);
    const deadline = Date.now() + 30_000;
    const deliveredIds = () => new Set(receiver.delivered().flatMap((r) => JSON.parse(r.body).data.map((e: any) => e.id)));
    while (mine.some((id) => !deliveredIds().has(id)) && Date.now() < deadline) await sleep(100);
    expect(mine.filter((id) => !deliveredIds().has(id))).toEqual([]);
    // The kill really happened mid-flight: not everything had been processed when it died.
    const midFlight =
      statusesAtKill.some((r) => r.status === 'Pending') || transitionsAtKill < ids.length * 2 || deliveredAtKill < transitionsAtKill + 2;
    expect(midFlight, `killed after ${transitionsAtKill} of ${ids.length * 2} first-phase events and ${deliveredAtKill} deliveries`).toBe(
      true,
    );
  }, 240_000);
});
