// Documents: uploads (IdDocument front/back, Passport), downloads, and selfie verification with
// completed verification jobs — thresholds, the job's decision and the supported-document rule.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  eventTypes,
  files,
  individualApplication,
  insertVerificationJob,
  waitForStatus,
  type JobOptions,
} from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

const MAX_UPLOAD_BYTES = 4096;

describe('application documents', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine({ MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) });
  });
  afterAll(async () => {
    await engine?.stop();
  });

  const create = async (opts: Parameters<typeof individualApplication>[0]) => {
    const res = await engine.unit.applications.create(individualApplication(opts));
    const docs = res.included as any[];
    const byType = (t: string) => docs.find((d) => d.attributes.documentType === t);
    return { id: res.data.id, docs, byType };
  };
  const verify = (applicationId: string, documentId: string, jobId: string) =>
    engine.api('POST', `/applications/${applicationId}/documents/${documentId}/verify`, {
      data: { type: 'selfieVerification', attributes: { jobId } },
    });
  const job = (o: JobOptions = {}) => insertVerificationJob(engine, engine.orgId, o);

  it('an IdDocument is ReceivedFront after the front, PendingReview after the back; then the application awaits review', async () => {
    const app = await create({});
    const doc = app.byType('IdDocument');
    const front = await engine.unit.applications.upload({ applicationId: app.id, documentId: doc.id, file: files.jpeg, fileType: 'jpeg' });
    expect(front.data.attributes.status).toBe('ReceivedFront');
    expect((await engine.unit.applications.get(app.id)).data.attributes.status).toBe('AwaitingDocuments');
    const back = await engine.unit.applications.upload({
      applicationId: app.id,
      documentId: doc.id,
      file: files.png,
      fileType: 'png',
      isBackSide: true,
    });
    expect(back.data.attributes.status).toBe('PendingReview');
    await waitForStatus(engine, app.id, 'PendingReview');
    const down = await engine.unit.applications.download({ applicationId: app.id, documentId: doc.id });
    expect(Buffer.from(down).equals(files.jpeg)).toBe(true);
    const downBack = await engine.unit.applications.download({ applicationId: app.id, documentId: doc.id, isBackSide: true });
    expect(Buffer.from(downBack).equals(files.png)).toBe(true);
    // Served as attachments under a name made by the engine, never sniffed, never cached.
    for (const [path, type, name] of [
      ['download', 'image/jpeg', `document-${doc.id}.jpg`],
      ['download/back', 'image/png', `document-${doc.id}-back.png`],
    ]) {
      const res = await fetch(`${engine.baseUrl}/applications/${app.id}/documents/${doc.id}/${path}`, {
        headers: { authorization: `Bearer ${engine.token}` },
      });
      expect(res.headers.get('content-type')).toBe(type);
      expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${name}"`);
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    await expect
      .poll(() => eventTypes(engine, engine.orgId, app.id), { timeout: 10_000 })
      .toEqual(['application.created', 'application.awaitingDocuments', 'application.pendingReview']);
  });

  it('a Passport (PDF) needs one file and goes to PendingReview', async () => {
    const app = await create({ passport: true });
    const doc = app.byType('Passport');
    const up = await engine.unit.applications.upload({ applicationId: app.id, documentId: doc.id, file: files.pdf, fileType: 'pdf' });
    expect(up.data.attributes.status).toBe('PendingReview');
    await waitForStatus(engine, app.id, 'PendingReview');
    const down = await engine.api('GET', `/applications/${app.id}/documents/${doc.id}/download`);
    expect(down.headers.get('content-disposition')).toBe(`attachment; filename="document-${doc.id}.pdf"`);
    const back = await engine.api('PUT', `/applications/${app.id}/documents/${doc.id}/back`, files.pdf, {
      'content-type': 'application/pdf',
    });
    expect(back.status).toBe(409);
  });

  it('refuses a wrong content type (415), content that does not match it (415) and oversize files (413), changing nothing', async () => {
    const app = await create({});
    const doc = app.byType('IdDocument');
    const put = (body: Buffer, ct: string) =>
      engine.api('PUT', `/applications/${app.id}/documents/${doc.id}`, body, { 'content-type': ct });
    expect((await put(files.jpeg, 'image/gif')).status).toBe(415);
    expect((await put(files.jpeg, 'text/plain')).status).toBe(415);
    const mismatch = await put(files.pdf, 'image/jpeg');
    expect(mismatch.status).toBe(415);
    expect(mismatch.body.errors[0].code).toBe('content_mismatch');
    const big = await put(Buffer.concat([files.jpeg, Buffer.alloc(MAX_UPLOAD_BYTES)]), 'image/jpeg');
    expect(big.status).toBe(413);
    const docs = await engine.unit.applications.listDocuments(app.id);
    expect(docs.data[0].attributes.status).toBe('Required');
    expect((await engine.api('GET', `/applications/${app.id}/documents/${doc.id}/download`)).status).toBe(404);
  });

  describe('an upload must be the whole file it claims to be; anything else is refused and nothing is stored', () => {
    let photo: Buffer; // a real JPEG with enough image data to cut in half
    beforeAll(async () => {
      const noise = Buffer.from(Array.from({ length: 40 * 40 * 3 }, (_, i) => (i * 7919) % 251));
      photo = await sharp(noise, { raw: { width: 40, height: 40, channels: 3 } })
        .jpeg({ quality: 80 })
        .toBuffer();
      expect(photo.length).toBeLessThan(MAX_UPLOAD_BYTES);
    });

    /** A front already received, so a refused back side must leave the document ReceivedFront. */
    const awaitingBack = async () => {
      const app = await create({});
      const doc = app.byType('IdDocument');
      const front = await engine.api('PUT', `/applications/${app.id}/documents/${doc.id}`, files.jpeg, { 'content-type': 'image/jpeg' });
      expect(front.body.data.attributes.status).toBe('ReceivedFront');
      return { app, doc };
    };
    const expectRefused = async (body: Buffer, contentType: string, status: number, code: string, detail?: RegExp) => {
      const { app, doc } = await awaitingBack();
      const res = await engine.api('PUT', `/applications/${app.id}/documents/${doc.id}/back`, body, { 'content-type': contentType });
      expect(res.status, JSON.stringify(res.body)).toBe(status);
      expect(res.body.errors[0]).toMatchObject({ status: String(status), code });
      if (detail) expect(res.body.errors[0].detail).toMatch(detail);
      const docs = await engine.unit.applications.listDocuments(app.id);
      expect(docs.data.find((d) => d.id === doc.id)!.attributes.status).toBe('ReceivedFront');
      expect((await engine.api('GET', `/applications/${app.id}/documents/${doc.id}/download/back`)).status).toBe(404);
    };
    /** A PDF around the given objects (1 0 obj is the catalog), ending in %%EOF as a whole file does. */
    const pdf = (catalogExtra: string, ...more: string[]) =>
      Buffer.from(
        [
          '%PDF-1.7',
          `1 0 obj\n<< /Type /Catalog /Pages 2 0 R ${catalogExtra} >>\nendobj`,
          '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj',
          ...more,
          'trailer\n<< /Root 1 0 R >>\n%%EOF\n',
        ].join('\n'),
        'latin1',
      );

    it('HTML sent as image/jpeg (415 content_mismatch)', async () => {
      await expectRefused(Buffer.from('<html><script>alert(document.cookie)</script></html>'), 'image/jpeg', 415, 'content_mismatch');
    });

    it('HTML behind a JPEG signature (400 invalid_file)', async () => {
      const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('<html><script>alert(1)</script></html>')]);
      await expectRefused(fake, 'image/jpeg', 400, 'invalid_file');
    });

    it('a PNG sent as image/jpeg (415, naming what it is)', async () => {
      await expectRefused(files.png, 'image/jpeg', 415, 'content_mismatch', /the file is a PNG, but Content-Type says image\/jpeg/);
    });

    it('a truncated JPEG (400 invalid_file)', async () => {
      await expectRefused(photo.subarray(0, Math.floor(photo.length / 2)), 'image/jpeg', 400, 'invalid_file', /does not decode completely/);
    });

    it('a decompression bomb: a small JPEG whose header says 20000x20000 (413 image_too_large, never decoded)', async () => {
      const bomb = Buffer.from(photo);
      const sof = bomb.indexOf(Buffer.from([0xff, 0xc0]));
      bomb.writeUInt16BE(20_000, sof + 5); // height
      bomb.writeUInt16BE(20_000, sof + 7); // width
      await expectRefused(bomb, 'image/jpeg', 413, 'image_too_large', /20000x20000 \(400 MP\); the limit is 50 MP/);
    });

    it('a PDF that runs JavaScript when opened, also with the name hex-escaped (/J#61vaScript) (400 active_content)', async () => {
      const js = '/OpenAction 3 0 R';
      await expectRefused(
        pdf(js, '3 0 obj\n<< /S /JavaScript /JS (app.alert(1)) >>\nendobj'),
        'application/pdf',
        400,
        'active_content',
        /JavaScript/,
      );
      await expectRefused(
        pdf(js, '3 0 obj\n<< /S /J#61vaScript /J#53 (app.alert(1)) >>\nendobj'),
        'application/pdf',
        400,
        'active_content',
      );
    });

    it('a PDF whose JavaScript is compressed inside an object stream (400 active_content)', async () => {
      const objects = '3 0 << /S /JavaScript /JS (app.alert(1)) >>';
      const packed = deflateSync(Buffer.from(objects));
      const stream = `4 0 obj\n<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length ${packed.length} >>\nstream\n`;
      const body = Buffer.concat([Buffer.from(stream), packed, Buffer.from('\nendstream\nendobj')]).toString('latin1');
      await expectRefused(pdf('/OpenAction 3 0 R', body), 'application/pdf', 400, 'active_content');
    });

    it('a PDF that launches a program or carries a file (400 active_content)', async () => {
      await expectRefused(pdf('/OpenAction << /S /Launch /F (cmd.exe) >>'), 'application/pdf', 400, 'active_content', /launches/);
      await expectRefused(pdf('/Names << /EmbeddedFiles 3 0 R >>'), 'application/pdf', 400, 'active_content', /embedded files/);
    });

    it('a PDF cut short, without its %%EOF (400 invalid_file)', async () => {
      const whole = pdf('');
      await expectRefused(whole.subarray(0, whole.length - 8), 'application/pdf', 400, 'invalid_file', /%%EOF/);
    });

    it('while a whole JPEG, and a plain PDF that opens on its first page or merely mentions "/JS" in its text, are accepted', async () => {
      const { app, doc } = await awaitingBack();
      const back = await engine.api('PUT', `/applications/${app.id}/documents/${doc.id}/back`, photo, { 'content-type': 'image/jpeg' });
      expect(back.body.data.attributes.status).toBe('PendingReview');
      const passport = await create({ passport: true });
      const plain = pdf(
        '/OpenAction [3 0 R /Fit] /Info << /Title (about /JS and /JavaScript) >>',
        '3 0 obj\n<< /Type /Page /Parent 2 0 R >>\nendobj',
      );
      const up = await engine.api('PUT', `/applications/${passport.id}/documents/${passport.byType('Passport').id}`, plain, {
        'content-type': 'application/pdf',
      });
      expect(up.status, JSON.stringify(up.body)).toBe(200);
    });
  });

  it('a SelfieVerification is not uploaded, and an IdDocument is not verified with a job', async () => {
    const app = await create({ useSelfieVerification: 'Always' });
    const up = await engine.api('PUT', `/applications/${app.id}/documents/${app.byType('SelfieVerification').id}`, files.jpeg, {
      'content-type': 'image/jpeg',
    });
    expect(up.status).toBe(409);
    const v = await verify(app.id, app.byType('IdDocument').id, await job());
    expect(v.status).toBe(409);
    expect(v.body.errors[0].code).toBe('document_not_verifiable');
  });

  describe('selfie verification (useSelfieVerification ReplaceIdentification)', () => {
    it('US person (SSN) + drivers-license, clear pass: the document and the application are approved', async () => {
      const app = await create({ useSelfieVerification: 'ReplaceIdentification' });
      const doc = app.byType('SelfieVerification');
      const jobId = await job({ documentType: 'drivers-license' });
      // the SDK's verifyDocument, unmodified
      const res = await engine.unit.applications.verifyDocument({
        applicationId: app.id,
        documentId: doc.id,
        data: { type: 'selfieVerification', attributes: { jobId } },
      });
      expect(res.data.attributes.status).toBe('Approved');
      await waitForStatus(engine, app.id, 'Approved');
      await expect
        .poll(() => eventTypes(engine, engine.orgId, app.id), { timeout: 10_000 })
        .toEqual(['application.created', 'application.awaitingDocuments', 'document.approved', 'application.approved']);
      const usedBy = await engine.db
        .selectFrom('verification_jobs')
        .select('used_by_document_id')
        .where('id', '=', jobId)
        .executeTakeFirstOrThrow();
      expect(usedBy.used_by_document_id).toBe(doc.id);
    });

    it("a passing job for someone else's face and document does not verify the applicant: it goes to review", async () => {
      const app = await create({ useSelfieVerification: 'ReplaceIdentification' });
      const doc = app.byType('SelfieVerification');
      const res = await verify(
        app.id,
        doc.id,
        await job({ documentType: 'drivers-license', fullName: 'MARY JANE WATSON', dateOfBirth: '1992-06-01' }),
      );
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toMatchObject({ status: 'PendingReview', reasonCode: 'document_name_mismatch' });
      await waitForStatus(engine, app.id, 'PendingReview');
    });

    it('US person + residence permit: the document is Invalid (UnsupportedDocumentType), the application awaits documents again, and a new job can fix it', async () => {
      const app = await create({ useSelfieVerification: 'ReplaceIdentification' });
      const doc = app.byType('SelfieVerification');
      const res = await verify(app.id, doc.id, await job({ documentType: 'residence' }));
      expect(res.status).toBe(200);
      expect(res.body.data.attributes).toMatchObject({ status: 'Invalid', reasonCode: 'UnsupportedDocumentType' });
      expect(res.body.data.attributes.reason).toMatch(/drivers-license or identification/);
      // the person workflow emits document.rejected, the application workflow awaitingDocuments: any order
      await expect
        .poll(async () => (await eventTypes(engine, engine.orgId, app.id)).sort(), { timeout: 10_000 })
        .toEqual(['application.awaitingDocuments', 'application.awaitingDocuments', 'application.created', 'document.rejected']);
      expect((await engine.unit.applications.get(app.id)).data.attributes.status).toBe('AwaitingDocuments');

      const again = await verify(app.id, doc.id, await job({ documentType: 'identification' }));
      expect(again.body.data.attributes.status).toBe('Approved');
      await waitForStatus(engine, app.id, 'Approved');
    });

    it('non-US person (passport) + drivers-license is Invalid; + passport continues', async () => {
      const app = await create({ passport: true, useSelfieVerification: 'ReplaceIdentification' });
      const doc = app.byType('SelfieVerification');
      const wrong = await verify(app.id, doc.id, await job({ documentType: 'drivers-license' }));
      expect(wrong.body.data.attributes).toMatchObject({ status: 'Invalid', reasonCode: 'UnsupportedDocumentType' });
      expect(wrong.body.data.attributes.reason).toMatch(/must present passport/);
      const right = await verify(app.id, doc.id, await job({ documentType: 'passport' }));
      expect(right.body.data.attributes.status).toBe('Approved');
      await waitForStatus(engine, app.id, 'Approved');
    });

    it('a job decided "review" (or scores between thresholds) sends the application to PendingReview', async () => {
      const app = await create({ useSelfieVerification: 'ReplaceIdentification' });
      const res = await verify(
        app.id,
        app.byType('SelfieVerification').id,
        await job({ decision: 'review', reasonCodes: ['document_name_mismatch'] }),
      );
      expect(res.body.data.attributes.status).toBe('PendingReview');
      await waitForStatus(engine, app.id, 'PendingReview');

      const between = await create({ useSelfieVerification: 'ReplaceIdentification' });
      const r2 = await verify(between.id, between.byType('SelfieVerification').id, await job({ scores: { faceMatch: 0.6 } }));
      expect(r2.body.data.attributes.status).toBe('PendingReview');
    });

    it('a clear failure (selfie_face_mismatch) denies the application, naming the person and the reason', async () => {
      const app = await create({ first: 'Mary', last: 'Jane', useSelfieVerification: 'ReplaceIdentification' });
      const res = await verify(
        app.id,
        app.byType('SelfieVerification').id,
        await job({ decision: 'reject', reasonCodes: ['selfie_face_mismatch'], scores: { faceMatch: 0.1 } }),
      );
      expect(res.body.data.attributes).toMatchObject({ status: 'Invalid', reasonCode: 'selfie_face_mismatch' });
      const denied = await waitForStatus(engine, app.id, 'Denied');
      expect(denied.data.attributes.decisionReason).toBe('Applicant (Mary Jane): selfie_face_mismatch');
    });

    it("refuses unknown (404), pending (409), failed (422), other org's (404) and already used (409) jobs, changing nothing", async () => {
      const app = await create({ useSelfieVerification: 'ReplaceIdentification' });
      const doc = app.byType('SelfieVerification');
      const other = await engine.newOrg();
      const used = await job();
      const first = await create({ useSelfieVerification: 'ReplaceIdentification' });
      expect((await verify(first.id, first.byType('SelfieVerification').id, used)).status).toBe(200);

      const cases: Array<[string, number, string]> = [
        ['vj_does_not_exist', 404, 'not_found'],
        [await job({ status: 'pending' }), 409, 'job_not_completed'],
        [await job({ status: 'failed' }), 422, 'job_failed'],
        [await insertVerificationJob(engine, other.orgId), 404, 'not_found'],
        [used, 409, 'job_already_used'],
      ];
      for (const [jobId, status, code] of cases) {
        const res = await verify(app.id, doc.id, jobId);
        expect(res.status, jobId).toBe(status);
        expect(res.body.errors[0].code).toBe(code);
      }
      const bad = await engine.api('POST', `/applications/${app.id}/documents/${doc.id}/verify`, {
        data: { type: 'selfieVerification', attributes: { jobId: 'x', extra: 1 } },
      });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].source.pointer).toBe('/data/attributes/extra');
      const docs = await engine.unit.applications.listDocuments(app.id);
      expect(docs.data[0].attributes.status).toBe('Required');
      expect((await engine.unit.applications.get(app.id)).data.attributes.status).toBe('AwaitingDocuments');
    });
  });

  it('tenant isolation: another org gets 404 for documents, uploads, downloads and verify', async () => {
    const app = await create({ useSelfieVerification: 'Always' });
    const other = await engine.newOrg();
    const as = (method: string, path: string, body?: BodyInit, ct = 'application/vnd.api+json') =>
      fetch(engine.baseUrl + path, { method, headers: { authorization: `Bearer ${other.token}`, 'content-type': ct }, body });
    const selfie = app.byType('SelfieVerification');
    const id = app.byType('IdDocument');
    const otherJob = await insertVerificationJob(engine, other.orgId);
    expect((await as('GET', `/applications/${app.id}/documents`)).status).toBe(404);
    expect((await as('PUT', `/applications/${app.id}/documents/${id.id}`, files.jpeg, 'image/jpeg')).status).toBe(404);
    expect((await as('GET', `/applications/${app.id}/documents/${id.id}/download`)).status).toBe(404);
    expect(
      (
        await as(
          'POST',
          `/applications/${app.id}/documents/${selfie.id}/verify`,
          JSON.stringify({ data: { type: 'selfieVerification', attributes: { jobId: otherJob } } }),
        )
      ).status,
    ).toBe(404);
    const docs = await engine.unit.applications.listDocuments(app.id);
    expect(docs.data.map((d) => d.attributes.status)).toEqual(['Required', 'Required']);
  });
});
