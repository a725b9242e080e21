// Orgs, API keys and what each key may do: the partner's integration submits but cannot review,
// a reviewer's key reviews (and is the decision's user), an admin manages keys, an operator
// creates orgs; the admin command does the same from a shell; orgs never see each other's data.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { bootstrapDefaultOrg, createKey, createOrgWithKey } from '../src/orgs/repository';
import { scopesFor } from '../src/orgs/scopes';
import { files, individualApplication, waitForStatus } from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

const run = promisify(execFile);

/** `npm run admin -- …` against the test database; the last line of its output. */
async function admin(...args: string[]): Promise<{ lines: string[]; last: string }> {
  const { stdout } = await run('npm', ['run', '--silent', 'admin', '--', ...args], {
    env: {
      ...process.env,
      DATABASE_URL: inject('databaseUrl'),
      DATA_ENCRYPTION_KEYS: inject('dataEncryptionKeys'),
      IDENTITY_INDEX_KEY: inject('identityIndexKey'),
    },
    timeout: 60_000,
  });
  const lines = stdout.trimEnd().split('\n');
  return { lines, last: lines.at(-1)! };
}

describe('API keys and scopes', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const as = (token: string) => ({ authorization: `Bearer ${token}` });
  const review = (id: string, token: string, decision = 'Approved') =>
    engine.api(
      'POST',
      `/applications/${id}/review`,
      { data: { type: 'applicationReview', attributes: { decision, reason: 'checked' } } },
      as(token),
    );
  const newKey = (attributes: Record<string, unknown>, token = engine.token) =>
    engine.api('POST', '/api-keys', { data: { type: 'apiKey', attributes } }, as(token));

  /** An application sent to review (a passport photo needs a person to look at it). */
  async function inReview(unit = engine.unit, api = engine.api) {
    const created = await unit.applications.create(individualApplication({ passport: true }));
    const doc = (created.included as any[])[0];
    await unit.applications.upload({ applicationId: created.data.id, documentId: doc.id, file: files.jpeg, fileType: 'jpeg' });
    await waitForStatus({ ...engine, api }, created.data.id, 'PendingReview');
    return created.data.id;
  }

  it('the partner key that submitted a flagged case cannot approve it (403); a reviewer key can, and is the decision user', async () => {
    const id = await inReview();
    const partner = await review(id, engine.token);
    expect(partner.status).toBe(403);
    expect(partner.body.errors[0]).toMatchObject({ code: 'insufficient_scope', detail: expect.stringMatching(/needs the review scope/) });
    // The body cannot name a reviewer: who reviews is the key.
    const named = await engine.api(
      'POST',
      `/applications/${id}/review`,
      { data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'x', reviewer: 'ops' } } },
      as(engine.reviewer.token),
    );
    expect(named.status).toBe(400);
    const ok = await review(id, engine.reviewer.token);
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.data.attributes).toMatchObject({ status: 'Approved', decisionUserId: engine.reviewer.keyId });
  });

  it('separation of duties: a key with both scopes cannot review what it submitted, unless the org allows it', async () => {
    // Only the engine's operators issue review keys (here one that also submits).
    const { token } = await createKey(engine.db, engine.orgId, { name: 'integration and ops in one', scopes: ['applications', 'review'] });
    const api: TestEngine['api'] = (m, p, b, h = {}) => engine.api(m, p, b, { ...as(token), ...h });
    const { Unit } = await import('@unit-finance/unit-node-sdk');
    const id = await inReview(new Unit(token, engine.baseUrl), api);
    const refused = await review(id, token);
    expect(refused.status).toBe(403);
    expect(refused.body.errors[0]).toMatchObject({ code: 'review_not_allowed', detail: expect.stringMatching(/separation of duties/) });
    expect((await engine.api('GET', `/applications/${id}`)).body.data.attributes.status).toBe('PendingReview');

    const allow = await engine.api('PATCH', '/org', { data: { type: 'org', attributes: { allowSelfReview: true } } });
    expect(allow.body.data.attributes.allowSelfReview).toBe(true);
    try {
      expect((await review(id, token)).body.data.attributes.status).toBe('Approved');
    } finally {
      await engine.api('PATCH', '/org', { data: { type: 'org', attributes: { allowSelfReview: false } } });
    }
  });

  it('POST /api-keys shows the token once; GET /api-keys never does; DELETE revokes at once', async () => {
    const created = await newKey({ name: 'dashboard', scopes: ['read'] });
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    const { id, attributes } = created.body.data;
    expect(attributes).toMatchObject({
      name: 'dashboard',
      scopes: ['read'],
      expiresAt: null,
      revokedAt: null,
      token: expect.stringMatching(/^v1\./),
    });

    // read: reads, writes nothing, manages nothing.
    expect((await engine.api('GET', '/applications', undefined, as(attributes.token))).status).toBe(200);
    expect((await engine.api('POST', '/applications', individualApplication(), as(attributes.token))).status).toBe(403);
    expect((await engine.api('GET', '/api-keys', undefined, as(attributes.token))).status).toBe(403);

    const listed = await engine.api('GET', '/api-keys');
    expect(listed.status).toBe(200);
    const mine = listed.body.data.find((k: any) => k.id === id);
    expect(mine.attributes.name).toBe('dashboard');
    expect(JSON.stringify(listed.body)).not.toContain('token');

    const revoked = await engine.api('DELETE', `/api-keys/${id}`);
    expect(revoked.body.data.attributes.revokedAt).toEqual(expect.any(String));
    const after = await engine.api('GET', '/applications', undefined, as(attributes.token));
    expect(after.status).toBe(401);
    expect((await engine.api('DELETE', '/api-keys/999999999')).status).toBe(404);
  });

  it('rotating a key gives a new token with the same scopes and ends the old one', async () => {
    const created = await newKey({ name: 'rotating', scopes: ['read'] });
    const rotated = await engine.api('POST', `/api-keys/${created.body.data.id}/rotate`);
    expect(rotated.status).toBe(201);
    expect(rotated.body.data.attributes).toMatchObject({ name: 'rotating', scopes: ['read'], token: expect.any(String) });
    expect((await engine.api('GET', '/applications', undefined, as(created.body.data.attributes.token))).status).toBe(401);
    expect((await engine.api('GET', '/applications', undefined, as(rotated.body.data.attributes.token))).status).toBe(200);
  });

  it("an org's admin cannot make itself a reviewer: review keys come from the operators, and the operators' keys are not the admin's to rotate or revoke", async () => {
    const refused = await newKey({ name: 'our own reviewer', scopes: ['review'] });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].detail).toMatch(/review keys are issued by the engine's operators/);
    for (const [method, path] of [
      ['POST', `/api-keys/${engine.reviewer.keyId}/rotate`],
      ['DELETE', `/api-keys/${engine.reviewer.keyId}`],
    ] as const) {
      const res = await engine.api(method, path);
      expect(res.status, `${method} ${path}`).toBe(403);
    }
    expect((await engine.api('GET', '/org', undefined, as(engine.reviewer.token))).status).toBe(403);
    // The review route cannot be reached under another spelling (express routes case-insensitively, a trailing slash ignored).
    const id = await inReview();
    for (const path of [`/applications/${id}/review/`, `/applications/${id}/REVIEW`, `/Applications/${id}/Review/`]) {
      const res = await engine.api('POST', path, {
        data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'x' } },
      });
      expect(res.status, path).toBe(403);
    }
    expect((await engine.api('GET', `/applications/${id}`)).body.data.attributes.status).toBe('PendingReview');

    const operators = await createOrgWithKey(engine.db, 'Engine operators', { name: 'operator', scopes: ['operator'] });
    const issued = await engine.api(
      'POST',
      `/orgs/${engine.orgId}/api-keys`,
      { data: { type: 'apiKey', attributes: { name: 'ops@bank', scopes: ['review'] } } },
      as(operators.key.token),
    );
    expect(issued.status).toBe(201);
    expect((await review(id, issued.body.data.attributes.token)).body.data.attributes.status).toBe('Approved');
    expect(
      (
        await engine.api('POST', `/orgs/${engine.orgId}/api-keys`, {
          data: { type: 'apiKey', attributes: { name: 'x', scopes: ['review'] } },
        })
      ).status,
    ).toBe(403);
  });

  it('refuses what an admin may not grant, and keys past their expiry', async () => {
    for (const attributes of [
      { name: 'ops', scopes: ['operator'] },
      { name: 'reviewer', scopes: ['review'] },
      { name: 'nothing', scopes: [] },
      { name: 'typo', scopes: ['reveiw'] },
      { name: 'past', scopes: ['read'], expiresAt: '2020-01-01T00:00:00Z' },
      { name: '', scopes: ['read'] },
    ]) {
      const res = await newKey(attributes);
      expect(res.status, JSON.stringify(attributes)).toBe(400);
    }
    // Only an admin key manages keys.
    expect((await newKey({ name: 'x', scopes: ['read'] }, engine.reviewer.token)).status).toBe(403);
    const expired = await createKey(engine.db, engine.orgId, {
      name: 'short-lived',
      scopes: ['read'],
      expiresAt: new Date(Date.now() + 300),
    });
    expect((await engine.api('GET', '/applications', undefined, as(expired.token))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 400));
    expect((await engine.api('GET', '/applications', undefined, as(expired.token))).status).toBe(401);
  });

  it('POST /orgs needs an operator key and answers with the new org and its first admin key', async () => {
    expect((await engine.api('POST', '/orgs', { data: { type: 'org', attributes: { name: 'Nope' } } })).status).toBe(403);
    const operators = await createOrgWithKey(engine.db, 'Engine operators', { name: 'operator', scopes: ['operator'] });
    const res = await engine.api('POST', '/orgs', { data: { type: 'org', attributes: { name: 'Acme Fintech' } } }, as(operators.key.token));
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ type: 'org', attributes: { name: 'Acme Fintech', allowSelfReview: false } });
    const [key] = res.body.included;
    expect(key.attributes.scopes).toEqual(['applications', 'admin']);
    expect((await engine.api('GET', '/org', undefined, as(key.attributes.token))).body.data.id).toBe(res.body.data.id);
    // An operator key is not a partner key.
    expect((await engine.api('GET', '/applications', undefined, as(operators.key.token))).status).toBe(403);
  });

  it('the bootstrap key has the applications and admin scopes, not review', async () => {
    // bootstrapDefaultOrg only acts on an empty database; its first key is what createOrgWithKey issues by default.
    expect(await bootstrapDefaultOrg(engine.db, 'x'.repeat(32))).toBeNull();
    const { key } = await createOrgWithKey(engine.db, 'like the bootstrap org', {
      token: `v1.${'b'.repeat(43)}`,
      name: 'BOOTSTRAP_API_TOKEN',
    });
    expect(key.scopes).toEqual(['applications', 'admin']);
  });

  it('every route the API serves is covered by a scope rule', () => {
    const routes = [
      ['POST', '/applications'],
      ['GET', '/applications/1/documents/2/download'],
      ['PUT', '/applications/1/documents/2'],
      ['POST', '/applications/1/documents/2/verify'],
      ['POST', '/applications/1/cancel'],
      ['POST', '/verification-jobs'],
      ['DELETE', '/verification-jobs/vj_1/images'],
      ['PATCH', '/webhooks/1'],
      ['POST', '/events/1'],
      ['GET', '/events/1/deliveries'],
    ] as const;
    for (const [m, p] of routes) expect(scopesFor(m, p), `${m} ${p}`).not.toBeNull();
    expect(scopesFor('POST', '/applications/1/review')).toEqual(['review']);
    expect(scopesFor('POST', '/applications/1/cancel')).not.toContain('review');
  });
});

describe('the admin command, and a second org that sees nothing of the first', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('creates an org and a review key, each token alone on the last line; the new org reaches none of the first org’s data', async () => {
    const org = await admin('create-org', '--name', 'Second bank partner');
    expect(org.last).toMatch(/^v1\.[A-Za-z0-9_-]{43}$/);
    const orgId = /org (\d+)/.exec(org.lines.join('\n'))![1];
    const reviewKey = await admin('create-key', '--org', orgId, '--scopes', 'review', '--name', 'ops@second');
    expect(reviewKey.last).toMatch(/^v1\.[A-Za-z0-9_-]{43}$/);
    const listed = await admin('list-keys', '--org', orgId);
    expect(listed.lines.join('\n')).toMatch(/ops@second\treview/);
    expect(listed.lines.join('\n')).not.toContain(reviewKey.last);

    // The first org's data: an application with its document, a webhook, a verification job, events.
    const created = await engine.unit.applications.create(individualApplication({ passport: true }));
    const appId = created.data.id;
    const docId = (created.included as any[])[0].id;
    await engine.unit.applications.upload({ applicationId: appId, documentId: docId, file: files.jpeg, fileType: 'jpeg' });
    await waitForStatus(engine, appId, 'PendingReview');
    const webhook = await engine.api('POST', '/webhooks', {
      data: {
        type: 'webhook',
        attributes: { label: 'w', url: 'http://127.0.0.1:9/hook', contentType: 'Json', deliveryMode: 'AtLeastOnce' },
      },
    });
    const events = await engine.api('GET', '/events');
    const eventId = events.body.data[0].id;
    const keys = await engine.api('GET', '/api-keys');
    const firstKeyId = keys.body.data[0].id;

    for (const token of [org.last, reviewKey.last]) {
      const other = (m: string, p: string, b?: unknown) =>
        engine.api(m, p, b, { authorization: `Bearer ${token}`, ...(Buffer.isBuffer(b) ? { 'content-type': 'image/jpeg' } : {}) });
      const probes: Array<[string, string, unknown?]> = [
        ['GET', `/applications/${appId}`],
        ['GET', `/applications/${appId}/documents`],
        ['GET', `/applications/${appId}/documents/${docId}`],
        ['GET', `/applications/${appId}/documents/${docId}/download`],
        [
          'POST',
          `/applications/${appId}/review`,
          { data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'x' } } },
        ],
        ['POST', `/applications/${appId}/cancel`, { data: { type: 'applicationCancel', attributes: { reason: 'x' } } }],
        ['PUT', `/applications/${appId}/documents/${docId}`, files.jpeg],
        ['GET', `/webhooks/${webhook.body.data.id}`],
        ['PATCH', `/webhooks/${webhook.body.data.id}`, { data: { type: 'webhook', attributes: { label: 'mine now' } } }],
        ['GET', `/events/${eventId}`],
        ['POST', `/events/${eventId}`],
        ['GET', `/events/${eventId}/deliveries`],
        ['DELETE', `/api-keys/${firstKeyId}`],
      ];
      for (const [m, p, b] of probes) {
        const res = await other(m, p, b);
        // 404 (not theirs) or 403 (not their scope); never the first org's data.
        expect([403, 404], `${m} ${p}`).toContain(res.status);
      }
      const firstOrgIds = { '/applications': appId, '/webhooks': webhook.body.data.id, '/events': eventId, '/api-keys': firstKeyId };
      for (const [list, id] of Object.entries(firstOrgIds)) {
        const res = await other('GET', list);
        if (res.status === 200)
          expect(
            (res.body.data as Array<{ id: string }>).map((r) => r.id),
            list,
          ).not.toContain(String(id));
        else expect(res.status).toBe(403);
      }
    }
    expect((await engine.api('GET', `/applications/${appId}`)).body.data.attributes.status).toBe('PendingReview');
    expect((await engine.api('GET', `/webhooks/${webhook.body.data.id}`)).body.data.attributes.label).toBe('w');
  });

  it('rotates and revokes keys from the shell; refuses unknown scopes with usage', async () => {
    const org = await admin('create-org', '--name', 'Rotating partner');
    const orgId = /org (\d+)/.exec(org.lines.join('\n'))![1];
    const keyId = /key (\d+)/.exec(org.lines.join('\n'))![1];
    const rotated = await admin('rotate-key', '--org', orgId, '--key', keyId);
    expect(rotated.last).toMatch(/^v1\./);
    expect((await engine.api('GET', '/org', undefined, { authorization: `Bearer ${org.last}` })).status).toBe(401);
    expect((await engine.api('GET', '/org', undefined, { authorization: `Bearer ${rotated.last}` })).status).toBe(200);
    const newKeyId = /new key (\d+)/.exec(rotated.lines.join('\n'))![1];
    await admin('revoke-key', '--org', orgId, '--key', newKeyId);
    await new Promise((r) => setTimeout(r, 10_500)); // another process revoked it: this API's cache drops it within 10 s
    expect((await engine.api('GET', '/org', undefined, { authorization: `Bearer ${rotated.last}` })).status).toBe(401);
    await expect(admin('create-key', '--org', orgId, '--scopes', 'root', '--name', 'x')).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/unknown scope root/),
    });
  });
});
