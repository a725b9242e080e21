// Input PostgreSQL cannot store, or numbers it cannot hold, is refused up front with a 400 —
// never a 500, and never a workflow stuck retrying a write that can only fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './support/engine';
import { individualApplication, waitForStatus } from './support/applicationFixtures';

describe('input the database cannot hold', () => {
  let engine: TestEngine;
  beforeAll(async () => { engine = await startTestEngine(); });
  afterAll(async () => { await engine?.stop(); });

  it('refuses a NUL character in a JSON body (a cancel reason) and leaves the application as it was', async () => {
    const created = await engine.api('POST', '/applications', { data: individualApplication() });
    const id = created.body.data.id;
    await waitForStatus(engine, id, 'AwaitingDocuments');
    const res = await engine.api('POST', `/applications/${id}/cancel`, { data: { type: 'applicationCancel', attributes: { reason: 'bad\u0000reason' } } });
    expect(res.status).toBe(400);
    expect(res.body.errors[0].detail).toMatch(/NUL/);
    // still open, and still cancelable with a proper reason
    const ok = await engine.api('POST', `/applications/${id}/cancel`, { data: { type: 'applicationCancel', attributes: { reason: 'customer asked' } } });
    expect(ok.status).toBe(200);
    expect(ok.body.data.attributes.status).toBe('Canceled');
  });

  it('refuses a NUL character in the query string, and offsets or ids beyond what PostgreSQL holds', async () => {
    for (const path of ['/applications?filter[query]=a%00b', '/applications?page[offset]=99999999999999999999', '/webhooks?filter[fromId]=99999999999999999999']) {
      const res = await engine.api('GET', path);
      expect(res.status, path).toBe(400);
      expect(res.body.errors[0].status).toBe('400');
    }
  });
});
