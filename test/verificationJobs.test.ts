// Verification jobs end to end: the real API, Temporal workflow, PostgreSQL and the real models on
// real images from ../shared/data. Assertions state what the models actually do on these images.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestEngine, type TestEngine } from './support/engine';
import {
  dataFile,
  DOCUMENTS,
  GENUINE_PAIRS,
  IMPOSTOR_PAIRS,
  consent,
  jobForm,
  lfw,
  LIVENESS,
  NO_FACE,
  PASSPORT_MRZ,
  pngBomb,
  SELFIE,
  syntheticIdCard,
  TEXT_AS_JPEG,
  truncatedJpeg,
  twoFacesPhoto,
} from './support/verificationFixtures';
import { VerificationResultSchema, type VerificationResult } from '../src/verification/job/result';
import { payloadCodec } from '../src/platform/temporal/payloadCodec';

describe('verification jobs', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  async function submit(body: FormData | object) {
    const res = await engine.api('POST', '/verification-jobs', body);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    return res.body.data.id as string;
  }

  /** Polls until the job leaves `pending` (a job must never hang). */
  async function finished(id: string, timeoutMs = 50_000) {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const res = await engine.api('GET', `/verification-jobs/${id}`);
      expect(res.status).toBe(200);
      if (res.body.data.attributes.status !== 'pending') return res.body.data.attributes;
      if (Date.now() > until) throw new Error(`verification job ${id} still pending after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  async function resultOf(id: string): Promise<VerificationResult> {
    const a = await finished(id);
    expect(a.status, JSON.stringify(a.failure)).toBe('completed');
    return VerificationResultSchema.parse(a.result); // the contract holds on the wire
  }
  const checkOf = (r: VerificationResult, name: string) => r.checks.find((c) => c.name === name)!;

  it('answers 202 at once with a pending job, and matches a genuine selfie to the portrait on an ID', async () => {
    const [selfie, other] = GENUINE_PAIRS[0];
    const res = await engine.api(
      'POST',
      '/verification-jobs',
      jobForm({ selfie: dataFile(selfie), idFront: await syntheticIdCard(dataFile(other)) }),
    );
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`/verification-jobs/${res.body.data.id}`);
    expect(res.body.data).toMatchObject({
      type: 'verificationJob',
      attributes: { status: 'pending', imagesDeleted: false, completedAt: null },
    });
    expect(res.body.data.id).toMatch(/^vj_[0-9A-Za-z]{20}$/);

    const r = await resultOf(res.body.data.id);
    expect(checkOf(r, 'face_match').status).toBe('passed');
    expect(r.decision.reasonCodes).not.toContain('selfie_face_mismatch');
    expect(r.scores.faceMatch).toBeGreaterThan(0.9);
    expect(checkOf(r, 'liveness').status).toBe('passed');
    // The card is not a real document type: the document checks fail, so a person reviews it.
    expect(r.documentType).toBe('unknown');
    expect(r.decision).toEqual({ value: 'review', reasonCodes: ['document_unverified_other'] });

    // The workflow got ids only: no image bytes in Temporal's history.
    const history = await engine.temporal.workflow.getHandle(`verification-job-${res.body.data.id}`).fetchHistory();
    const started = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
    const [payload] = await payloadCodec(engine.config.keyRing).decode(started.input!.payloads!);
    const input = JSON.parse(Buffer.from(payload.data!).toString());
    expect(input).toEqual({ jobId: res.body.data.id, orgId: engine.orgId });
  });

  it('rejects impostor pairs with selfie_face_mismatch', async () => {
    const ids = await Promise.all(
      IMPOSTOR_PAIRS.map(async ([a, b]) => submit(jobForm({ selfie: dataFile(a), idFront: await syntheticIdCard(dataFile(b)) }))),
    );
    for (const id of ids) {
      const r = await resultOf(id);
      expect(r.decision.value).toBe('reject');
      expect(r.decision.reasonCodes[0]).toBe('selfie_face_mismatch');
      expect(r.scores.faceMatch).toBeLessThan(0.1);
    }
  });

  it('flags a printed photo held up to the camera as selfie_manipulated (review); a live capture passes liveness', async () => {
    const [spoof, live] = await Promise.all([
      submit(jobForm({ selfie: dataFile(LIVENESS.printSpoof), idFront: dataFile(LIVENESS.printSpoof) })),
      submit(jobForm({ selfie: dataFile(LIVENESS.live), idFront: dataFile(LIVENESS.live) })),
    ]);
    const s = await resultOf(spoof);
    expect(checkOf(s, 'liveness')).toMatchObject({ status: 'failed', code: 'selfie_manipulated' });
    expect(s.scores.liveness).toBeLessThan(0.5);
    expect(s.decision.value).toBe('review');
    expect(s.decision.reasonCodes).toContain('selfie_manipulated');
    const l = await resultOf(live);
    expect(checkOf(l, 'liveness').status).toBe('passed');
    expect(l.scores.liveness).toBeGreaterThanOrEqual(0.5);
  });

  it('checks selfie frames: frames showing someone else than the selfie are flagged selfie_manipulated', async () => {
    const [selfie, idPhoto] = GENUINE_PAIRS[1];
    const r = await resultOf(
      await submit(jobForm({ selfie: dataFile(selfie), idFront: dataFile(idPhoto), selfieFrames: [dataFile(IMPOSTOR_PAIRS[1][0])] })),
    );
    expect(r.details.selfieFramesAnalysed).toBe(1);
    expect(checkOf(r, 'face_match').status).toBe('passed');
    expect(checkOf(r, 'liveness')).toMatchObject({ status: 'failed', code: 'selfie_manipulated' });
    expect(checkOf(r, 'liveness').reason).toMatch(/frames/);
  });

  it('recognises a passport (MRZ parsed), a driving licence and an ID card, and catches that they are expired', async () => {
    const [passport, licence, idCard] = await Promise.all([
      submit(
        jobForm(
          { selfie: dataFile(lfw('Frank_Griswold', 1)), idFront: dataFile(DOCUMENTS.passport) },
          { fullName: 'Anna Maria Eriksson', dateOfBirth: '1974-08-13' },
        ),
      ),
      submit(jobForm({ selfie: dataFile(lfw('Morgan_Freeman', 1)), idFront: dataFile(DOCUMENTS.driversLicense) })),
      // The same request as JSON with base64 images.
      submit({
        data: {
          type: 'verificationJob',
          attributes: {
            selfie: dataFile(lfw('Nicholas_Tse', 1)).toString('base64'),
            idFront: dataFile(DOCUMENTS.idCard).toString('base64'),
            consent: consent(),
          },
        },
      }),
    ]);
    const p = await resultOf(passport);
    expect(p.documentType).toBe('passport');
    expect(p.country).toBe('UTO');
    expect(p.fields).toMatchObject({
      fullName: 'ANNA MARIA ERIKSSON',
      dateOfBirth: '1974-08-12',
      expirationDate: '2012-04-15',
      documentNumber: 'L898902C3',
    });
    // The MRZ lines as read (OCR may still confuse O/0 in fields the check digits do not cover).
    expect(p.fields.mrz).toHaveLength(2);
    expect(p.fields.mrz![0]).toBe(PASSPORT_MRZ[0]);
    expect(p.fields.mrz![1].slice(0, 10)).toBe(PASSPORT_MRZ[1].slice(0, 10));
    expect(checkOf(p, 'document_mrz').status).toBe('passed');
    expect(checkOf(p, 'document_expiry')).toMatchObject({ status: 'failed', code: 'document_expired' });
    // Declared person: the name matches, the date of birth is off by a day.
    expect(checkOf(p, 'expected_name').status).toBe('passed');
    expect(checkOf(p, 'expected_date_of_birth')).toMatchObject({ status: 'failed', code: 'document_dob_mismatch' });
    expect(p.decision.reasonCodes).toEqual(expect.arrayContaining(['document_expired', 'document_dob_mismatch']));

    const d = await resultOf(licence);
    expect(d.documentType).toBe('drivers-license');
    expect(d.country).toBe('USA');
    expect(d.decision.reasonCodes).toContain('document_expired');

    const i = await resultOf(idCard);
    expect(i.documentType).toBe('identification');
    expect(i.fields.mrz).toHaveLength(3); // TD1
    expect(i.decision.reasonCodes).toContain('document_expired');
  });

  it('asks for the side with the photo when the document has no portrait (selfie_document_missing_photo)', async () => {
    const r = await resultOf(await submit(jobForm({ selfie: dataFile(lfw('Colin_Jackson', 1)), idFront: dataFile(DOCUMENTS.noPortrait) })));
    expect(checkOf(r, 'document_portrait')).toMatchObject({ status: 'failed', code: 'selfie_document_missing_photo' });
    expect(checkOf(r, 'face_match').status).toBe('not_applicable');
    expect(r.decision.value).toBe('resubmit');
    expect(r.decision.reasonCodes[0]).toBe('selfie_document_missing_photo');
  });

  it('completes bad images with resubmit and a code the user can act on — never a crash or a hung job', async () => {
    const idFront = dataFile(GENUINE_PAIRS[1][1]);
    const cases: [string, Buffer, string][] = [
      ['truncated JPEG', truncatedJpeg(), 'image_unreadable'],
      ['30000x30000 PNG', pngBomb(), 'image_too_large'],
      ['no face', dataFile(NO_FACE), 'no_face_detected'],
      ['two faces', await twoFacesPhoto(), 'multiple_faces'],
    ];
    const ids = await Promise.all(cases.map(([, selfie]) => submit(jobForm({ selfie, idFront }))));
    for (const [i, [what, , code]] of cases.entries()) {
      const r = await resultOf(ids[i]);
      expect(r.decision.value, what).toBe('resubmit');
      expect(r.decision.reasonCodes[0], what).toBe(code);
      const failed = r.checks.find((c) => c.code === code)!;
      expect(failed.reason, what).toMatch(/\w+/);
    }
  });

  it('refuses a decompression bomb from its header, without decoding it', async () => {
    const { runVerificationJob } = await import('../src/verification/job/checks');
    const out = await runVerificationJob({ selfie: pngBomb(), idFront: pngBomb() });
    expect(out.result.decision).toEqual({ value: 'resubmit', reasonCodes: ['image_too_large'] });
    expect(out.timings.decode).toBeLessThan(250); // header only: two 2.7-gigapixel rasters were never allocated
  });

  it('refuses bad uploads with a clear 4xx naming the problem', async () => {
    const selfie = dataFile(SELFIE),
      idFront = dataFile(GENUINE_PAIRS[1][1]);
    const empty = await engine.api('POST', '/verification-jobs', jobForm({ selfie: Buffer.alloc(0), idFront }));
    expect(empty.status).toBe(400);
    expect(empty.body.errors[0]).toMatchObject({ code: 'empty_file', source: { pointer: '/data/attributes/selfie' } });

    const text = await engine.api('POST', '/verification-jobs', jobForm({ selfie: TEXT_AS_JPEG, idFront }));
    expect(text.status).toBe(400);
    expect(text.body.errors[0]).toMatchObject({ code: 'invalid_image', source: { pointer: '/data/attributes/selfie' } });

    const missing = await engine.api('POST', '/verification-jobs', jobForm({ selfie }));
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].source.pointer).toBe('/data/attributes/idFront');

    const wrongFile = await engine.api('POST', '/verification-jobs', jobForm({ photo: selfie, idFront }));
    expect(wrongFile.status).toBe(400);
    expect(wrongFile.body.errors[0].detail).toContain('photo');

    const wrongText = await engine.api('POST', '/verification-jobs', jobForm({ selfie, idFront }, { name: 'Jane' }));
    expect(wrongText.status).toBe(400);
    expect(wrongText.body.errors[0]).toMatchObject({ code: 'unknown_field', source: { pointer: '/data/attributes/name' } });

    const badPerson = await engine.api('POST', '/verification-jobs', jobForm({ selfie, idFront }, { dateOfBirth: '1990-02-31' }));
    expect(badPerson.status).toBe(400);

    // 40 MB: over MAX_UPLOAD_BYTES (10 MB by default).
    const huge = Buffer.alloc(40 * 1024 * 1024, 0x41);
    huge.set([0xff, 0xd8, 0xff, 0xe0]);
    const tooBig = await engine.api('POST', '/verification-jobs', jobForm({ selfie: huge, idFront }));
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.errors[0].code).toBe('payload_too_large');

    // JSON over the generic 1 MB limit reaches this route's validation (here: the empty selfie).
    const bigJson = await engine.api('POST', '/verification-jobs', {
      data: {
        type: 'verificationJob',
        attributes: { selfie: '', idFront: Buffer.concat([idFront, Buffer.alloc(1_500_000)]).toString('base64') },
      },
    });
    expect(bigJson.status).toBe(400);
    expect(bigJson.body.errors[0].source.pointer).toBe('/data/attributes/selfie');

    const wrongJson = await engine.api('POST', '/verification-jobs', {
      data: { type: 'verificationJob', attributes: { selfie: selfie.toString('base64'), idfront: 'x' } },
    });
    expect(wrongJson.status).toBe(400);
    expect(wrongJson.body.errors.map((e: { detail: string }) => e.detail).join(' ')).toContain('unknown field(s): idfront');

    const { count } = await engine.db
      .selectFrom('verification_jobs')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('org_id', '=', engine.orgId)
      .where('status', '=', 'failed')
      .executeTakeFirstOrThrow();
    expect(Number(count)).toBe(0);
  });

  it('erases the images on request and keeps the result; another org sees nothing', async () => {
    const id = await submit(jobForm({ selfie: dataFile(lfw('Joschka_Fischer', 14)), idFront: dataFile(lfw('Joschka_Fischer', 15)) }));
    const before = await resultOf(id);

    const other = await engine.newOrg();
    const asOther = (method: string, path: string) =>
      fetch(engine.baseUrl + path, { method, headers: { authorization: `Bearer ${other.token}` } });
    expect((await asOther('GET', `/verification-jobs/${id}`)).status).toBe(404);
    expect((await asOther('DELETE', `/verification-jobs/${id}/images`)).status).toBe(404);
    expect(await engine.db.selectFrom('verification_job_images').select('kind').where('job_id', '=', id).execute()).toHaveLength(2);

    const del = await engine.api('DELETE', `/verification-jobs/${id}/images`);
    expect(del.status).toBe(204);
    expect(await engine.db.selectFrom('verification_job_images').select('kind').where('job_id', '=', id).execute()).toHaveLength(0);
    const after = await engine.api('GET', `/verification-jobs/${id}`);
    expect(after.body.data.attributes).toMatchObject({ status: 'completed', imagesDeleted: true, result: before });

    expect((await engine.api('GET', '/verification-jobs/vj_00000000000000000000')).status).toBe(404);
  });

  it('notices the same selfie submitted again in the org (selfie_manipulated, review)', async () => {
    const selfie = dataFile(lfw('John_Reid', 1)),
      idFront = dataFile(lfw('John_Reid', 2));
    const first = await submit(jobForm({ selfie, idFront }));
    expect(checkOf(await resultOf(first), 'selfie_reuse').status).toBe('passed');
    const second = await resultOf(await submit(jobForm({ selfie, idFront })));
    expect(checkOf(second, 'selfie_reuse')).toMatchObject({ status: 'failed', code: 'selfie_manipulated' });
    expect(checkOf(second, 'selfie_reuse').reason).toContain(first);
    expect(second.decision.reasonCodes).toContain('selfie_manipulated');
  });

  it('fails (not hangs) a job whose images were erased before the checks ran', async () => {
    await engine.stopWorker();
    let id: string;
    try {
      id = await submit(jobForm({ selfie: dataFile(lfw('Greg_Rusedski', 3)), idFront: dataFile(lfw('Greg_Rusedski', 4)) }));
      expect((await engine.api('DELETE', `/verification-jobs/${id}/images`)).status).toBe(204);
    } finally {
      await engine.startWorker();
    }
    const a = await finished(id!);
    expect(a).toMatchObject({ status: 'failed', failure: { code: 'images_deleted' }, imagesDeleted: true });
  });

  it('publishes the result contract in the OpenAPI document', async () => {
    const doc = await (await fetch(`${engine.baseUrl}/openapi.json`)).json();
    expect(doc.paths['/verification-jobs'].post).toBeDefined();
    expect(doc.paths['/verification-jobs/{id}'].get).toBeDefined();
    expect(doc.components.schemas.VerificationResult.properties.decision).toBeDefined();
  });
});
