import { randomUUID } from 'node:crypto';
import type { Unit } from '@unit-finance/unit-node-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventActivities, createWebhookDeliveryActivities } from '../src/webhooks/activities';
import type { emitEventWorkflow } from '../src/webhooks/workflows/emitEvent';
import type { DeliveryRetryOptions, webhookDeliveryWorkflow } from '../src/webhooks/workflows/webhookDelivery';
import { individualApplication, insertVerificationJob } from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';
import { recordHistory } from './support/histories';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver';

// Retries a few hundred milliseconds apart instead of 1 s, 2 s, 4 s … so the suite stays fast.
const FAST_RETRY: DeliveryRetryOptions = { initialIntervalMs: 100, backoffCoefficient: 1, maximumIntervalMs: 200, maximumAttempts: 5 };

describe('webhooks and events', () => {
  let engine: TestEngine;
  const receivers: WebhookReceiver[] = [];
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await Promise.all(receivers.map((r) => r.close()));
    await engine?.stop();
  });

  const receiver = async (opts?: Parameters<typeof startWebhookReceiver>[0]) => {
    const r = await startWebhookReceiver(opts);
    receivers.push(r);
    return r;
  };

  /** A fresh org, so deliveries only reach the webhooks a test creates. */
  const orgWithWebhook = async (
    url: string,
    attrs: Partial<{ deliveryMode: 'AtMostOnce' | 'AtLeastOnce'; contentType: 'Json' | 'JsonAPI' }> = {},
  ) => {
    const org = await engine.newOrg();
    const token = `whsec-${randomUUID()}`;
    const hook = await org.unit.webhooks.create({
      type: 'webhook',
      attributes: { label: 'ops', url, token, contentType: attrs.contentType ?? 'Json', deliveryMode: attrs.deliveryMode ?? 'AtLeastOnce' },
    });
    return { ...org, token: token, apiToken: org.token, webhookId: hook.data.id };
  };

  const recordEvent = (orgId: string, type = 'application.approved', dedupeKey: string = randomUUID()) =>
    createEventActivities({ db: engine.db }).recordEvent({
      orgId,
      type,
      dedupeKey,
      attributes: { tags: { purpose: 'checking' } },
      relationships: { application: { data: { type: 'individualApplication', id: '123' } } },
    });

  const deliver = (eventId: string, orgId: string) =>
    engine.temporal.workflow.execute<typeof webhookDeliveryWorkflow>('webhookDeliveryWorkflow', {
      taskQueue: engine.config.TEMPORAL_TASK_QUEUE,
      workflowId: `test-delivery-${randomUUID()}`,
      args: [{ eventId, orgId, retry: FAST_RETRY }],
    });

  const deliveries = async (_unit: Unit, apiToken: string, eventId: string) => {
    const res = await fetch(`${engine.baseUrl}/events/${eventId}/deliveries`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(res.status).toBe(200);
    return (await res.json()).data as Array<{
      attributes: { attempt: number; statusCode: number | null; delivered: boolean; error: string | null };
    }>;
  };

  it('creates, lists, reads, updates, disables and enables a webhook through the official Unit SDK', async () => {
    const created = await engine.unit.webhooks.create({
      type: 'webhook',
      attributes: { label: 'crm', url: 'https://example.com/hooks', token: 'sekret-1', contentType: 'JsonAPI', deliveryMode: 'AtMostOnce' },
    });
    expect(created.data).toMatchObject({
      type: 'webhook',
      attributes: {
        label: 'crm',
        url: 'https://example.com/hooks',
        status: 'Enabled',
        contentType: 'JsonAPI',
        deliveryMode: 'AtMostOnce',
        token: 'sekret-1',
      },
    });
    const id = created.data.id;

    // The token is shown once, in the answer that set it; reading the webhook later masks it.
    expect((await engine.unit.webhooks.get(id)).data).toEqual({
      ...created.data,
      attributes: { ...created.data.attributes, token: '********' },
    });
    const list = await engine.unit.webhooks.list({ limit: 10 });
    expect(list.data.map((w) => w.id)).toContain(id);

    const updated = await engine.unit.webhooks.update(id, {
      type: 'webhook',
      attributes: { label: 'crm v2', url: 'http://example.com/v2', token: 'sekret-2' },
    });
    expect(updated.data.attributes).toMatchObject({
      label: 'crm v2',
      url: 'http://example.com/v2',
      token: 'sekret-2',
      contentType: 'JsonAPI',
    });

    expect((await engine.unit.webhooks.disable(id)).data.attributes.status).toBe('Disabled');
    expect((await engine.unit.webhooks.get(id)).data.attributes.status).toBe('Disabled');
    expect((await engine.unit.webhooks.enable(id)).data.attributes.status).toBe('Enabled');
  });

  it('rejects an invalid webhook with a 400 pointing at the offending field', async () => {
    const attrs = { label: 'x', url: 'https://example.com', token: 't', contentType: 'Json', deliveryMode: 'AtLeastOnce' };
    const post = (attributes: Record<string, unknown>) => engine.api('POST', '/webhooks', { data: { type: 'webhook', attributes } });

    const badUrl = await post({ ...attrs, url: 'ftp://example.com/hook' });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.errors[0].source.pointer).toBe('/data/attributes/url');

    const badEnum = await post({ ...attrs, deliveryMode: 'ExactlyOnce' });
    expect(badEnum.status).toBe(400);
    expect(badEnum.body.errors[0].source.pointer).toBe('/data/attributes/deliveryMode');

    const unknown = await post({ ...attrs, secret: 'nope' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors[0].source.pointer).toBe('/data/attributes');
    expect(unknown.body.errors[0].detail).toContain('secret');

    const valid = await post(attrs);
    expect(valid.status).toBe(201);
    const badPatch = await engine.api('PATCH', `/webhooks/${valid.body.data.id}`, {
      data: { type: 'webhook', attributes: { deliveryMode: 'AtMostOnce' } },
    });
    expect(badPatch.status).toBe(400); // as on Unit, the delivery mode is fixed once created
    expect(badPatch.body.errors[0].detail).toContain('deliveryMode');
  });

  it("hides one org's webhooks and events from another org", async () => {
    const r = await receiver();
    const a = await orgWithWebhook(r.url);
    const { eventId } = await recordEvent(a.orgId);
    const b = await engine.newOrg();
    const asB = (method: string, path: string, body?: unknown) =>
      fetch(`${engine.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${b.token}`, 'content-type': 'application/vnd.api+json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    expect((await asB('GET', `/webhooks/${a.webhookId}`)).status).toBe(404);
    expect(
      (await asB('PATCH', `/webhooks/${a.webhookId}`, { data: { type: 'webhook', attributes: { url: 'https://evil.example' } } })).status,
    ).toBe(404);
    expect((await asB('POST', `/webhooks/${a.webhookId}/disable`)).status).toBe(404);
    expect((await b.unit.webhooks.list()).data).toEqual([]);
    expect((await asB('GET', `/events/${eventId}`)).status).toBe(404);
    expect((await asB('GET', `/events/${eventId}/deliveries`)).status).toBe(404);
    expect((await asB('POST', `/events/${eventId}`)).status).toBe(404);
    expect((await b.unit.events.list()).data).toEqual([]);
    expect((await a.unit.webhooks.get(a.webhookId)).data.attributes.url).toBe(r.url);
    expect(r.requests).toHaveLength(0);
  });

  it('records one event per transition however often recordEvent is retried, and lists events by type', async () => {
    const org = await engine.newOrg();
    const key = `application-1-approved-${randomUUID()}`;
    const first = await recordEvent(org.orgId, 'application.approved', key);
    const again = await recordEvent(org.orgId, 'application.approved', key);
    expect(again.eventId).toBe(first.eventId);
    const denied = await recordEvent(org.orgId, 'application.denied');

    const all = await org.unit.events.list();
    expect(all.data.map((e) => e.id)).toEqual([denied.eventId, first.eventId]);
    const approved = await org.unit.events.list({ type: ['application.approved'] });
    expect(approved.data.map((e) => e.id)).toEqual([first.eventId]);

    const event = (await org.unit.events.get(first.eventId)).data;
    expect(event).toMatchObject({
      type: 'application.approved',
      id: first.eventId,
      attributes: { tags: { purpose: 'checking' } },
      relationships: { application: { data: { type: 'individualApplication', id: '123' } } },
    });
    expect(new Date(event.attributes.createdAt).toString()).not.toBe('Invalid Date');
  });

  it("delivers an event as {data:[event]} with a signature the SDK's webhooks.verify accepts", async () => {
    const r = await receiver();
    const org = await orgWithWebhook(r.url);
    const { eventId } = await recordEvent(org.orgId);

    const result = await deliver(eventId, org.orgId);
    expect(result.deliveries).toEqual([{ webhookId: org.webhookId, outcome: 'delivered' }]);

    expect(r.requests).toHaveLength(1);
    const req = r.requests[0];
    expect(req.method).toBe('POST');
    expect(req.headers['content-type']).toBe('application/json');
    const payload = JSON.parse(req.body);
    expect(payload).toEqual({ data: [(await org.unit.events.get(eventId)).data] });
    const signature = String(req.headers['x-unit-signature']);
    expect(org.unit.webhooks.verify(signature, org.token, payload)).toBe(true);
    expect(org.unit.webhooks.verify(signature, 'another-secret', payload)).toBe(false);

    const log = await deliveries(org.unit, org.apiToken, eventId);
    expect(log.map((d) => d.attributes)).toMatchObject([{ attempt: 1, statusCode: 200, delivered: true, error: null }]);
  });

  it('sends JsonAPI webhooks the same body as application/vnd.api+json', async () => {
    const r = await receiver();
    const org = await orgWithWebhook(r.url, { contentType: 'JsonAPI' });
    const { eventId } = await recordEvent(org.orgId);
    await deliver(eventId, org.orgId);
    expect(r.requests[0].headers['content-type']).toBe('application/vnd.api+json');
    expect(JSON.parse(r.requests[0].body).data[0].id).toBe(eventId);
  });

  it('retries an AtLeastOnce delivery until the receiver accepts it, logging every attempt', async () => {
    const r = await receiver({ failFirst: 2 });
    const org = await orgWithWebhook(r.url, { deliveryMode: 'AtLeastOnce' });
    const { eventId } = await recordEvent(org.orgId);

    const result = await deliver(eventId, org.orgId);
    expect(result.deliveries[0].outcome).toBe('delivered');
    expect(r.requests.map((q) => q.status)).toEqual([500, 500, 200]);
    expect(r.delivered()).toHaveLength(1);
    expect(new Set(r.requests.map((q) => q.headers['x-unit-signature'])).size).toBe(1);

    const log = await deliveries(org.unit, org.apiToken, eventId);
    expect(log.map((d) => d.attributes)).toMatchObject([
      { attempt: 1, statusCode: 500, delivered: false, error: 'HTTP 500 Internal Server Error' },
      { attempt: 2, statusCode: 500, delivered: false },
      { attempt: 3, statusCode: 200, delivered: true, error: null },
    ]);
  });

  it('gives an AtMostOnce webhook a single attempt', async () => {
    const r = await receiver({ failFirst: 1 });
    const org = await orgWithWebhook(r.url, { deliveryMode: 'AtMostOnce' });
    const { eventId } = await recordEvent(org.orgId);

    const result = await deliver(eventId, org.orgId);
    expect(result.deliveries[0].outcome).toBe('failed');
    expect(r.requests).toHaveLength(1);
    const log = await deliveries(org.unit, org.apiToken, eventId);
    expect(log.map((d) => d.attributes)).toMatchObject([{ attempt: 1, statusCode: 500, delivered: false }]);
  });

  it('logs an unreachable receiver without leaking the URL or token', async () => {
    const r = await receiver();
    const deadUrl = r.url.replace('/hooks/unit', '/hooks/unit?key=topsecret');
    await r.close();
    receivers.splice(receivers.indexOf(r), 1);
    const org = await orgWithWebhook(deadUrl, { deliveryMode: 'AtMostOnce' });
    const { eventId } = await recordEvent(org.orgId);

    expect((await deliver(eventId, org.orgId)).deliveries[0].outcome).toBe('failed');
    const [attempt] = await deliveries(org.unit, org.apiToken, eventId);
    expect(attempt.attributes).toMatchObject({ attempt: 1, statusCode: null, delivered: false });
    expect(attempt.attributes.error).toBeTruthy();
    expect(attempt.attributes.error).not.toContain('topsecret');
    expect(attempt.attributes.error).not.toContain(org.token);
  });

  it('gives up on a receiver that does not answer within WEBHOOK_TIMEOUT_MS and logs the timeout', async () => {
    const r = await receiver({ delayMs: 5_000 });
    const org = await orgWithWebhook(r.url);
    const { eventId } = await recordEvent(org.orgId);
    const activities = createWebhookDeliveryActivities({ db: engine.db, config: { ...engine.config, WEBHOOK_TIMEOUT_MS: 200 } });

    await expect(activities.deliverWebhook({ eventId, webhookId: org.webhookId, attempt: 1 })).rejects.toMatchObject({
      type: 'WebhookDeliveryFailed',
      nonRetryable: false,
    });
    const [attempt] = await deliveries(org.unit, org.apiToken, eventId);
    expect(attempt.attributes).toMatchObject({ attempt: 1, statusCode: null, delivered: false, error: 'no response within 200 ms' });
    expect(r.requests).toHaveLength(1);
  });

  it('sends nothing to a disabled webhook', async () => {
    const enabled = await receiver();
    const disabled = await receiver();
    const org = await orgWithWebhook(enabled.url);
    const off = await org.unit.webhooks.create({
      type: 'webhook',
      attributes: { label: 'off', url: disabled.url, token: 't', contentType: 'Json', deliveryMode: 'AtLeastOnce' },
    });
    await org.unit.webhooks.disable(off.data.id);
    const { eventId } = await recordEvent(org.orgId);

    const result = await deliver(eventId, org.orgId);
    expect(result.deliveries).toEqual([{ webhookId: org.webhookId, outcome: 'delivered' }]);
    expect(enabled.requests).toHaveLength(1);
    expect(disabled.requests).toHaveLength(0);
  });

  it('delivers an event again when asked to (events.fire)', async () => {
    const r = await receiver();
    const org = await orgWithWebhook(r.url);
    const { eventId } = await recordEvent(org.orgId);
    await deliver(eventId, org.orgId);
    expect(r.requests).toHaveLength(1);

    const fired = await org.unit.events.fire(eventId);
    expect(fired.data.id).toBe(eventId);
    await r.waitForRequests(2);
    expect(r.requests[1].body).toBe(r.requests[0].body);
    await expect.poll(async () => (await deliveries(org.unit, org.apiToken, eventId)).filter((d) => d.attributes.delivered).length).toBe(2);
  });

  it('emitEvent records the event and starts its delivery; emitting the same transition again delivers nothing new', async () => {
    const r = await receiver();
    const org = await orgWithWebhook(r.url);
    const input = {
      orgId: org.orgId,
      type: 'application.pendingReview',
      dedupeKey: `application-7-pendingReview-${randomUUID()}`,
      attributes: {},
      relationships: { application: { data: { type: 'businessApplication', id: '7' } } },
    };
    const emit = () =>
      engine.temporal.workflow.execute<typeof emitEventWorkflow>('emitEventWorkflow', {
        taskQueue: engine.config.TEMPORAL_TASK_QUEUE,
        workflowId: `test-emit-${randomUUID()}`,
        args: [input],
      });

    const eventId = await emit();
    const delivery = engine.temporal.workflow.getHandle<typeof webhookDeliveryWorkflow>(`event-${eventId}-delivery`);
    expect((await delivery.result()).deliveries[0].outcome).toBe('delivered');

    const firstRun = (await delivery.describe()).runId;

    expect(await emit()).toBe(eventId);
    const latest = await delivery.describe();
    expect(latest.runId).toBe(firstRun);
    expect(latest.status.name).toBe('COMPLETED');
    expect(r.requests).toHaveLength(1);
    expect(JSON.parse(r.requests[0].body).data[0]).toMatchObject({ id: eventId, type: 'application.pendingReview' });
  });

  describe("an application's own deliveries (protocol 2)", () => {
    const createApplication = (org: Awaited<ReturnType<typeof orgWithWebhook>>) =>
      org.unit.applications.create(individualApplication({ useSelfieVerification: 'ReplaceIdentification' }));
    /** The org is fresh: its events are the application's. */
    const eventsOf = async (orgId: string) =>
      (await engine.db.selectFrom('events').select(['id', 'type']).where('org_id', '=', orgId).orderBy('id').execute()).map((e) => ({
        id: String(e.id),
        type: e.type,
      }));

    it('delivers each transition with its events in one activity, and running a batch again sends nothing a webhook already has', async () => {
      const r = await receiver();
      const org = await orgWithWebhook(r.url);
      await createApplication(org);
      await r.waitForRequests(2);
      const events = await eventsOf(org.orgId);
      expect(events.map((e) => e.type)).toEqual(['application.created', 'application.awaitingDocuments']);
      // No delivery workflow per event on the way.
      await expect(engine.temporal.workflow.getHandle(`event-${events[0].id}-delivery`).describe()).rejects.toThrow(/not found/i);

      // A reset workflow would run the same batch again: the webhook already has both events.
      const activities = createWebhookDeliveryActivities({ db: engine.db, config: engine.config });
      expect(await activities.deliverEvents({ orgId: org.orgId, eventIds: events.map((e) => e.id) })).toEqual({ delivered: 0, skipped: 2 });
      expect(r.requests).toHaveLength(2);
      expect(r.requests.map((q) => JSON.parse(q.body).data[0].type)).toEqual(['application.created', 'application.awaitingDocuments']);
    });

    it('hands an event over to a delivery workflow of its own once the quick retries are used up; attempts keep counting', async () => {
      // Four failures use up deliverEvents' four quick attempts (about 7 s).
      const r = await receiver({ failFirst: 4 });
      const org = await orgWithWebhook(r.url);
      await createApplication(org);
      const [created, awaiting] = await eventsOf(org.orgId);
      const takeover = engine.temporal.workflow.getHandle<typeof webhookDeliveryWorkflow>(`event-${created.id}-delivery`);
      await expect
        .poll(
          () =>
            takeover.describe().then(
              () => true,
              () => false,
            ),
          { timeout: 20_000, interval: 500 },
        )
        .toBe(true);
      expect((await takeover.result()).deliveries).toEqual([{ webhookId: org.webhookId, outcome: 'delivered' }]);
      expect(
        (await engine.temporal.workflow.getHandle<typeof webhookDeliveryWorkflow>(`event-${awaiting.id}-delivery`).result()).deliveries[0]
          .outcome,
      ).toBe('delivered');

      const log = await deliveries(org.unit, org.apiToken, created.id);
      expect(log.map((d) => [d.attributes.attempt, d.attributes.delivered])).toEqual([
        [1, false],
        [2, false],
        [3, false],
        [4, false],
        [5, true],
      ]);
      expect(
        r
          .delivered()
          .map((q) => JSON.parse(q.body).data[0].id)
          .sort(),
      ).toEqual([created.id, awaiting.id].sort());
      await recordHistory(engine.temporal, `event-${created.id}-delivery`, 'webhook-delivery-taken-over');
    });

    it('announces a document approved while another is still missing at once, not when the person settles', async () => {
      const r = await receiver();
      const org = await orgWithWebhook(r.url);
      const app = await org.unit.applications.create(individualApplication({ useSelfieVerification: 'Always' }));
      const selfie = (app.included as any[]).find((d) => d.attributes.documentType === 'SelfieVerification');
      const jobId = await insertVerificationJob(engine, org.orgId, { documentType: 'drivers-license' });
      await org.unit.applications.verifyDocument({
        applicationId: app.data.id,
        documentId: selfie.id,
        data: { type: 'selfieVerification', attributes: { jobId } },
      });
      await r.waitForRequests(3);
      expect(r.requests.map((q) => JSON.parse(q.body).data[0].type)).toEqual([
        'application.created',
        'application.awaitingDocuments',
        'document.approved',
      ]);
      expect((await org.unit.applications.get(app.data.id)).data.attributes.status).toBe('AwaitingDocuments'); // the IdDocument is still missing
    });

    it('never sends an AtMostOnce webhook an event twice, even when the delivery runs again', async () => {
      const r = await receiver({ failFirst: 1 });
      const org = await orgWithWebhook(r.url, { deliveryMode: 'AtMostOnce' });
      const first = await recordEvent(org.orgId);
      const second = await recordEvent(org.orgId, 'application.denied');
      const activities = createWebhookDeliveryActivities({ db: engine.db, config: engine.config });
      const eventIds = [first.eventId, second.eventId];

      expect(await activities.deliverEvents({ orgId: org.orgId, eventIds })).toEqual({ delivered: 1, skipped: 0 });
      expect(await activities.deliverEvents({ orgId: org.orgId, eventIds })).toEqual({ delivered: 0, skipped: 2 });
      expect(r.requests.map((q) => q.status)).toEqual([500, 200]);
      expect((await deliveries(org.unit, org.apiToken, first.eventId)).map((d) => d.attributes)).toMatchObject([
        { attempt: 1, statusCode: 500, delivered: false, error: 'HTTP 500 Internal Server Error' },
      ]);

      // Two runs at once (a timed-out attempt still running beside its retry): one request in all.
      const third = await recordEvent(org.orgId, 'application.approved');
      const both = await Promise.all([
        activities.deliverEvents({ orgId: org.orgId, eventIds: [third.eventId] }),
        activities.deliverEvents({ orgId: org.orgId, eventIds: [third.eventId] }),
      ]);
      expect(both.map((b) => b.delivered).sort()).toEqual([0, 1]);
      expect(r.requests).toHaveLength(3);
    });
  });
});
