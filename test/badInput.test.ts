// Input PostgreSQL cannot store, or numbers it cannot hold, is refused up front with a 400 —
// never a 500, and never a workflow stuck retrying a write that can only fail.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventActivities } from '../src/webhooks/activities';
import type { webhookDeliveryWorkflow } from '../src/webhooks/workflows/webhookDelivery';
import { startTestEngine, type TestEngine } from './support/engine';
import { individualApplication, waitForStatus } from './support/applicationFixtures';

describe('input the database cannot hold', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('refuses a NUL character in a JSON body (a cancel reason) and leaves the application as it was', async () => {
    const created = await engine.api('POST', '/applications', { data: individualApplication() });
    const id = created.body.data.id;
    await waitForStatus(engine, id, 'AwaitingDocuments');
    const res = await engine.api('POST', `/applications/${id}/cancel`, {
      data: { type: 'applicationCancel', attributes: { reason: 'bad\u0000reason' } },
    });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toMatch(/NUL/);
    // still open, and still cancelable with a proper reason
    const ok = await engine.api('POST', `/applications/${id}/cancel`, {
      data: { type: 'applicationCancel', attributes: { reason: 'customer asked' } },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.data.attributes.status).toBe('Canceled');
  });

  it('refuses a NUL character in the query string, and offsets or ids beyond what PostgreSQL holds', async () => {
    for (const path of [
      '/applications?filter[query]=a%00b',
      '/applications?page[offset]=99999999999999999999',
      '/webhooks?filter[fromId]=99999999999999999999',
    ]) {
      const res = await engine.api('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.errors[0].status).toBe('400');
    }
  });
});

describe('webhook destinations (default policy: public addresses only)', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('refuses webhooks to loopback, private and metadata addresses unless the operator allows private networks', async () => {
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://localhost/hook',
      'http://10.1.2.3/hook',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/hook',
    ]) {
      const res = await engine.api('POST', '/webhooks', {
        data: { type: 'webhook', attributes: { label: 'x', url, token: 'secret-token', contentType: 'Json', deliveryMode: 'AtLeastOnce' } },
      });
      expect(res.status, url).toBe(400);
      expect(res.body.errors[0].source.pointer).toBe('/data/attributes/url');
    }
  });

  it('does not deliver to a host that resolves to a private address: the attempt is logged and not retried', async () => {
    // e.g. a public-looking name pointed at the internal network after the webhook was saved
    const hook = await engine.db
      .insertInto('webhooks')
      .values({
        org_id: engine.orgId,
        label: 'internal',
        url: 'http://localhost:9/hook',
        token: 'secret-token',
        content_type: 'Json',
        delivery_mode: 'AtLeastOnce',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const { eventId } = await createEventActivities({ db: engine.db }).recordEvent({
      orgId: engine.orgId,
      type: 'application.approved',
      dedupeKey: randomUUID(),
      attributes: {},
      relationships: {},
    });
    const out = await engine.temporal.workflow.execute<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
      taskQueue: engine.config.TEMPORAL_TASK_QUEUE,
      workflowId: `test-delivery-${randomUUID()}`,
      args: [{ eventId, orgId: engine.orgId, retry: { initialIntervalMs: 50, maximumIntervalMs: 100, maximumAttempts: 5 } }],
    });
    expect(out.deliveries).toEqual([expect.objectContaining({ webhookId: hook.id, outcome: 'failed' })]);
    const attempts = await engine.db
      .selectFrom('webhook_attempts')
      .select(['attempt', 'error', 'delivered'])
      .where('webhook_id', '=', hook.id)
      .execute();
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ delivered: false });
    expect(attempts[0].error).toMatch(/private, loopback or link-local/);
  });
});
