// Personal data at rest: SSNs, passport numbers, dates of birth, uploaded documents, the images
// and document fields of verification jobs and webhook signing tokens are stored sealed
// (AES-256-GCM envelope encryption under the key ring), never in the clear; the API answers as
// before; duplicate detection uses a keyed HMAC; rows from before the change are sealed at start;
// a key rotation re-wraps every sealed value.
import { execFile } from 'node:child_process';
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { getAggregate, insertApplication } from '../src/applications/repository';
import { newApplication } from '../src/applications/routes/newApplication';
import { sealedKeyId } from '../src/platform/crypto/envelope';
import { newKeyMaterial, parseKeyRing } from '../src/platform/crypto/keyRing';
import { encryptLegacyPlaintext } from '../src/engine/storedData';
import { completeJob, createJob, getJob } from '../src/verification/job/repository';
import type { VerificationResult } from '../src/verification/job/result';
import { findWebhookForDelivery, insertWebhook } from '../src/webhooks/repository';
import {
  individualApplication,
  insertVerificationJob,
  person,
  randomPassport,
  randomSsn,
  waitForStatus,
} from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';
import { dataFile, DOCUMENTS, jobForm, SELFIE } from './support/verificationFixtures';

const run = promisify(execFile);
const hex = (s: string | Buffer) => Buffer.from(s).toString('hex');
/** A slice from the middle of a file: its bytes, wherever they were stored, would contain it. */
const middleOf = (b: Buffer) => b.subarray(Math.floor(b.length / 2), Math.floor(b.length / 2) + 48);

describe('personal data at rest', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  /** Every row of the org in every table that holds its data, as text (BYTEA columns as hex). */
  async function storedRows(orgId: string): Promise<string> {
    const texts: string[] = [];
    for (const table of [
      'applications',
      'application_persons',
      'application_documents',
      'verification_jobs',
      'webhooks',
      'events',
      'webhook_attempts',
    ]) {
      const { rows } = await sql<{ t: string }>`SELECT to_jsonb(x)::text AS t FROM ${sql.table(table)} x WHERE org_id = ${orgId}`.execute(
        engine.db,
      );
      texts.push(...rows.map((r) => r.t));
    }
    const { rows } = await sql<{ t: string }>`
      SELECT to_jsonb(i)::text AS t FROM verification_job_images i JOIN verification_jobs j ON j.id = i.job_id
      WHERE j.org_id = ${orgId}`.execute(engine.db);
    texts.push(...rows.map((r) => r.t));
    return texts.join('\n').toLowerCase();
  }
  const expectNowhere = (stored: string, secrets: Record<string, string | Buffer>) => {
    for (const [what, secret] of Object.entries(secrets)) {
      if (typeof secret === 'string') expect(stored, `${what} in the clear`).not.toContain(secret.toLowerCase());
      expect(stored, `${what} as bytes`).not.toContain(hex(secret));
    }
  };

  async function finishedJob(id: string) {
    const until = Date.now() + 60_000;
    for (;;) {
      const res = await engine.api('GET', `/verification-jobs/${id}`);
      if (res.body.data.attributes.status !== 'pending') return res.body.data.attributes;
      if (Date.now() > until) throw new Error(`verification job ${id} still pending`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  const upload = (appId: string, docId: string, bytes: Buffer, side = '') =>
    fetch(`${engine.baseUrl}/applications/${appId}/documents/${docId}${side}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${engine.token}`, 'content-type': 'image/jpeg' },
      body: new Uint8Array(bytes),
    });
  const download = async (appId: string, docId: string, side = '') =>
    Buffer.from(
      await (
        await fetch(`${engine.baseUrl}/applications/${appId}/documents/${docId}/download${side}`, {
          headers: { authorization: `Bearer ${engine.token}` },
        })
      ).arrayBuffer(),
    );

  it('stores SSNs, passport numbers, dates of birth, files, job images and fields and webhook tokens only sealed; the API answers as before', async () => {
    const token = `whsec-${randomUUID()}`;
    // (Subscribed to authorization requests only: no application event is sent to it.)
    const hook = (
      await engine.api('POST', '/webhooks', {
        data: {
          type: 'webhook',
          attributes: {
            label: 'crm',
            url: 'https://example.com/hooks',
            token,
            contentType: 'Json',
            deliveryMode: 'AtLeastOnce',
            subscriptionType: 'OnlyAuthorizationRequest',
          },
        },
      })
    ).body;
    // The token is shown once, in the answer to the request that set it.
    expect(hook.data.attributes.token).toBe(token);
    expect((await engine.unit.webhooks.get(hook.data.id)).data.attributes.token).toBe('********');
    expect((await engine.unit.webhooks.list({ limit: 100 })).data.every((w) => w.attributes.token === '********')).toBe(true);

    // An individual with a power of attorney agent (passport); a business with an officer and two owners.
    const ssn = randomSsn();
    const agentPassport = randomPassport();
    const individual = await engine.api('POST', '/applications', {
      data: {
        type: 'individualApplication',
        attributes: {
          ...person({ dateOfBirth: '1961-07-23' }),
          ssn,
          powerOfAttorneyAgent: {
            ...person({ first: 'May', last: 'Parker', dateOfBirth: '1958-03-09', passport: true }),
            passport: agentPassport,
          },
        },
      },
    });
    expect(individual.status).toBe(201);
    const officerSsn = randomSsn();
    const ownerSsn = randomSsn();
    const ownerPassport = randomPassport();
    const business = await engine.api('POST', '/applications', {
      data: {
        type: 'businessApplication',
        attributes: {
          name: `Pied Piper ${randomUUID().slice(0, 6)}`,
          address: person().address,
          phone: person().phone,
          stateOfIncorporation: 'DE',
          ein: '123456789',
          entityType: 'Corporation',
          contact: { fullName: { first: 'Richard', last: 'Hendricks' }, email: 'richard@piedpiper.example', phone: person().phone },
          officer: { ...person({ first: 'Richard', last: 'Hendricks', dateOfBirth: '1966-11-02' }), ssn: officerSsn, title: 'CEO' },
          beneficialOwners: [
            {
              ...person({ first: 'Erlich', last: 'Bachman', dateOfBirth: '1970-05-30', passport: true }),
              passport: ownerPassport,
              percentage: 40,
            },
            { ...person({ first: 'Jared', last: 'Dunn', dateOfBirth: '1979-12-24' }), ssn: ownerSsn, percentage: 30 },
          ],
        },
      },
    });
    expect(business.status).toBe(201);

    // Files: the individual's IdDocument, front and back.
    const front = dataFile(SELFIE);
    const back = dataFile(DOCUMENTS.driversLicense);
    const idDoc = individual.body.included.find((d: any) => d.attributes.documentType === 'IdDocument');
    expect((await upload(individual.body.data.id, idDoc.id, front)).status).toBe(200);
    expect((await upload(individual.body.data.id, idDoc.id, back, '/back')).status).toBe(200);

    // A verification job on a real passport, with the expected person.
    const selfie = dataFile('faces/lfw/Nicholas_Tse/Nicholas_Tse_0001.jpg');
    const passportImage = dataFile(DOCUMENTS.passport);
    const submitted = await engine.api(
      'POST',
      '/verification-jobs',
      jobForm({ selfie, idFront: passportImage }, { fullName: 'Anna Maria Eriksson', dateOfBirth: '1974-08-13' }),
    );
    expect(submitted.status).toBe(202);
    const job = await finishedJob(submitted.body.data.id);
    expect(job.status).toBe('completed');
    expect(job.result.fields).toMatchObject({ fullName: 'ANNA MARIA ERIKSSON', dateOfBirth: '1974-08-12', documentNumber: 'L898902C3' });
    expect(job.result.country).toBe('UTO');

    // A SelfieVerification verified with a job: the rules read the person's (sealed) date of birth.
    const selfieApp = await engine.api('POST', '/applications', {
      data: individualApplication({ dateOfBirth: '1983-02-17', useSelfieVerification: 'ReplaceIdentification' }),
    });
    const selfieDoc = selfieApp.body.included[0];
    const fixtureJob = await insertVerificationJob(engine, engine.orgId, { dateOfBirth: '1983-02-17', documentType: 'drivers-license' });
    const verified = await engine.api('POST', `/applications/${selfieApp.body.data.id}/documents/${selfieDoc.id}/verify`, {
      data: { type: 'selfieVerification', attributes: { jobId: fixtureJob } },
    });
    expect(verified.body.data.attributes.status).toBe('Approved');
    await waitForStatus(engine, selfieApp.body.data.id, 'Approved');
    // That job row was written as the verification engine did before sealing (in the clear): sealed at start.
    await encryptLegacyPlaintext(engine.db, engine.config.keyRing);

    expectNowhere(await storedRows(engine.orgId), {
      ssn,
      agentPassport,
      officerSsn,
      ownerSsn,
      ownerPassport,
      'date of birth': '1961-07-23',
      "agent's date of birth": '1958-03-09',
      "officer's date of birth": '1966-11-02',
      "owner's date of birth": '1970-05-30',
      "second owner's date of birth": '1979-12-24',
      "selfie applicant's date of birth": '1983-02-17',
      'webhook token': token,
      'document number': 'L898902C3',
      'name read from the document': 'ERIKSSON',
      'date of birth read from the document': '1974-08-12',
      'expected date of birth': '1974-08-13',
      "fixture job's document number": 'D1234567',
      'document front': middleOf(front),
      'document back': middleOf(back),
      'job selfie': middleOf(selfie),
      'job document image': middleOf(passportImage),
    });

    // What the API shows is unchanged: masked identification, dates of birth, the files, the job's fields.
    const got = await engine.unit.applications.get(individual.body.data.id);
    const a = got.data.attributes as any;
    expect(a).toMatchObject({ maskedSSN: `*****${ssn.slice(-4)}`, dateOfBirth: '1961-07-23' });
    expect(a.powerOfAttorneyAgent).toMatchObject({
      maskedPassport: `${'*'.repeat(agentPassport.length - 4)}${agentPassport.slice(-4)}`,
      dateOfBirth: '1958-03-09',
    });
    expect(JSON.stringify(got)).not.toMatch(/"ssn"|"passport"/);
    const b = (await engine.unit.applications.get(business.body.data.id)).data.attributes as any;
    expect(b.officer).toMatchObject({ maskedSSN: `*****${officerSsn.slice(-4)}`, dateOfBirth: '1966-11-02' });
    expect(b.beneficialOwners.map((o: any) => [o.maskedPassport ?? o.maskedSSN, o.dateOfBirth])).toEqual([
      [`${'*'.repeat(ownerPassport.length - 4)}${ownerPassport.slice(-4)}`, '1970-05-30'],
      [`*****${ownerSsn.slice(-4)}`, '1979-12-24'],
    ]);
    const docs = await engine.api('GET', `/applications/${individual.body.data.id}/documents`);
    expect(docs.body.data[0].attributes.dateOfBirth).toBe('1961-07-23');
    expect((await download(individual.body.data.id, idDoc.id)).equals(front)).toBe(true);
    expect((await download(individual.body.data.id, idDoc.id, '/back')).equals(back)).toBe(true);
    const again = await engine.api('GET', `/verification-jobs/${submitted.body.data.id}`);
    expect(again.body.data.attributes.result).toEqual(job.result);
    // (the fixture's job id is not one the API hands out: read through the repository)
    const fixture = await getJob(engine.db, engine.config.keyRing, engine.orgId, fixtureJob);
    expect(fixture?.result?.fields).toMatchObject({ dateOfBirth: '1983-02-17', documentNumber: 'D1234567' });
    // The delivery activity signs with the token.
    expect((await findWebhookForDelivery(engine.db, engine.config.keyRing, engine.orgId, hook.data.id))?.token).toBe(token);
  });

  it('finds the same SSN on another application with a keyed HMAC, not an unkeyed hash of the SSN', async () => {
    const ssn = randomSsn();
    const first = await engine.unit.applications.create(individualApplication({ extra: { ssn } }));
    expect(first.data.attributes.status).toBe('AwaitingDocuments');
    const second = await engine.unit.applications.create(individualApplication({ first: 'Ben', extra: { ssn } }));
    expect(second.data.attributes.status).toBe('PendingReview');
    expect(second.data.attributes.decisionReasonCode).toBe('DuplicateIdentity');

    const row = await engine.db
      .selectFrom('application_persons')
      .select('identity_key')
      .where('application_id', '=', first.data.id)
      .executeTakeFirstOrThrow();
    expect(row.identity_key).not.toBe(createHash('sha256').update(`ssn:${ssn}`).digest('hex'));
    expect(row.identity_key).toBe(
      createHmac('sha256', Buffer.from(inject('identityIndexKey'), 'base64'))
        .update(`ssn:${ssn}`)
        .digest('hex'),
    );
  });

  it('seals at start what rows from before the change hold in the clear; they read the same, and replays and duplicates still match', async () => {
    const ssn = randomSsn();
    const request = individualApplication({ dateOfBirth: '1972-09-14', extra: { ssn, idempotencyKey: `legacy-${randomUUID()}` } });
    const created = await engine.api('POST', '/applications', { data: request });
    const id = created.body.data.id as string;
    const doc = created.body.included[0];
    const file = dataFile(SELFIE);
    expect((await upload(id, doc.id, file)).status).toBe(200);
    const before = (await engine.api('GET', `/applications/${id}`)).body;
    const hmacKey = (
      await engine.db.selectFrom('application_persons').select('identity_key').where('application_id', '=', id).executeTakeFirstOrThrow()
    ).identity_key;

    // The rows as an engine before migration 010 wrote them: everything in the clear, unkeyed hashes.
    const attributes = request.attributes as unknown as Record<string, unknown>;
    await engine.db
      .updateTable('applications')
      .set({ attributes: JSON.stringify(attributes), sensitive: null, request_hash: 'unkeyed' })
      .where('id', '=', id)
      .execute();
    await engine.db
      .updateTable('application_persons')
      .set({ date_of_birth: '1972-09-14', sensitive: null, identity_key: createHash('sha256').update(`ssn:${ssn}`).digest('hex') })
      .where('application_id', '=', id)
      .execute();
    await engine.db.updateTable('application_documents').set({ front_file: file, front_sealed: null }).where('id', '=', doc.id).execute();
    const legacyHook = await engine.db
      .insertInto('webhooks')
      .values({
        org_id: engine.orgId,
        label: 'old',
        url: 'https://example.com/old',
        token: 'legacy-secret-token',
        content_type: 'Json',
        delivery_mode: 'AtLeastOnce',
        subscription_type: 'OnlyAuthorizationRequest',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    // Still readable as they are (until the engine starts and seals them).
    expect((await engine.api('GET', `/applications/${id}`)).body).toEqual(before);
    expect((await download(id, doc.id)).equals(file)).toBe(true);

    const { sealed } = await encryptLegacyPlaintext(engine.db, engine.config.keyRing);
    expect(sealed).toBeGreaterThanOrEqual(4);
    expectNowhere(await storedRows(engine.orgId), {
      ssn,
      'date of birth': '1972-09-14',
      'webhook token': 'legacy-secret-token',
      document: middleOf(file),
    });
    const person = await engine.db.selectFrom('application_persons').selectAll().where('application_id', '=', id).executeTakeFirstOrThrow();
    expect(person).toMatchObject({ identity_key: hmacKey, date_of_birth: null });
    expect(sealedKeyId(person.sensitive!)).toBe(engine.config.keyRing.activeKeyId);

    expect((await engine.api('GET', `/applications/${id}`)).body).toEqual(before);
    expect((await download(id, doc.id)).equals(file)).toBe(true);
    expect((await findWebhookForDelivery(engine.db, engine.config.keyRing, engine.orgId, legacyHook.id))?.token).toBe(
      'legacy-secret-token',
    );
    // The same request again is the same application (its request hash is keyed now) …
    const replay = await engine.api('POST', '/applications', { data: request });
    expect([replay.status, replay.body.data.id]).toEqual([200, id]);
    // … and the SSN is found on it.
    const duplicate = await engine.unit.applications.create(individualApplication({ first: 'Gwen', extra: { ssn } }));
    expect(duplicate.data.attributes.decisionReasonCode).toBe('DuplicateIdentity');
    // A second run finds nothing of this org left to seal.
    await encryptLegacyPlaintext(engine.db, engine.config.keyRing);
    const clear = await engine.db
      .selectFrom('application_documents')
      .select('id')
      .where('org_id', '=', engine.orgId)
      .where('front_file', 'is not', null)
      .execute();
    expect(clear).toEqual([]);
  });

  it("a sealed value copied into another row does not open there (the row's id is bound to it)", async () => {
    const a = await engine.unit.applications.create(individualApplication());
    const b = await engine.unit.applications.create(individualApplication());
    const sensitiveOf = async (id: string) =>
      (await engine.db.selectFrom('applications').select('sensitive').where('id', '=', id).executeTakeFirstOrThrow()).sensitive!;
    const original = await sensitiveOf(b.data.id);
    await engine.db
      .updateTable('applications')
      .set({ sensitive: await sensitiveOf(a.data.id) })
      .where('id', '=', b.data.id)
      .execute();
    try {
      await expect(getAggregate(engine.db, engine.config.keyRing, engine.orgId, b.data.id)).rejects.toThrow(
        `sealed applications.sensitive:${b.data.id} does not open`,
      );
    } finally {
      await engine.db.updateTable('applications').set({ sensitive: original }).where('id', '=', b.data.id).execute();
    }
    expect((await getAggregate(engine.db, engine.config.keyRing, engine.orgId, b.data.id))?.application.attributes.ssn).toBeDefined();
  });

  it('after a key rotation values sealed under the old key still open, and `npm run admin -- rewrap-data` moves them to the new key', async () => {
    // Values sealed under a key the ring is rotating away from (old9), while the active one is the engine's.
    const oldKey = `old9:${newKeyMaterial()}`;
    const oldRing = parseKeyRing(oldKey, inject('identityIndexKey'));
    const rotated = parseKeyRing(`${inject('dataEncryptionKeys')},${oldKey}`, inject('identityIndexKey'));
    const ssn = randomSsn();
    const app = await insertApplication(
      engine.db,
      oldRing,
      engine.orgId,
      newApplication(individualApplication({ extra: { ssn } }) as never, oldRing),
    );
    const hook = await insertWebhook(engine.db, oldRing, engine.orgId, {
      label: 'rotated',
      url: 'https://example.com/rotated',
      token: 'rotated-secret',
      content_type: 'Json',
      delivery_mode: 'AtLeastOnce',
      include_resources: false,
      subscription_type: 'OnlyAuthorizationRequest',
    });
    const job = await createJob(engine.db, oldRing, {
      orgId: engine.orgId,
      expectedPerson: { fullName: 'Peter Parker', dateOfBirth: '1990-01-15' },
      images: [{ kind: 'selfie', contentType: 'image/jpeg', bytes: dataFile(SELFIE) }],
    });
    const result = {
      documentType: 'drivers-license',
      country: 'USA',
      fields: { fullName: 'PETER PARKER', dateOfBirth: '1990-01-15', expirationDate: '2030-01-01', documentNumber: 'R0TATED1' },
      scores: { faceMatch: 0.99, selfie: 0.99, id: 0.99, liveness: 0.99 },
      checks: [],
      decision: { value: 'accept', reasonCodes: [] },
      details: {},
    } as unknown as VerificationResult;
    await completeJob(engine.db, oldRing, engine.orgId, job.id, result);

    // The engine's ring alone (no old9) cannot open them; the rotated ring (both keys) can.
    await expect(getAggregate(engine.db, engine.config.keyRing, engine.orgId, app.application.id)).rejects.toThrow(/old9/);
    expect((await getAggregate(engine.db, rotated, engine.orgId, app.application.id))?.application.attributes.ssn).toBe(ssn);
    expect((await getJob(engine.db, rotated, engine.orgId, job.id))?.result).toMatchObject({ fields: { documentNumber: 'R0TATED1' } });

    const sealedValues = async () => ({
      application: (
        await engine.db.selectFrom('applications').select('sensitive').where('id', '=', app.application.id).executeTakeFirstOrThrow()
      ).sensitive!,
      person: (
        await engine.db
          .selectFrom('application_persons')
          .select('sensitive')
          .where('application_id', '=', app.application.id)
          .executeTakeFirstOrThrow()
      ).sensitive!,
      webhook: (await engine.db.selectFrom('webhooks').select('token_sealed').where('id', '=', hook.id).executeTakeFirstOrThrow())
        .token_sealed!,
      expectedPerson: (
        await engine.db.selectFrom('verification_jobs').select('expected_person_sealed').where('id', '=', job.id).executeTakeFirstOrThrow()
      ).expected_person_sealed!,
      result: (await engine.db.selectFrom('verification_jobs').select('result_sealed').where('id', '=', job.id).executeTakeFirstOrThrow())
        .result_sealed!,
      image: (
        await engine.db.selectFrom('verification_job_images').select('bytes_sealed').where('job_id', '=', job.id).executeTakeFirstOrThrow()
      ).bytes_sealed!,
    });
    const before = await sealedValues();
    for (const v of Object.values(before)) expect(sealedKeyId(v)).toBe('old9');

    const { stdout } = await run('npm', ['run', '--silent', 'admin', '--', 'rewrap-data'], {
      env: {
        ...process.env,
        DATABASE_URL: inject('databaseUrl'),
        DATA_ENCRYPTION_KEYS: `${inject('dataEncryptionKeys')},${oldKey}`,
        IDENTITY_INDEX_KEY: inject('identityIndexKey'),
      },
      timeout: 90_000,
    });
    const rewrapped = Number(/re-wrapped (\d+) sealed values under key test1/.exec(stdout)?.[1]);
    expect(rewrapped, stdout).toBeGreaterThanOrEqual(6);
    expect(stdout).toContain('old9 any more');

    const after = await sealedValues();
    for (const [what, v] of Object.entries(after)) {
      expect(sealedKeyId(v), what).toBe(engine.config.keyRing.activeKeyId);
      // Only the data key was re-wrapped: the encrypted data is the same bytes.
      const dataPart = (s: Buffer) => s.subarray(2 + s[1] + 60);
      expect(dataPart(v).equals(dataPart(before[what as keyof typeof before])), what).toBe(true);
    }
    // The engine's own ring opens them now.
    expect((await getAggregate(engine.db, engine.config.keyRing, engine.orgId, app.application.id))?.application.attributes.ssn).toBe(ssn);
    expect((await findWebhookForDelivery(engine.db, engine.config.keyRing, engine.orgId, hook.id))?.token).toBe('rotated-secret');
    const viaApi = await engine.api('GET', `/verification-jobs/${job.id}`);
    expect(viaApi.body.data.attributes.result.fields.documentNumber).toBe('R0TATED1');
  }, 120_000);
});
