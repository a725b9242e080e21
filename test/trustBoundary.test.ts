// Findings of the trust-boundary review (issue 8) that are fixed so far: identification never
// comes back in full however deeply it is nested, text PostgreSQL cannot store is a 400 in every
// body type, strings have bounds, downloads are never sniffed or cached, an empty bootstrap
// token is no token, and slow clients cannot hold a connection open indefinitely.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config';
import { boundClientTime } from '../src/platform/http/jsonApi';
import { isGlobalAddress, isObviouslyPrivate } from '../src/webhooks/destinationPolicy';
import { files, individualApplication, person, waitForStatus } from './support/applicationFixtures';
import { consentFields } from './support/verificationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';
import { startWebhookReceiver, type WebhookReceiver } from './support/webhookReceiver';
import { createEventActivities } from '../src/webhooks/activities';

describe('trust boundary', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('never returns an SSN or passport number in full, however deeply nested (a power of attorney agent)', async () => {
    const agent = person({ first: 'Agent', last: 'Smith' }) as { ssn: string };
    const req = individualApplication({ extra: { powerOfAttorneyAgent: agent } });
    const applicant = (req.attributes as unknown as { ssn: string }).ssn;
    const created = await engine.api('POST', '/applications', { data: req });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.data.id;
    for (const res of [created, await engine.api('GET', `/applications/${id}`), await engine.api('GET', '/applications?page[limit]=5')]) {
      const text = JSON.stringify(res.body);
      expect(text).not.toContain(agent.ssn);
      expect(text).not.toContain(applicant);
      expect(text).not.toMatch(/"ssn"/);
    }
    expect(created.body.data.attributes.powerOfAttorneyAgent.maskedSSN).toBe(`*****${agent.ssn.slice(-4)}`);
  });

  it('refuses a lone UTF-16 surrogate with a 400 in any JSON body, not a 500', async () => {
    const req = individualApplication();
    const body = JSON.stringify({ data: req }).replace('"Peter"', '"Pe\\ud800ter"');
    const res = await engine.api('POST', '/applications', body, { 'content-type': 'application/vnd.api+json' });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toMatch(/surrogate/);
    const hook = JSON.stringify({
      data: {
        type: 'webhook',
        attributes: { label: 'LABEL', url: 'http://127.0.0.1:9/h', contentType: 'Json', deliveryMode: 'AtLeastOnce' },
      },
    }).replace('LABEL', 'x\\udfff');
    expect((await engine.api('POST', '/webhooks', hook, { 'content-type': 'application/vnd.api+json' })).status).toBe(400);
  });

  it('refuses a NUL in a multipart text field of a verification job with a 400 naming the field', async () => {
    const form = new FormData();
    form.append('selfie', new Blob([files.jpeg], { type: 'image/jpeg' }), 'selfie.jpg');
    form.append('idFront', new Blob([files.jpeg], { type: 'image/jpeg' }), 'id.jpg');
    form.append('fullName', 'Jane\u0000Doe');
    for (const [k, v] of Object.entries(consentFields())) form.append(k, v);
    const res = await engine.api('POST', '/verification-jobs', form);
    expect(res.status).toBe(400);
    expect(res.body.errors[0].source.pointer).toBe('/data/attributes/fullName');
  });

  it("bounds the strings that were unbounded: an agent's jwtSubject, device fingerprints", async () => {
    const agent = { ...person({ first: 'Agent', last: 'Smith' }), jwtSubject: 'x'.repeat(256) };
    const tooLong = await engine.api('POST', '/applications', { data: individualApplication({ extra: { powerOfAttorneyAgent: agent } }) });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.errors[0].source.pointer).toBe('/data/attributes/powerOfAttorneyAgent/jwtSubject');
    const fingerprint = await engine.api('POST', '/applications', {
      data: individualApplication({ extra: { deviceFingerprints: [{ provider: 'iovation', value: 'v'.repeat(2001) }] } }),
    });
    expect(fingerprint.status).toBe(400);
    expect(fingerprint.body.errors[0].source.pointer).toBe('/data/attributes/deviceFingerprints/0/value');
  });

  it('serves uploaded files as attachments that are neither sniffed nor cached', async () => {
    const created = await engine.unit.applications.create(individualApplication());
    const doc = (created.included as any[]).find((d) => d.attributes.documentType === 'IdDocument');
    const put = await engine.api('PUT', `/applications/${created.data.id}/documents/${doc.id}`, files.jpeg, {
      'content-type': 'image/jpeg',
    });
    expect(put.status).toBe(200);
    const res = await fetch(`${engine.baseUrl}/applications/${created.data.id}/documents/${doc.id}/download`, {
      headers: { authorization: `Bearer ${engine.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/);
  });
});

describe('configuration and connections', () => {
  it('an empty BOOTSTRAP_API_TOKEN (as docker compose passes it) is no token, not a refused one', () => {
    expect(loadConfig({ BOOTSTRAP_API_TOKEN: '' }).BOOTSTRAP_API_TOKEN).toBeUndefined();
    expect(() => loadConfig({ BOOTSTRAP_API_TOKEN: 'short' })).toThrow(/at least 16 characters/);
  });

  it('bounds how long a client may take over its headers, its request and an idle connection', () => {
    const server = boundClientTime(createServer());
    expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout]).toEqual([20_000, 60_000, 5_000]);
  });
});

describe('webhook destinations: every address that is not globally reachable is refused when the webhook is saved', () => {
  // Refusals are checked at save time: nothing is ever sent to these addresses.
  const refused = [
    'http://127.0.0.1/h',
    'http://10.1.2.3/h',
    'http://169.254.169.254/latest',
    'http://0.0.0.0/h',
    'http://2130706433/h',
    'http://100.64.0.1/h',
    'http://192.0.0.8/h',
    'http://192.0.2.10/h',
    'http://198.51.100.7/h',
    'http://203.0.113.9/h',
    'http://198.18.0.1/h',
    'http://198.19.255.255/h',
    'http://240.0.0.1/h',
    'http://255.255.255.255/h',
    'http://224.0.0.251/h',
    'http://[::1]/h',
    'http://[::]/h',
    'http://[::127.0.0.1]/h',
    'http://[::ffff:127.0.0.1]/h',
    'http://[::ffff:7f00:1]/h',
    'http://[::ffff:0:7f00:1]/h',
    'http://[64:ff9b::a00:1]/h',
    'http://[64:ff9b:1::1]/h',
    'http://[2002:7f00:1::]/h',
    'http://[fec0::1]/h',
    'http://[fe80::1]/h',
    'http://[fd00::1]/h',
    'http://[ff02::1]/h',
    'http://[2001:db8::1]/h',
    'http://[100::1]/h',
    'http://[2001::1]/h',
    'http://[3fff::1]/h',
    'http://localhost/h',
    'http://hooks.localhost/h',
  ];
  const allowed = ['https://hooks.example.com/unit', 'http://93.184.215.14/h', 'http://[2606:4700::1111]/h', 'http://[::ffff:8.8.8.8]/h'];

  it.each(refused)('the save-time check refuses %s', (url) => {
    expect(isObviouslyPrivate(url)).toBe(true);
  });
  it.each(allowed)('and lets %s through (a name is checked again after DNS, before each delivery)', (url) => {
    expect(isObviouslyPrivate(url)).toBe(false);
  });
  it('anything that does not parse as an address is not global', () => {
    expect(isGlobalAddress('::ffff:999.1.1.1')).toBe(false);
    expect(isGlobalAddress('1::2::3')).toBe(false);
  });

  describe('through the API', () => {
    let engine: TestEngine;
    beforeAll(async () => {
      engine = await startTestEngine({ env: { WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' } });
    });
    afterAll(async () => {
      await engine?.stop();
    });
    it('POST /webhooks answers 400 pointing at the url for each of them, and stores nothing', async () => {
      for (const url of refused) {
        const res = await engine.api('POST', '/webhooks', {
          data: { type: 'webhook', attributes: { label: 'x', url, contentType: 'Json', deliveryMode: 'AtLeastOnce' } },
        });
        expect(res.status, url).toBe(400);
        expect(res.body.errors[0].source.pointer).toBe('/data/attributes/url');
      }
      expect((await engine.api('GET', '/webhooks')).body.data).toEqual([]);
    });
  });
});

describe('redelivery on request is bounded', () => {
  let engine: TestEngine;
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { REDELIVERIES_PER_ORG: '2' } });
    receiver = await startWebhookReceiver({ failFirst: 1_000_000 }); // never accepts: each redelivery keeps retrying
  });
  afterAll(async () => {
    await receiver?.close();
    await engine?.stop();
  });

  it('one redelivery of an event runs at a time: asking again meanwhile is a 429 with Retry-After', async () => {
    const { eventId } = await createEventActivities({ db: engine.db }).recordEvent({
      orgId: engine.orgId,
      type: 'application.approved',
      dedupeKey: randomUUID(),
      attributes: {},
      relationships: {},
    });
    const hook = await engine.api('POST', '/webhooks', {
      data: { type: 'webhook', attributes: { label: 'failing', url: receiver.url, contentType: 'Json', deliveryMode: 'AtLeastOnce' } },
    });
    expect(hook.status).toBe(201);
    expect((await engine.api('POST', `/events/${eventId}`)).status).toBe(200);
    await receiver.waitForRequests(1);
    const again = await engine.api('POST', `/events/${eventId}`);
    expect(again.status).toBe(429);
    expect(again.headers.get('retry-after')).toBe('60');
    expect(again.body.errors[0].code).toBe('redelivery_in_progress');
    await engine.temporal.workflow.getHandle(`event-${eventId}-redelivery`).terminate('test over');
    // Once it has ended, the event can be redelivered again.
    expect((await engine.api('POST', `/events/${eventId}`)).status).toBe(200);
    await engine.temporal.workflow.getHandle(`event-${eventId}-redelivery`).terminate('test over');
  });

  it('an org runs at most REDELIVERIES_PER_ORG redeliveries at once: one more event is a 429 until one ends', async () => {
    const events = await Promise.all(
      [1, 2, 3].map(
        async () =>
          (
            await createEventActivities({ db: engine.db }).recordEvent({
              orgId: engine.orgId,
              type: 'application.approved',
              dedupeKey: randomUUID(),
              attributes: {},
              relationships: {},
            })
          ).eventId,
      ),
    );
    for (const id of events.slice(0, 2)) expect((await engine.api('POST', `/events/${id}`)).status).toBe(200);
    const running = `WorkflowType = 'webhookDeliveryWorkflow' AND ExecutionStatus = 'Running' AND OrgId = '${engine.orgId}'`;
    await expect.poll(async () => (await engine.temporal.workflow.count(running)).count, { timeout: 10_000 }).toBe(2);
    const third = await engine.api('POST', `/events/${events[2]}`);
    expect(third.status).toBe(429);
    expect(third.body.errors[0].code).toBe('too_many_redeliveries');
    expect(third.headers.get('retry-after')).toBe('60');
    await engine.temporal.workflow.getHandle(`event-${events[0]}-redelivery`).terminate('test over');
    await expect.poll(async () => (await engine.temporal.workflow.count(running)).count, { timeout: 10_000 }).toBe(1);
    expect((await engine.api('POST', `/events/${events[2]}`)).status).toBe(200);
    for (const id of events.slice(1)) await engine.temporal.workflow.getHandle(`event-${id}-redelivery`).terminate('test over');
  });
});

describe('duplicate identities', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('an SSN reused after its application was approved is flagged too, not only one on an open application', async () => {
    const first = individualApplication();
    const created = await engine.unit.applications.create(first);
    const doc = (created.included as any[]).find((d) => d.attributes.documentType === 'IdDocument');
    for (const side of ['', '/back']) {
      const put = await engine.api('PUT', `/applications/${created.data.id}/documents/${doc.id}${side}`, files.jpeg, {
        'content-type': 'image/jpeg',
      });
      expect(put.status).toBe(200);
    }
    await waitForStatus(engine, created.data.id, 'PendingReview');
    const review = await engine.api(
      'POST',
      `/applications/${created.data.id}/review`,
      { data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'documents checked' } } },
      { authorization: `Bearer ${engine.reviewer.token}` },
    );
    expect(review.body.data.attributes.status).toBe('Approved');
    const again = await engine.unit.applications.create({ ...first, attributes: { ...first.attributes, email: 'again@example.com' } });
    const r = await waitForStatus(engine, again.data.id, 'PendingReview');
    expect(r.data.attributes.decisionReasonCode).toBe('DuplicateIdentity');
    expect(r.data.attributes.decisionReason).toMatch(/another open or approved application/);
  });
});

describe('upload limits hold without a Content-Length', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { MAX_UPLOAD_BYTES: '100000' } });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  /** A multipart body of `count` JPEG-signed files of `size` bytes, streamed chunked (no Content-Length). */
  async function chunkedJob(count: number, size: number) {
    const boundary = `b${randomUUID()}`;
    const file = Buffer.concat([files.jpeg, Buffer.alloc(size - files.jpeg.length, 1)]);
    const fields = ['selfie', 'idFront', 'idBack', ...Array.from({ length: count - 3 }, () => 'selfieFrames')];
    const parts = fields.map((name, i) =>
      Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`,
        ),
        file,
        Buffer.from('\r\n'),
      ]),
    );
    const consentParts = Object.entries(consentFields()).map(([k, v]) =>
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`),
    );
    const chunks = [...consentParts, ...parts, Buffer.from(`--${boundary}--\r\n`)];
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next) controller.enqueue(next);
        else controller.close();
      },
    });
    return fetch(`${engine.baseUrl}/verification-jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${engine.token}`, 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
      duplex: 'half',
    } as RequestInit);
  }

  it('a chunked multipart job of 8 files, each under the per-file limit but over the limit in all, is a 413 and stores nothing', async () => {
    const before = await engine.db
      .selectFrom('verification_jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('org_id', '=', engine.orgId)
      .executeTakeFirstOrThrow();
    const res = await chunkedJob(8, 95_000);
    expect(res.status).toBe(413);
    expect((await res.json()).errors[0].code).toBe('payload_too_large');
    const after = await engine.db
      .selectFrom('verification_jobs')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('org_id', '=', engine.orgId)
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('a chunked job within the limits is taken (202)', async () => {
    const res = await chunkedJob(3, 20_000);
    expect(res.status).toBe(202);
  });
});
