// Deadlines, on Temporal's time-skipping test server: an application left in
// AwaitingDocuments gets reminder events and is canceled, with a reason, at the deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applicationWorkflowId } from '../src/applications/domain';
import { startTestEngine } from './support/engine';
import { eventTypes, files, individualApplication } from './support/applicationFixtures';
import { recordHistory } from './support/histories';

describe('AwaitingDocuments deadline (time-skipping test server)', () => {
  let engine: Awaited<ReturnType<typeof startTestEngine>>;
  beforeAll(async () => {
    engine = await startTestEngine({ timeSkipping: true, env: { AWAITING_DOCUMENTS_DEADLINE: '30d', AWAITING_DOCUMENTS_REMINDER: '7d' } });
  }, 180_000);
  afterAll(async () => {
    await engine?.stop();
  });

  it('reminds the applicant every 7 days and cancels the application after 30 days without documents', async () => {
    const created = await engine.api('POST', '/applications', { data: individualApplication() });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const id = created.body.data.id;
    const handle = engine.temporal.workflow.getHandle(applicationWorkflowId(id));
    // Waiting for the result lets the test server skip the 30 days.
    expect(await handle.result()).toBe('Canceled');

    const app = await engine.api('GET', `/applications/${id}`);
    expect(app.body.data.attributes.status).toBe('Canceled');
    expect(
      app.body.data.attributes.reason ?? app.body.data.attributes.cancellationReason ?? JSON.stringify(app.body.data.attributes),
    ).toMatch(/30 days/);
    const types = await eventTypes(engine, engine.orgId, id);
    expect(types.filter((t) => t === 'application.documentsReminder')).toHaveLength(4); // days 7, 14, 21, 28
    expect(types[0]).toBe('application.created');
    expect(types.at(-1)).toBe('application.canceled');
    await recordHistory(engine.temporal, applicationWorkflowId(id), 'application-deadline-canceled');
  }, 120_000);

  it('does not cancel an application whose documents arrived before the deadline', async () => {
    const created = await engine.api('POST', '/applications', { data: individualApplication({ useSelfieVerification: 'Never' }) });
    const id = created.body.data.id;
    const doc = created.body.included.find((d: any) => d.attributes.documentType === 'IdDocument');
    for (const side of ['', '/back']) {
      const res = await engine.api('PUT', `/applications/${id}/documents/${doc.id}${side}`, files.jpeg, { 'content-type': 'image/jpeg' });
      expect(res.status).toBe(200);
    }
    await engine.testEnv!.sleep('40d');
    const app = await engine.api('GET', `/applications/${id}`);
    expect(app.body.data.attributes.status).toBe('PendingReview');
  }, 120_000);
});
