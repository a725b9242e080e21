// Every biometric capture carries the end user's consent: a verification job without one is
// refused before anything is stored; with one, the notice's version and the time are recorded
// with the job (and shown on it), the user's IP address and user agent sealed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { files } from './support/applicationFixtures';
import { jobForm } from './support/verificationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

describe('consent to biometric capture', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const jobCount = async () =>
    Number(
      (
        await engine.db
          .selectFrom('verification_jobs')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('org_id', '=', engine.orgId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const images = { selfie: files.jpeg, idFront: files.jpeg };

  it('refuses a job without consent (multipart or JSON) with consent_required, storing nothing', async () => {
    const before = await jobCount();
    const multipart = await engine.api('POST', '/verification-jobs', jobForm(images, {}, false));
    expect(multipart.status).toBe(400);
    expect(multipart.body.errors[0]).toMatchObject({
      code: 'consent_required',
      source: { pointer: '/data/attributes/consentTextVersion' },
    });
    const json = await engine.api('POST', '/verification-jobs', {
      data: { type: 'verificationJob', attributes: { selfie: files.jpeg.toString('base64'), idFront: files.jpeg.toString('base64') } },
    });
    expect(json.status).toBe(400);
    expect(json.body.errors[0]).toMatchObject({ code: 'consent_required', source: { pointer: '/data/attributes/consent' } });
    expect(await jobCount()).toBe(before);
  });

  it('refuses consent that is not for this capture: no notice version, a time in the future or days old, a bad IP address', async () => {
    const day = 86_400_000;
    const cases: Array<Record<string, string>> = [
      { consentTextVersion: '', consentAcceptedAt: new Date().toISOString() },
      { consentTextVersion: 'v1', consentAcceptedAt: new Date(Date.now() + day).toISOString() },
      { consentTextVersion: 'v1', consentAcceptedAt: new Date(Date.now() - 3 * day).toISOString() },
      { consentTextVersion: 'v1', consentAcceptedAt: 'yesterday' },
      { consentTextVersion: 'v1', consentAcceptedAt: new Date().toISOString(), consentIpAddress: 'not-an-ip' },
    ];
    for (const fields of cases) {
      const res = await engine.api('POST', '/verification-jobs', jobForm(images, fields, false));
      expect(res.status, JSON.stringify(fields)).toBe(400);
    }
  });

  it('records the notice version and time with the job, seals where it came from, and shows the consent on the job', async () => {
    const acceptedAt = new Date(Date.now() - 60_000).toISOString();
    const res = await engine.api(
      'POST',
      '/verification-jobs',
      jobForm(images, {
        consentTextVersion: 'biometrics-notice-7',
        consentAcceptedAt: acceptedAt,
        consentIpAddress: '203.0.113.77',
        consentUserAgent: 'CaptureApp/3.1 (unique-agent-marker)',
      }),
    );
    expect(res.status).toBe(202);
    expect(res.body.data.attributes.consent).toMatchObject({ textVersion: 'biometrics-notice-7', acceptedAt });
    const got = await engine.api('GET', `/verification-jobs/${res.body.data.id}`);
    expect(got.body.data.attributes.consent).toEqual({ textVersion: 'biometrics-notice-7', acceptedAt, recordedAt: expect.any(String) });

    const row = await engine.db
      .selectFrom('biometric_consents')
      .selectAll()
      .where('verification_job_id', '=', res.body.data.id)
      .executeTakeFirstOrThrow();
    expect(row.recorded_by_key_id).toBe((await engine.api('GET', '/api-keys')).body.data.at(-1).id);
    const raw = Buffer.from(row.client_sealed!).toString('latin1');
    expect(raw).not.toContain('203.0.113.77');
    expect(raw).not.toContain('unique-agent-marker');
  });
});
