import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './support/engine';

describe('engine health and authentication', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('answers GET /health with 200 once the database and Temporal are reachable', async () => {
    const res = await fetch(`${engine.baseUrl}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok', checks: { database: true, temporal: true } });
  });

  it('refuses API calls without a valid bearer token with a JSON:API error', async () => {
    const res = await fetch(`${engine.baseUrl}/applications`);
    expect(res.status).toBe(401);
    const body = await res.json();
    expect(body.errors[0]).toMatchObject({ status: '401', code: 'unauthorized' });
    const wrong = await fetch(`${engine.baseUrl}/applications`, { headers: { authorization: 'Bearer nope' } });
    expect(wrong.status).toBe(401);
  });

  it('answers unknown routes with a JSON:API 404', async () => {
    const res = await engine.api('GET', '/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.body.errors[0].status).toBe('404');
  });
});
