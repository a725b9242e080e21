// Decisions after the automated checks: manual review (API and the Temporal update `review`),
// cancel, and business applications whose officer and beneficial owners are verified one by one.
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { reviewUpdate } from '../src/applications/messages';
import { dataConverter } from '../src/platform/temporal/payloadCodec';
import { recordHistory } from './support/histories';
import {
  applicationInReview,
  businessApplication,
  eventTypes,
  individualApplication,
  insertVerificationJob,
  reviewAsReviewer,
  waitForStatus,
} from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

describe('review, cancel and business applications', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  /** Reviews go through the API with a reviewer's key: the key is who decided. */
  const review = (id: string, decision: string, reason = 'checked the documents') => reviewAsReviewer(engine, id, decision, reason);
  const cancel = (id: string, reason = 'customer asked') =>
    engine.api('POST', `/applications/${id}/cancel`, { data: { type: 'applicationCancel', attributes: { reason } } });
  const verify = (applicationId: string, documentId: string, jobId: string) =>
    engine.api('POST', `/applications/${applicationId}/documents/${documentId}/verify`, {
      data: { type: 'selfieVerification', attributes: { jobId } },
    });

  /** An individual application whose passport was uploaded: PendingReview. */
  const pendingReview = () => applicationInReview(engine);

  it('a reviewer approves an application in PendingReview; its documents are approved with it', async () => {
    const app = await pendingReview();
    const res = await review(app.id, 'Approved');
    expect(res.status).toBe(200);
    expect(res.body.data.attributes).toMatchObject({
      status: 'Approved',
      decisionReason: 'checked the documents',
      decisionUserId: engine.reviewer.keyId,
    });
    expect(res.body.included[0].attributes.status).toBe('Approved');
    await expect
      .poll(() => eventTypes(engine, engine.orgId, app.id), { timeout: 10_000 })
      .toEqual(['application.created', 'application.awaitingDocuments', 'application.pendingReview', 'application.approved']);
    await recordHistory(engine.temporal, `application-${app.id}`, 'application-reviewed-approved');
  });

  it('a reviewer denies with a reason; a review outside PendingReview is a 409', async () => {
    const app = await pendingReview();
    const res = await review(app.id, 'Denied', 'document photo is of another person');
    expect(res.body.data.attributes).toMatchObject({ status: 'Denied', decisionReason: 'document photo is of another person' });
    const again = await review(app.id, 'Approved');
    expect(again.status).toBe(409);
    expect(again.body.errors[0].detail).toMatch(/Denied.*PendingReview/);

    const awaiting = await engine.unit.applications.create(individualApplication());
    const early = await review(awaiting.data.id, 'Approved');
    expect(early.status).toBe(409);
    expect((await engine.unit.applications.get(awaiting.data.id)).data.attributes.status).toBe('AwaitingDocuments');
    expect((await review(awaiting.data.id, 'Maybe')).status).toBe(400);
  });

  it('the Temporal update `review` decides nothing without the credential the API issues, nor with a forged one', async () => {
    const app = await pendingReview();
    const handle = engine.temporal.workflow.getHandle(`application-${app.id}`);
    // What `temporal workflow update execute --name review` sends: refused by the validator.
    await expect(
      handle.executeUpdate(reviewUpdate, { args: [{ decision: 'Approved', reason: 'ops via Temporal', reviewer: engine.reviewer.keyId }] }),
    ).rejects.toMatchObject({ cause: { message: expect.stringMatching(/reviewer credential the engine issues/) } });
    // A credential not signed by the engine's key ring: the workflow's check refuses it.
    const forged = `${Buffer.from(JSON.stringify({ orgId: engine.orgId, applicationId: app.id, decision: 'Approved', keyId: engine.reviewer.keyId, issuedAt: Date.now(), ringKeyId: 'test1' })).toString('base64url')}.AAAA`;
    const out = await handle.executeUpdate(reviewUpdate, {
      args: [{ decision: 'Approved', reason: 'forged', reviewer: engine.reviewer.keyId, credential: forged }],
    });
    expect(out).toMatchObject({ ok: false, status: 'PendingReview', error: expect.stringMatching(/not issued by this engine/) });
    expect((await engine.unit.applications.get(app.id)).data.attributes.status).toBe('PendingReview');
    // The API's own review still goes through afterwards.
    expect((await review(app.id, 'Approved')).body.data.attributes.status).toBe('Approved');

    const other = await engine.unit.applications.create(individualApplication());
    const h2 = engine.temporal.workflow.getHandle(`application-${other.data.id}`);
    await expect(
      h2.executeUpdate('review', { args: [{ decision: 'Approved', reason: 'x', reviewer: 'y', credential: 'z' }] }),
    ).rejects.toThrow();
  });

  it('cancel (with the SDK) moves a non-final application to Canceled; canceling again is a 409', async () => {
    const created = await engine.unit.applications.create(individualApplication());
    const res = await engine.unit.applications.cancel({
      applicationId: created.data.id,
      data: { type: 'applicationCancel', attributes: { reason: 'customer asked' } },
    });
    expect(res.data.attributes.status).toBe('Canceled');
    expect((res.data.attributes as any).decisionReason).toBe('customer asked');
    const twice = await cancel(created.data.id);
    expect(twice.status).toBe(409);
    expect(twice.body.errors[0].detail).toMatch(/already Canceled/);
    await expect
      .poll(() => eventTypes(engine, engine.orgId, created.data.id), { timeout: 10_000 })
      .toEqual(['application.created', 'application.awaitingDocuments', 'application.canceled']);
    // the workflow (and its person workflow) finished
    await expect
      .poll(async () => (await engine.temporal.workflow.getHandle(`application-${created.data.id}`).describe()).status.name, {
        timeout: 10_000,
      })
      .toBe('COMPLETED');

    const inReview = await pendingReview();
    expect((await cancel(inReview.id)).body.data.attributes.status).toBe('Canceled');
    expect((await cancel('99999999')).status).toBe(404);
    expect(
      (await engine.api('POST', `/applications/${inReview.id}/cancel`, { data: { type: 'applicationCancel', attributes: {} } })).status,
    ).toBe(400);
  });

  describe('business application with an officer and two beneficial owners (selfie verification for each)', () => {
    const owners = [
      { first: 'Jared', last: 'Dunn', useSelfieVerification: 'ReplaceIdentification' as const },
      { first: 'Jane', last: 'Doe', passport: true, useSelfieVerification: 'ReplaceIdentification' as const },
    ];
    const officer = { useSelfieVerification: 'ReplaceIdentification' as const };
    const personDoc = (included: any[], role: string, position: number) =>
      included.find((d) => d.attributes.personRole === role && d.attributes.personPosition === position);

    it('is approved when every person is approved', async () => {
      const created = await engine.unit.applications.create(businessApplication(owners, officer));
      expect(created.data.attributes.status).toBe('AwaitingDocuments');
      const inc = created.included as any[];
      expect(inc).toHaveLength(3);
      expect((created.data.attributes as any).officer).toMatchObject({ fullName: { first: 'Richard' }, status: 'AwaitingDocuments' });
      const id = created.data.id;
      const officerDoc = personDoc(inc, 'officer', 0);
      expect(
        (await verify(id, officerDoc.id, await insertVerificationJob(engine, engine.orgId, { fullName: 'RICHARD HENDRICKS' }))).body.data
          .attributes.status,
      ).toBe('Approved');
      expect(
        (
          await verify(
            id,
            personDoc(inc, 'beneficialOwner', 1).id,
            await insertVerificationJob(engine, engine.orgId, { documentType: 'identification', fullName: 'Jared Dunn' }),
          )
        ).body.data.attributes.status,
      ).toBe('Approved');
      // two of three persons approved: still waiting for the last one
      await new Promise((r) => setTimeout(r, 500));
      expect((await engine.unit.applications.get(id)).data.attributes.status).toBe('AwaitingDocuments');
      expect(
        (
          await verify(
            id,
            personDoc(inc, 'beneficialOwner', 2).id,
            await insertVerificationJob(engine, engine.orgId, { documentType: 'passport', fullName: 'DOE JANE' }),
          )
        ).body.data.attributes.status,
      ).toBe('Approved');
      const approved = await waitForStatus(engine, id, 'Approved');
      expect(approved.data.attributes.beneficialOwners.map((b: any) => b.status)).toEqual(['Approved', 'Approved']);
      const q = await engine.temporal.workflow.getHandle(`application-${id}`).query<any>('status');
      expect(q.persons.map((p: any) => `${p.role}:${p.status}`)).toEqual([
        'officer:Approved',
        'beneficialOwner:Approved',
        'beneficialOwner:Approved',
      ]);
      // deterministic: the recorded histories replay against the current workflow code
      const bundle = { workflowBundle: { codePath: inject('workflowBundlePath') }, dataConverter: dataConverter(engine.config) };
      await Worker.runReplayHistory(
        bundle,
        await engine.temporal.workflow.getHandle(`application-${id}`).fetchHistory(),
        `application-${id}`,
      );
      await recordHistory(engine.temporal, `application-${id}`, 'application-business-approved');
      for (const p of q.persons) {
        const wid = `application-${id}-person-${p.personId}`;
        await Worker.runReplayHistory(bundle, await engine.temporal.workflow.getHandle(wid).fetchHistory(), wid);
      }
    });

    it('is denied at the first person denial, with a reason naming the person', async () => {
      const created = await engine.unit.applications.create(businessApplication(owners, officer));
      const inc = created.included as any[];
      const id = created.data.id;
      await verify(
        id,
        personDoc(inc, 'officer', 0).id,
        await insertVerificationJob(engine, engine.orgId, { fullName: 'Richard Hendricks' }),
      );
      const res = await verify(
        id,
        personDoc(inc, 'beneficialOwner', 2).id,
        await insertVerificationJob(engine, engine.orgId, {
          documentType: 'passport',
          decision: 'reject',
          reasonCodes: ['selfie_face_mismatch'],
          scores: { faceMatch: 0.05 },
        }),
      );
      expect(res.body.data.attributes.status).toBe('Invalid');
      const denied = await waitForStatus(engine, id, 'Denied');
      expect(denied.data.attributes.decisionReason).toBe('Beneficial owner 2 (Jane Doe): selfie_face_mismatch');
      // the remaining person can no longer be verified
      const late = await verify(id, personDoc(inc, 'beneficialOwner', 1).id, await insertVerificationJob(engine, engine.orgId));
      expect(late.status).toBe(409);
      await recordHistory(engine.temporal, `application-${id}`, 'application-business-denied');
    });
  });
});
