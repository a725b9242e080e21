// Erasure on request (Stripe Identity's `redact`): POST /applications/:id/redact erases the
// applicant's personal data, irreversibly. The application stays readable with its ids, status,
// decision, reason codes and timestamps; names, contact details and device data read
// "[redacted]", identification and dates of birth are gone, document files and the images and
// document fields of the verification jobs it used are erased, and `application.redacted` is
// recorded and sent to webhooks. An open application is canceled first. A redacted application
// takes no more changes (409 `redacted`); its downloads are gone (410). POST
// /verification-jobs/:id/redact does the same for a standalone job.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKey } from '../src/orgs/repository';
import { completeJob, createJob } from '../src/verification/job/repository';
import type { VerificationResult } from '../src/verification/job/result';
import { eventTypes, files, individualApplication, person, randomSsn, waitForStatus } from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';
import { startWebhookReceiver } from './support/webhookReceiver';

const REDACTED = '[redacted]';

describe('redaction: erasing an applicant on request', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const redact = (id: string, token = engine.token) =>
    engine.api('POST', `/applications/${id}/redact`, undefined, { authorization: `Bearer ${token}` });
  const upload = (id: string, documentId: string) =>
    fetch(`${engine.baseUrl}/applications/${id}/documents/${documentId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${engine.token}`, 'content-type': 'image/jpeg' },
      body: new Uint8Array(files.jpeg),
    });
  const verify = (id: string, documentId: string, jobId: string) =>
    engine.api('POST', `/applications/${id}/documents/${documentId}/verify`, {
      data: { type: 'selfieVerification', attributes: { jobId } },
    });

  /** A completed verification job with images, the expected person, the fields read from the document and a consent. */
  async function completedJob(orgId: string, p: { fullName: string; dateOfBirth: string }) {
    const job = await createJob(engine.db, engine.config.keyRing, {
      orgId,
      expectedPerson: p,
      images: [
        { kind: 'selfie', contentType: 'image/jpeg', bytes: files.jpeg },
        { kind: 'idFront', contentType: 'image/png', bytes: files.png },
      ],
      consent: { textVersion: 'biometric-v1', acceptedAt: new Date().toISOString(), ipAddress: '203.0.113.7', userAgent: 'Safari' },
    });
    await completeJob(engine.db, engine.config.keyRing, orgId, job.id, {
      documentType: 'drivers-license',
      country: 'USA',
      scores: { faceMatch: 0.95, selfie: 0.9, id: 0.9, liveness: 0.9 },
      checks: [{ name: 'face_match', status: 'passed', code: null, reason: null }],
      decision: { value: 'accept', reasonCodes: [] },
      fields: { fullName: p.fullName.toUpperCase(), dateOfBirth: p.dateOfBirth, expirationDate: '2030-01-01', documentNumber: 'Q7319264' },
    } as unknown as VerificationResult);
    return job.id;
  }

  /** An individual, approved on a selfie verification with a real job: name, SSN, date of birth, email, tags, a job with images. */
  async function approvedApplicant() {
    const first = `Zelda${randomUUID().slice(0, 6)}`;
    const last = 'Quartermain';
    const ssn = randomSsn();
    const dateOfBirth = '1984-03-27';
    const attributes = {
      ...person({ first, last, dateOfBirth, useSelfieVerification: 'ReplaceIdentification' }),
      ssn,
      ip: '198.51.100.23',
      jwtSubject: `auth0|${first}`,
      deviceFingerprints: [{ provider: 'iovation', value: `fp-${first}` }],
      tags: { crmId: `crm-${first}` },
      idempotencyKey: `${first}-signup`,
    };
    const created = await engine.api('POST', '/applications', { data: { type: 'individualApplication', attributes } });
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    const documentId = created.body.included[0].id as string;
    const jobId = await completedJob(engine.orgId, { fullName: `${first} ${last}`, dateOfBirth });
    expect((await verify(id, documentId, jobId)).body.data.attributes.status).toBe('Approved');
    await waitForStatus(engine, id, 'Approved');
    return { id, documentId, jobId, first, last, ssn, dateOfBirth, email: attributes.email };
  }

  /** The application's rows in every table that holds its data, as text (BYTEA as hex). */
  async function storedRowsOf(applicationId: string, jobIds: string[]): Promise<string> {
    const rows = await sql<{ t: string }>`
      SELECT to_jsonb(a)::text AS t FROM applications a WHERE id = ${applicationId}
      UNION ALL SELECT to_jsonb(p)::text FROM application_persons p WHERE application_id = ${applicationId}
      UNION ALL SELECT to_jsonb(d)::text FROM application_documents d WHERE application_id = ${applicationId}
      UNION ALL SELECT to_jsonb(e)::text FROM events e WHERE relationships->'application'->'data'->>'id' = ${applicationId}
      UNION ALL SELECT to_jsonb(j)::text FROM verification_jobs j WHERE id = ANY(${jobIds}::text[])
      UNION ALL SELECT to_jsonb(i)::text FROM verification_job_images i WHERE job_id = ANY(${jobIds}::text[])`.execute(engine.db);
    return rows.rows.map((r) => r.t.toLowerCase()).join('\n');
  }

  it('an approved application keeps its status and decision; its personal data reads "[redacted]" or is gone; application.redacted is recorded', async () => {
    const a = await approvedApplicant();
    const before = await storedRowsOf(a.id, [a.jobId]);
    expect(before).toContain(a.first.toLowerCase()); // names and email are stored in the clear until redacted
    expect(before).toContain(a.email.toLowerCase());

    const res = await redact(a.id);
    expect(res.status).toBe(200);
    const attrs = res.body.data.attributes;
    expect(attrs).toMatchObject({
      status: 'Approved',
      fullName: { first: REDACTED, last: REDACTED },
      email: REDACTED,
      address: { street: REDACTED, city: REDACTED, postalCode: REDACTED, country: REDACTED },
      phone: { countryCode: REDACTED, number: REDACTED },
      ip: REDACTED,
      jwtSubject: REDACTED,
      tags: {},
      redaction: { status: 'redacted' },
    });
    expect(new Date(attrs.redaction.redactedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect(attrs).not.toHaveProperty('maskedSSN');
    expect(attrs).not.toHaveProperty('dateOfBirth');
    expect(res.body.included[0].attributes).toMatchObject({ status: 'Approved', name: REDACTED });
    expect(res.body.included[0].attributes).not.toHaveProperty('dateOfBirth');

    // GET and the list show the same; the redaction is announced.
    const got = await engine.unit.applications.get(a.id);
    expect(got.data.attributes).toMatchObject({
      status: 'Approved',
      fullName: { first: REDACTED, last: REDACTED },
      redaction: { status: 'redacted' },
    });
    const listed = await engine.api('GET', `/applications?filter[query]=${a.first}`);
    expect(listed.body.data).toEqual([]);
    const events = await engine.api('GET', '/events?filter[type][]=application.redacted&page[limit]=100');
    const event = events.body.data.find((e: any) => e.relationships.application.data.id === a.id);
    expect(event.attributes).toMatchObject({ status: 'Approved', redactedAt: attrs.redaction.redactedAt });
    expect((await eventTypes(engine, engine.orgId, a.id)).slice(-2)).toEqual(['application.approved', 'application.redacted']);

    // The rows hold no name, email, device data or tag any more, and nothing sealed that a key could open.
    const after = await storedRowsOf(a.id, [a.jobId]);
    for (const secret of [
      a.first,
      a.last,
      a.email,
      a.ssn,
      a.dateOfBirth,
      '198.51.100.23',
      `fp-${a.first}`,
      `crm-${a.first}`,
      `${a.first}-signup`,
    ])
      expect(after, secret).not.toContain(secret.toLowerCase());
    const app = await engine.db.selectFrom('applications').selectAll().where('id', '=', a.id).executeTakeFirstOrThrow();
    expect(app).toMatchObject({ sensitive: null, email: null, display_name: REDACTED, idempotency_key: null, status: 'Approved' });
    const personRow = await engine.db
      .selectFrom('application_persons')
      .selectAll()
      .where('application_id', '=', a.id)
      .executeTakeFirstOrThrow();
    expect(personRow).toMatchObject({ full_name: REDACTED, sensitive: null, date_of_birth: null, identity_key: null, status: 'Approved' });
    const job = await engine.db.selectFrom('verification_jobs').selectAll().where('id', '=', a.jobId).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ status: 'completed', expected_person_sealed: null, result_sealed: null, selfie_hash: null });
    expect(job.redacted_at).not.toBeNull();
    expect(job.result).toMatchObject({ decision: { value: 'accept' }, scores: { faceMatch: 0.95 } }); // what was decided stays
    expect(job.result).not.toHaveProperty('fields');
    const images = await engine.db.selectFrom('verification_job_images').select('kind').where('job_id', '=', a.jobId).execute();
    expect(images).toEqual([]);
    const consent = await engine.db
      .selectFrom('biometric_consents')
      .selectAll()
      .where('verification_job_id', '=', a.jobId)
      .executeTakeFirstOrThrow();
    expect(consent).toMatchObject({ text_version: 'biometric-v1', client_sealed: null }); // the consent stays, the client's address goes

    // The job shows it too, and verifies nothing any more.
    const jobRes = await engine.api('GET', `/verification-jobs/${a.jobId}`);
    expect(jobRes.body.data.attributes).toMatchObject({ status: 'completed', imagesDeleted: true, redaction: { status: 'redacted' } });
    expect(jobRes.body.data.attributes.result).not.toHaveProperty('fields');
  });

  it('redacting again answers the same, and records no second event', async () => {
    const a = await approvedApplicant();
    const first = await redact(a.id);
    const second = await redact(a.id);
    expect(second.status).toBe(200);
    expect(second.body.data.attributes.redaction).toEqual(first.body.data.attributes.redaction);
    expect((await eventTypes(engine, engine.orgId, a.id)).filter((t) => t === 'application.redacted')).toHaveLength(1);
  });

  it('no later application is flagged as a duplicate of a redacted person: their SSN is no longer known', async () => {
    const a = await approvedApplicant();
    // (An SSN on an approved application sends a new application to review…)
    const flagged = await engine.unit.applications.create(individualApplication({ extra: { ssn: a.ssn } }));
    expect(flagged.data.attributes).toMatchObject({ status: 'PendingReview', decisionReasonCode: 'DuplicateIdentity' });
    await engine.api('POST', `/applications/${flagged.data.id}/cancel`, {
      data: { type: 'applicationCancel', attributes: { reason: 'test' } },
    });

    expect((await redact(a.id)).status).toBe(200);
    const again = await engine.unit.applications.create(individualApplication({ extra: { ssn: a.ssn } }));
    expect(again.data.attributes.status).toBe('AwaitingDocuments');
  });

  it('an open application is canceled through its workflow ("redacted on request"), then redacted; its files are gone (410)', async () => {
    const created = await engine.unit.applications.create(individualApplication({ first: 'Ignatius', last: 'Wolfbarrow' }));
    const id = created.data.id;
    const documentId = (created.included as any[])[0].id;
    expect((await upload(id, documentId)).status).toBe(200);

    const res = await redact(id);
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({
      status: 'Canceled',
      decisionReason: 'redacted on request',
      fullName: { first: REDACTED, last: REDACTED },
      redaction: { status: 'redacted' },
    });
    expect(await eventTypes(engine, engine.orgId, id)).toEqual([
      'application.created',
      'application.awaitingDocuments',
      'application.canceled',
      'application.redacted',
    ]);
    // The workflow ended (its person workflow with it): no reminder will read the placeholders.
    const handle = engine.temporal.workflow.getHandle(`application-${id}`);
    expect(await handle.result()).toBe('Canceled');
    const personId = (
      await engine.db.selectFrom('application_persons').select('id').where('application_id', '=', id).executeTakeFirstOrThrow()
    ).id;
    expect((await engine.temporal.workflow.getHandle(`application-${id}-person-${personId}`).describe()).status.name).toBe('COMPLETED');

    const download = await engine.api('GET', `/applications/${id}/documents/${documentId}/download`);
    expect(download.status).toBe(410);
    expect(download.body.errors[0].code).toBe('redacted');
    const doc = await engine.db.selectFrom('application_documents').selectAll().where('id', '=', documentId).executeTakeFirstOrThrow();
    expect(doc).toMatchObject({ front_sealed: null, front_file: null, back_sealed: null, name: REDACTED });
  });

  it('a redacted application takes no more changes: cancel, review, uploads and verify are a 409 `redacted`', async () => {
    const open = await engine.unit.applications.create(individualApplication());
    const id = open.data.id;
    const documentId = (open.included as any[])[0].id;
    expect((await redact(id)).status).toBe(200);

    const cancel = await engine.api('POST', `/applications/${id}/cancel`, {
      data: { type: 'applicationCancel', attributes: { reason: 'again' } },
    });
    const review = await engine.api(
      'POST',
      `/applications/${id}/review`,
      { data: { type: 'applicationReview', attributes: { decision: 'Approved', reason: 'fine' } } },
      { authorization: `Bearer ${engine.reviewer.token}` },
    );
    const uploaded = await upload(id, documentId);
    for (const r of [cancel, review, { status: uploaded.status, body: await uploaded.json() }]) {
      expect(r.status).toBe(409);
      expect(r.body.errors[0].code).toBe('redacted');
    }

    const selfie = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'ReplaceIdentification' }));
    expect((await redact(selfie.data.id)).status).toBe(200);
    const jobId = await completedJob(engine.orgId, { fullName: 'Peter Parker', dateOfBirth: '1990-01-15' });
    const verified = await verify(selfie.data.id, (selfie.included as any[])[0].id, jobId);
    expect(verified.status).toBe(409);
    expect(verified.body.errors[0].code).toBe('redacted');
  });

  it('only the org that owns the application may redact it, with an applications or admin key (a reviewer key may not)', async () => {
    const a = await engine.unit.applications.create(individualApplication({ first: 'Octavia', last: 'Brightwater' }));
    const other = await engine.newOrg();
    const foreign = await redact(a.data.id, other.token);
    expect(foreign.status).toBe(404);
    const byReviewer = await redact(a.data.id, engine.reviewer.token);
    expect(byReviewer.status).toBe(403);
    const admin = await createKey(engine.db, engine.orgId, { name: 'privacy officer', scopes: ['admin'] });
    const mine = await engine.unit.applications.create(individualApplication());
    expect((await redact(mine.data.id, admin.token)).status).toBe(200);
    expect((await engine.unit.applications.get(a.data.id)).data.attributes).toMatchObject({
      status: 'AwaitingDocuments',
      fullName: { first: 'Octavia', last: 'Brightwater' },
    });
    expect((await redact('not-an-id')).status).toBe(404);
    expect((await redact('999999999999')).status).toBe(404);
  });

  it("the org's webhooks receive application.redacted", async () => {
    const receiver = await startWebhookReceiver();
    try {
      const org = await engine.newOrg();
      const as = { authorization: `Bearer ${org.token}` };
      const hook = await engine.api(
        'POST',
        '/webhooks',
        {
          data: {
            type: 'webhook',
            attributes: { label: 'erasure', url: receiver.url, token: 'whsec-redact', contentType: 'Json', deliveryMode: 'AtLeastOnce' },
          },
        },
        as,
      );
      expect(hook.status).toBe(201);
      const created = await org.unit.applications.create(individualApplication());
      expect((await redact(created.data.id, org.token)).status).toBe(200);
      const until = Date.now() + 20_000;
      let types: string[] = [];
      while (Date.now() < until && !types.includes('application.redacted')) {
        await new Promise((r) => setTimeout(r, 100));
        types = receiver.delivered().flatMap((r) => JSON.parse(r.body).data.map((e: any) => e.type));
      }
      expect(types).toContain('application.redacted');
      const body = receiver.delivered().find((r) => r.body.includes('application.redacted'))!.body;
      expect(JSON.parse(body).data[0].relationships.application.data).toEqual({ type: 'individualApplication', id: created.data.id });
    } finally {
      await receiver.close();
    }
  });

  it('a standalone verification job is redacted on request: images, fields and selfie hash erased, the decision kept', async () => {
    const jobId = await completedJob(engine.orgId, { fullName: 'Ursula Fenwick', dateOfBirth: '1971-06-02' });
    await engine.db.updateTable('verification_jobs').set({ selfie_hash: 'ffeeddccbbaa9988' }).where('id', '=', jobId).execute();
    const res = await engine.api('POST', `/verification-jobs/${jobId}/redact`);
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({
      status: 'completed',
      imagesDeleted: true,
      result: { decision: { value: 'accept' } },
      redaction: { status: 'redacted' },
    });
    expect(res.body.data.attributes.result).not.toHaveProperty('fields');
    const stored = await engine.db.selectFrom('verification_jobs').selectAll().where('id', '=', jobId).executeTakeFirstOrThrow();
    expect(stored).toMatchObject({ expected_person_sealed: null, result_sealed: null, selfie_hash: null });
    expect(await engine.db.selectFrom('verification_job_images').select('kind').where('job_id', '=', jobId).execute()).toEqual([]);
    expect((await engine.api('POST', `/verification-jobs/${jobId}/redact`)).status).toBe(200);

    // A pending job ends as failed (`redacted`): checks that would still finish store nothing.
    const pending = await createJob(engine.db, engine.config.keyRing, {
      orgId: engine.orgId,
      images: [{ kind: 'selfie', contentType: 'image/jpeg', bytes: files.jpeg }],
    });
    const ended = await engine.api('POST', `/verification-jobs/${pending.id}/redact`);
    expect(ended.body.data.attributes).toMatchObject({ status: 'failed', failure: { code: 'redacted' } });
    expect(await completeJob(engine.db, engine.config.keyRing, engine.orgId, pending.id, {} as VerificationResult)).toBe(false);

    // Another org's job does not exist; a redacted job verifies no document.
    const other = await engine.newOrg();
    expect(
      (await engine.api('POST', `/verification-jobs/${jobId}/redact`, undefined, { authorization: `Bearer ${other.token}` })).status,
    ).toBe(404);
    const app = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'ReplaceIdentification' }));
    const refused = await verify(app.data.id, (app.included as any[])[0].id, jobId);
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].code).toBe('redacted');
  });
});
