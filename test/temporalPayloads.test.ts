// What the Temporal server stores is ciphertext: review reasons, applicants' names and anything
// personal in workflow and activity payloads are sealed with the key ring before they leave the
// engine (src/platform/temporal/payloadCodec.ts). Operators read them through the codec endpoint
// the Temporal Web UI and CLI call; nobody else can.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createKey } from '../src/orgs/repository';
import { loadConfig } from '../src/platform/config';
import { newKeyMaterial, parseKeyRing } from '../src/platform/crypto/keyRing';
import { temporalConnectionOptions } from '../src/platform/temporal/connectionOptions';
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, payloadCodec } from '../src/platform/temporal/payloadCodec';
import { applicationInReview, individualApplication, reviewAsReviewer } from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

const text = (b: Uint8Array | null | undefined) => Buffer.from(b ?? []).toString('utf8');
const payloadJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

/** Every payload in a history as the server stores it, but search attributes (the server indexes them, in the clear by design). */
function payloadsOf(
  message: unknown,
  out: Array<{ payload: Payload; where: string }> = [],
  where = '',
): Array<{ payload: Payload; where: string }> {
  if (message === null || typeof message !== 'object' || message instanceof Uint8Array) return out;
  for (const [key, value] of Object.entries(message)) {
    if (key === 'searchAttributes' || value === null || typeof value !== 'object' || value instanceof Uint8Array) continue;
    if ('metadata' in value && 'data' in value && value.data instanceof Uint8Array)
      out.push({ payload: value as Payload, where: `${where}.${key}` });
    else payloadsOf(value, out, `${where}.${key}`);
  }
  return out;
}
/** The SDK core's own bookkeeping in markers (patch ids, local activity sequence numbers and times): no user data, not the codec's. */
const coreBookkeeping = (where: string) => /markerRecordedEventAttributes\.details\.(data|patch-data)\./.test(where);

describe('Temporal payloads are encrypted; operators decode them through the codec endpoint', () => {
  const uiSecret = randomBytes(24).toString('hex');
  let engine: TestEngine;
  let rawTemporal: Client;
  let operatorToken: string;
  beforeAll(async () => {
    engine = await startTestEngine({ env: { TEMPORAL_UI_CODEC_SECRET: uiSecret } });
    // A client without the engine's codec sees what the Temporal server stores.
    rawTemporal = new Client({ connection: engine.temporal.connection, namespace: engine.config.TEMPORAL_NAMESPACE });
    operatorToken = (await createKey(engine.db, engine.orgId, { name: 'engine operator', scopes: ['operator'] })).token;
  });
  afterAll(async () => {
    await engine?.stop();
  });

  /** The raw history of a workflow and of the child workflows it started. */
  async function rawHistories(workflowId: string) {
    const histories = new Map<string, unknown[]>();
    const queue = [workflowId];
    while (queue.length) {
      const wid = queue.shift()!;
      const events: unknown[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const res = await rawTemporal.workflowService.getWorkflowExecutionHistory({
          namespace: engine.config.TEMPORAL_NAMESPACE,
          execution: { workflowId: wid },
          nextPageToken,
        });
        for (const e of res.history?.events ?? []) {
          events.push(e);
          const child = e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId;
          if (child) queue.push(child);
        }
        nextPageToken = res.nextPageToken?.length ? res.nextPageToken : undefined;
      } while (nextPageToken);
      histories.set(wid, events);
    }
    return histories;
  }

  const codecCall = (path: string, payloads: Payload[], headers: Record<string, string> = {}) =>
    fetch(`${engine.baseUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': engine.config.TEMPORAL_NAMESPACE, ...headers },
      body: JSON.stringify({ payloads: payloads.map(payloadJson) }),
    });

  it('a reviewed application leaves no name, passport number, SSN or review reason in the stored history', async () => {
    const reason = `passport photo checked by hand ${randomBytes(6).toString('hex')}`;
    const request = individualApplication({ first: 'Wilhelmina', last: 'Zbrzezniak', passport: true });
    const passport = (request.attributes as { passport: string }).passport;
    const { id: applicationId } = await applicationInReview(engine, request);
    const reviewed = await reviewAsReviewer(engine, applicationId, 'Approved', reason);
    expect(reviewed.status).toBe(200);
    // And an applicant with an SSN, still awaiting documents.
    const withSsn = individualApplication({ first: 'Wilhelmina', last: 'Zbrzezniak' });
    const ssn = (withSsn.attributes as { ssn: string }).ssn;
    const second = await engine.unit.applications.create(withSsn);

    const histories = new Map([
      ...(await rawHistories(`application-${applicationId}`)),
      ...(await rawHistories(`application-${second.data.id}`)),
    ]);
    expect(histories.size).toBeGreaterThanOrEqual(3); // two applications and at least one person workflow
    const found = [...histories.values()].flatMap((events) => payloadsOf(events));
    const payloads = found.map((f) => f.payload);
    const sealed = found.filter((f) => !coreBookkeeping(f.where));
    expect(sealed.length).toBeGreaterThan(10);
    for (const { payload, where } of sealed) {
      expect(text(payload.metadata?.encoding), where).toBe(ENCRYPTED_ENCODING);
      expect(text(payload.metadata?.[KEY_ID_METADATA]), where).toBe(engine.config.keyRing.activeKeyId);
    }
    const stored = Buffer.concat(
      payloads.flatMap((p) => [Buffer.from(p.data ?? []), ...Object.values(p.metadata ?? {}).map((v) => Buffer.from(v))]),
    );
    for (const secret of [reason, 'Zbrzezniak', 'Wilhelmina', passport, ssn]) expect(stored.includes(secret)).toBe(false);

    // An operator reads them: the review update's arguments carry the reason.
    const update = [...histories.get(`application-${applicationId}`)!].find(
      (e: any) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'review',
    ) as any;
    const args: Payload[] = update.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest.input.args.payloads;
    const res = await codecCall('/codec/decode', args, { authorization: `Bearer ${operatorToken}` });
    expect(res.status).toBe(200);
    const decoded = ((await res.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
    expect(Buffer.from(decoded[0].metadata.encoding, 'base64').toString()).toBe('json/plain');
    expect(JSON.parse(Buffer.from(decoded[0].data, 'base64').toString())).toMatchObject({ decision: 'Approved', reason });
    // The memo too: what the UI shows as the applicant.
    const started = histories.get(`application-${applicationId}`)![0] as any;
    const memo = await codecCall('/codec/decode', [started.workflowExecutionStartedEventAttributes.memo.fields.applicant], {
      authorization: `Bearer ${operatorToken}`,
    });
    const [applicant] = ((await memo.json()) as { payloads: Array<{ data: string }> }).payloads;
    expect(JSON.parse(Buffer.from(applicant.data, 'base64').toString())).toBe('Wilhelmina Zbrzezniak');
  });

  it('decoding takes an operator key: a partner or reviewer key is a 403, no key a 401', async () => {
    const sealed = await payloadCodec(engine.config.keyRing).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') },
    ]);
    for (const token of [engine.token, engine.reviewer.token]) {
      const res = await codecCall('/codec/decode', sealed, { authorization: `Bearer ${token}` });
      expect(res.status).toBe(403);
      expect(await res.text()).not.toContain('json/plain');
    }
    expect((await codecCall('/codec/decode', sealed)).status).toBe(401);
    expect((await codecCall('/codec/encode', sealed)).status).toBe(401);
    // A payload from another namespace is not this codec's to open.
    const other = await codecCall('/codec/decode', sealed, { authorization: `Bearer ${operatorToken}`, 'x-namespace': 'someone-else' });
    expect(other.status).toBe(404);
  });

  it('encode and decode round-trip through the endpoint, which follows the remote codec protocol', async () => {
    const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"reason":"hello"}') };
    const auth = { authorization: `Bearer ${operatorToken}` };
    const enc = await codecCall('/codec/encode', [plain], auth);
    expect(enc.status).toBe(200);
    const [sealed] = ((await enc.json()) as { payloads: Array<{ metadata: Record<string, string>; data: string }> }).payloads;
    expect(Buffer.from(sealed.metadata.encoding, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    expect(Buffer.from(sealed.data, 'base64').includes('hello')).toBe(false);
    const dec = await fetch(`${engine.baseUrl}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ payloads: [sealed] }),
    });
    expect(await dec.json()).toEqual({ payloads: [payloadJson(plain)] });
    // A body that is not Payloads JSON is a 400, not a 500.
    const bad = await fetch(`${engine.baseUrl}/codec/decode`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: '{"payloads":[{"data":"%%%"}]}',
    });
    expect(bad.status).toBe(400);
  });

  it("answers the Web UI's CORS preflight for the dev UI's origins only", async () => {
    const preflight = (origin: string) =>
      fetch(`${engine.baseUrl}/codec/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
    const ok = await preflight('http://localhost:8233');
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/X-Namespace/i);
    expect((await preflight('http://127.0.0.1:8233')).headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    expect((await preflight('https://attacker.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('the Web UI reaches it under the secret path it was given (it cannot send a key); any other path is a 404', async () => {
    const sealed = await payloadCodec(engine.config.keyRing).encode([
      { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"for the UI"') },
    ]);
    const res = await codecCall(`/codec/ui/${uiSecret}/decode`, sealed, { origin: 'http://localhost:8233' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(((await res.json()) as { payloads: Array<{ data: string }> }).payloads[0].data).toBe(
      Buffer.from('"for the UI"').toString('base64'),
    );
    expect((await codecCall(`/codec/ui/${uiSecret.replace(/.$/, (c) => (c === '0' ? '1' : '0'))}/decode`, sealed)).status).toBe(404);
  });
});

describe('the payload codec', () => {
  const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"reason":"documents checked"}') };
  const oldKey = newKeyMaterial();
  const index = newKeyMaterial();

  it('still opens payloads sealed with an older key after rotation, and seals new ones with the new key', async () => {
    const before = payloadCodec(parseKeyRing(`k1:${oldKey}`, index));
    const [sealed] = await before.encode([plain]);
    expect(text(sealed.metadata?.[KEY_ID_METADATA])).toBe('k1');

    const rotated = payloadCodec(parseKeyRing(`k2:${newKeyMaterial()},k1:${oldKey}`, index));
    const [opened] = await rotated.decode([sealed]);
    expect(text(opened.data)).toBe('{"reason":"documents checked"}');
    expect(text(opened.metadata?.encoding)).toBe('json/plain');
    const [resealed] = await rotated.encode([plain]);
    expect(text(resealed.metadata?.[KEY_ID_METADATA])).toBe('k2');

    // Once k1 has left the ring, its payloads say so rather than decode to garbage.
    await expect(payloadCodec(parseKeyRing(`k2:${newKeyMaterial()}`, index)).decode([sealed])).rejects.toThrow(
      /key k1.*not in DATA_ENCRYPTION_KEYS/,
    );
  });

  it('refuses a tampered payload or one relabelled with another key id', async () => {
    const ring = parseKeyRing(`k2:${newKeyMaterial()},k1:${oldKey}`, index);
    const codec = payloadCodec(ring);
    const [sealed] = await codec.encode([plain]);
    const flipped = Buffer.from(sealed.data!);
    flipped[flipped.length - 1] ^= 1;
    await expect(codec.decode([{ ...sealed, data: flipped }])).rejects.toThrow(/did not authenticate/);
    await expect(codec.decode([{ ...sealed, metadata: { ...sealed.metadata, [KEY_ID_METADATA]: Buffer.from('k1') } }])).rejects.toThrow(
      /did not authenticate/,
    );
  });

  it('passes payloads that were never sealed through unchanged (histories recorded before encryption replay)', async () => {
    const codec = payloadCodec(parseKeyRing(`k1:${oldKey}`, index));
    expect(await codec.decode([plain])).toEqual([plain]);
  });
});

describe('connecting to a Temporal cluster with TLS or an API key', () => {
  const env = (extra: Record<string, string>) =>
    loadConfig({
      DATA_DIR: mkdtempSync(join(tmpdir(), 'temporal-tls-')),
      DATA_ENCRYPTION_KEYS: inject('dataEncryptionKeys'),
      IDENTITY_INDEX_KEY: inject('identityIndexKey'),
      TEMPORAL_ADDRESS: 'temporal.bank.internal:7233',
      ...extra,
    });

  it('builds mutual TLS from TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY / TEMPORAL_TLS_CA, and the API key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'temporal-pem-'));
    const pem = (name: string) => {
      const path = join(dir, name);
      writeFileSync(path, `-----BEGIN ${name}-----\n${randomBytes(24).toString('base64')}\n-----END ${name}-----\n`);
      return path;
    };
    const [cert, key, ca] = [pem('CERTIFICATE'), pem('PRIVATE KEY'), pem('CA')];
    const options = temporalConnectionOptions(
      env({
        TEMPORAL_TLS_CERT: cert,
        TEMPORAL_TLS_KEY: key,
        TEMPORAL_TLS_CA: ca,
        TEMPORAL_TLS_SERVER_NAME: 'frontend.temporal.bank.internal',
        TEMPORAL_API_KEY: 'cloud-api-key-123',
      }),
    );
    expect(options.address).toBe('temporal.bank.internal:7233');
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toContain('BEGIN CERTIFICATE');
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toContain('BEGIN PRIVATE KEY');
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toContain('BEGIN CA');
    expect(options.tls!.serverNameOverride).toBe('frontend.temporal.bank.internal');
    expect(options.apiKey).toBe('cloud-api-key-123');
  });

  it('an API key alone means TLS with the system roots (Temporal Cloud); nothing set means plain gRPC', () => {
    expect(temporalConnectionOptions(env({ TEMPORAL_API_KEY: 'k' }))).toEqual({
      address: 'temporal.bank.internal:7233',
      tls: {},
      apiKey: 'k',
    });
    expect(temporalConnectionOptions(env({}))).toEqual({ address: 'temporal.bank.internal:7233' });
  });

  it('refuses a client certificate without its key (and the reverse) when the config is loaded', () => {
    expect(() => env({ TEMPORAL_TLS_CERT: '/etc/engine/client.pem' })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
    expect(() => env({ TEMPORAL_TLS_KEY: '/etc/engine/client.key' })).toThrow(/TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together/);
    expect(() => env({ TEMPORAL_TLS: 'false', TEMPORAL_API_KEY: 'k' })).toThrow(/TEMPORAL_TLS=false contradicts/);
  });

  it('names the file it cannot read', () => {
    expect(() =>
      temporalConnectionOptions(env({ TEMPORAL_TLS_CERT: '/nonexistent/client.pem', TEMPORAL_TLS_KEY: '/nonexistent/client.key' })),
    ).toThrow(/TEMPORAL_TLS_CERT: cannot read \/nonexistent\/client.pem/);
  });
});
