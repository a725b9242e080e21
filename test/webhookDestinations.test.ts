// Where a webhook delivery connects, and for how long: the host is resolved once, the addresses
// are checked, and the connection goes to exactly those; one deadline covers the whole attempt.
// Every receiver here listens on loopback (127.0.0.1, 127.0.0.2); host names are resolved by an
// injected resolver, so no real DNS and no other address is ever involved.
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEventActivities, createWebhookDeliveryActivities } from '../src/webhooks/activities';
import { postWebhook, WebhookDeliveryCanceled, type HostResolver } from '../src/webhooks/deliveryTransport';
import { startTestEngine, type TestEngine } from './support/engine';
import { TEST_TLS_CERT, TEST_TLS_HOSTNAME, TEST_TLS_KEY } from './support/testTlsCertificate';

interface Seen {
  headers: IncomingHttpHeaders;
  path: string;
}

/** An HTTP receiver on a loopback address that records what it is sent and answers with `answer` (200 by default). */
async function loopbackReceiver(host: string, port = 0, answer: (res: ServerResponse) => void = (res) => res.end('ok')) {
  const seen: Seen[] = [];
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ headers: req.headers, path: req.url ?? '' });
      answer(res);
    });
  });
  await listen(server, host, port);
  return { seen, port: (server.address() as AddressInfo).port, close: () => close(server) };
}

function listen(server: Server | ReturnType<typeof createTcpServer>, host: string, port: number) {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
function close(server: Server | ReturnType<typeof createTcpServer>) {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((r) => server.close(r));
}

/** A resolver that answers each look-up from a script, and counts them. */
function scriptedResolver(...answers: string[][]): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const answer = answers[Math.min(calls.length, answers.length) - 1];
    return answer.map((address) => ({ address, family: address.includes(':') ? (6 as const) : (4 as const) }));
  };
  return Object.assign(resolve, { calls });
}

describe('webhook destinations', () => {
  let engine: TestEngine;
  const cleanup: Array<() => Promise<unknown>> = [];
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await Promise.all(cleanup.map((c) => c()));
    await engine?.stop();
  });

  /** A webhook for `url` in a fresh org, and an event for it to deliver. */
  const webhookWithEvent = async (url: string) => {
    const org = await engine.newOrg();
    const hook = await org.unit.webhooks.create({
      type: 'webhook',
      attributes: { label: 'ops', url, token: `whsec-${randomUUID()}`, contentType: 'Json', deliveryMode: 'AtLeastOnce' },
    });
    const { eventId } = await createEventActivities({ db: engine.db }).recordEvent({
      orgId: org.orgId,
      type: 'application.approved',
      dedupeKey: randomUUID(),
      attributes: {},
      relationships: {},
    });
    const log = async () => {
      const res = await fetch(`${engine.baseUrl}/events/${eventId}/deliveries`, { headers: { authorization: `Bearer ${org.token}` } });
      expect(res.status).toBe(200);
      return ((await res.json()).data as Array<{ attributes: Record<string, unknown> }>).map((d) => d.attributes);
    };
    return { orgId: org.orgId, webhookId: hook.data.id, eventId, log };
  };

  it('connects to the address it checked: a second DNS answer (rebinding) is never asked for nor used', async () => {
    const vetted = await loopbackReceiver('127.0.0.1');
    cleanup.push(vetted.close);
    // Same port on another loopback address: where a second look-up would send the request.
    const rebound = await loopbackReceiver('127.0.0.2', vetted.port);
    cleanup.push(rebound.close);
    const resolveHost = scriptedResolver(['127.0.0.1'], ['127.0.0.2']);
    const { webhookId, eventId, orgId, log } = await webhookWithEvent(`http://rebind.example.test:${vetted.port}/hooks/unit?x=1`);

    const activities = createWebhookDeliveryActivities({ db: engine.db, config: engine.config, resolveHost });
    await expect(activities.deliverWebhook({ eventId, webhookId, orgId, attempt: 1 })).resolves.toMatchObject({ outcome: 'delivered' });

    expect(resolveHost.calls).toEqual(['rebind.example.test']);
    expect(vetted.seen).toHaveLength(1);
    expect(rebound.seen).toHaveLength(0);
    // The receiver still sees the URL's host name and path.
    expect(vetted.seen[0]).toMatchObject({ path: '/hooks/unit?x=1', headers: { host: `rebind.example.test:${vetted.port}` } });
    expect(await log()).toMatchObject([{ attempt: 1, statusCode: 200, delivered: true }]);
  });

  it('checks the resolved addresses before sending: a name resolving to loopback is refused unless private networks are allowed', async () => {
    const r = await loopbackReceiver('127.0.0.1');
    cleanup.push(r.close);
    const { webhookId, eventId, orgId, log } = await webhookWithEvent(`http://innocent.example.test:${r.port}/hooks/unit`);
    const activities = createWebhookDeliveryActivities({
      db: engine.db,
      config: { ...engine.config, WEBHOOK_ALLOW_PRIVATE_NETWORKS: false },
      resolveHost: scriptedResolver(['127.0.0.1']),
    });

    await expect(activities.deliverWebhook({ eventId, webhookId, orgId, attempt: 1 })).rejects.toMatchObject({
      type: 'WebhookDestinationRefused',
      nonRetryable: true,
    });
    expect(r.seen).toHaveLength(0);
    const [attempt] = await log();
    expect(attempt).toMatchObject({ attempt: 1, statusCode: null, delivered: false });
    expect(attempt.error).toMatch(/innocent\.example\.test is a private, loopback or link-local address/);
  });

  it('one deadline per attempt: a slow DNS answer and a receiver that trickles its headers fail together within WEBHOOK_TIMEOUT_MS', async () => {
    // Accepts, starts an answer, then sends one header line every 100 ms and never finishes.
    const sockets = new Set<Socket>();
    const trickler = createTcpServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 200 OK\r\n');
      const drip = setInterval(() => socket.write(`x-slow: ${Date.now()}\r\n`), 100);
      socket.on('close', () => clearInterval(drip));
    });
    await listen(trickler, '127.0.0.1', 0);
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await close(trickler);
    });
    const port = (trickler.address() as AddressInfo).port;
    const slowDns: HostResolver = async () => {
      await new Promise((r) => setTimeout(r, 600));
      return [{ address: '127.0.0.1', family: 4 }];
    };
    const { webhookId, eventId, orgId, log } = await webhookWithEvent(`http://slow.example.test:${port}/hooks/unit`);
    const activities = createWebhookDeliveryActivities({
      db: engine.db,
      config: { ...engine.config, WEBHOOK_TIMEOUT_MS: 1000 },
      resolveHost: slowDns,
    });

    const started = performance.now();
    await expect(activities.deliverWebhook({ eventId, webhookId, orgId, attempt: 1 })).rejects.toMatchObject({
      type: 'WebhookDeliveryFailed',
      nonRetryable: false,
    });
    const elapsed = performance.now() - started;
    expect(sockets.size).toBe(1); // it did connect, after the slow look-up
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(1600);
    const [attempt] = await log();
    expect(attempt).toMatchObject({ attempt: 1, statusCode: null, delivered: false, error: 'no response within 1000 ms' });
    expect(attempt.durationMs as number).toBeLessThan(1600);
  });

  it('a host that never resolves fails the attempt at the deadline, having sent nothing', async () => {
    const { webhookId, eventId, orgId, log } = await webhookWithEvent('http://silent-dns.example.test/hooks/unit');
    const activities = createWebhookDeliveryActivities({
      db: engine.db,
      config: { ...engine.config, WEBHOOK_TIMEOUT_MS: 500 },
      resolveHost: () => new Promise(() => undefined),
    });

    const started = performance.now();
    await expect(activities.deliverWebhook({ eventId, webhookId, orgId, attempt: 1 })).rejects.toMatchObject({
      type: 'WebhookHostUnresolved',
      nonRetryable: false,
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await log()).toMatchObject([
      { attempt: 1, statusCode: null, delivered: false, error: "cannot resolve the webhook's host: no DNS answer within 500 ms" },
    ]);
  });

  it('does not follow redirects: a 3xx is a failed attempt and its Location is never requested', async () => {
    const elsewhere = await loopbackReceiver('127.0.0.1');
    cleanup.push(elsewhere.close);
    const redirecting = await loopbackReceiver('127.0.0.1', 0, (res) =>
      res.writeHead(307, { location: `http://127.0.0.1:${elsewhere.port}/stolen` }).end(),
    );
    cleanup.push(redirecting.close);
    const { webhookId, eventId, orgId, log } = await webhookWithEvent(`http://127.0.0.1:${redirecting.port}/hooks/unit`);
    const activities = createWebhookDeliveryActivities({ db: engine.db, config: engine.config });

    await expect(activities.deliverWebhook({ eventId, webhookId, orgId, attempt: 1 })).rejects.toMatchObject({
      type: 'WebhookDeliveryFailed',
    });
    expect(redirecting.seen).toHaveLength(1);
    expect(elsewhere.seen).toHaveLength(0);
    expect(await log()).toMatchObject([{ attempt: 1, statusCode: 307, delivered: false, error: 'HTTP 307 Temporary Redirect' }]);
  });
});

describe('the delivery transport', () => {
  const post = (url: string) => ({ url, headers: { 'content-type': 'application/json' }, body: '{"data":[]}' });

  it("over HTTPS checks the certificate against the URL's host name while connecting to the vetted address", async () => {
    let servername: string | false | null = null;
    const server = createHttpsServer({ cert: TEST_TLS_CERT, key: TEST_TLS_KEY }, (req, res) => {
      servername = (req.socket as TLSSocket).servername;
      res.end('ok');
    });
    await listen(server, '127.0.0.1', 0);
    const port = (server.address() as AddressInfo).port;
    try {
      const resolveHost = scriptedResolver(['127.0.0.1']);
      const opts = { timeoutMs: 2000, allowPrivateNetworks: true, resolveHost, ca: TEST_TLS_CERT };

      await expect(postWebhook(post(`https://${TEST_TLS_HOSTNAME}:${port}/hooks`), opts)).resolves.toMatchObject({ status: 200 });
      expect(servername).toBe(TEST_TLS_HOSTNAME);
      expect(resolveHost.calls).toEqual([TEST_TLS_HOSTNAME]);
      // The same receiver by address: its certificate does not name 127.0.0.1, so nothing is sent.
      await expect(postWebhook(post(`https://127.0.0.1:${port}/hooks`), opts)).rejects.toMatchObject({
        code: 'ERR_TLS_CERT_ALTNAME_INVALID',
      });
    } finally {
      await close(server);
    }
  });

  it('stops at once when the activity is canceled, whatever the receiver is doing', async () => {
    const r = await loopbackReceiver('127.0.0.1', 0, () => undefined); // never answers
    try {
      const cancel = new AbortController();
      setTimeout(() => cancel.abort(), 200);
      const started = performance.now();
      await expect(
        postWebhook(post(`http://127.0.0.1:${r.port}/hooks`), { timeoutMs: 5000, allowPrivateNetworks: true, signal: cancel.signal }),
      ).rejects.toBeInstanceOf(WebhookDeliveryCanceled);
      expect(performance.now() - started).toBeLessThan(1000);
    } finally {
      await r.close();
    }
  });
});
