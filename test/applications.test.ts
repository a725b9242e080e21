// Creating, reading and listing applications through Unit's official SDK; the initial
// evaluation and the documents each useSelfieVerification value requires.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplicationActivities } from '../src/applications/activities';
import { openingEventKeys } from '../src/applications/rules/applicationStateMachine';
import { insertApplication } from '../src/applications/repository';
import { newApplication } from '../src/applications/routes/newApplication';
import { ApplicationStatusKey } from '../src/platform/temporal/searchAttributes';
import { countApplications, eventTypes, individualApplication, waitForStatus } from './support/applicationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

const docTypes = (included: any[] | undefined) => (included ?? []).map((d) => d.attributes.documentType).sort();

describe('applications: create, evaluate, read', () => {
  let engine: TestEngine;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.stop();
  });

  it('useSelfieVerification Never (default): a US person must upload an IdDocument, a non-US person a Passport', async () => {
    const us = await engine.unit.applications.create(individualApplication());
    expect(us.data.type).toBe('individualApplication');
    expect(us.data.attributes.status).toBe('AwaitingDocuments');
    expect(docTypes(us.included as any[])).toEqual(['IdDocument']);
    expect((us.included as any[])[0].attributes).toMatchObject({ status: 'Required', name: 'Peter Parker' });
    expect(us.data.relationships.documents.data).toEqual([{ type: 'document', id: (us.included as any[])[0].id }]);
    // never the SSN itself in a response
    expect(JSON.stringify(us)).not.toMatch(/"ssn"/);

    const nonUs = await engine.unit.applications.create(individualApplication({ passport: true, useSelfieVerification: 'Never' }));
    expect(nonUs.data.attributes.status).toBe('AwaitingDocuments');
    expect(docTypes(nonUs.included as any[])).toEqual(['Passport']);
  });

  it('useSelfieVerification ReplaceIdentification requires only a SelfieVerification; Always requires both', async () => {
    const replace = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'ReplaceIdentification' }));
    expect(docTypes(replace.included as any[])).toEqual(['SelfieVerification']);
    const always = await engine.unit.applications.create(individualApplication({ passport: true, useSelfieVerification: 'Always' }));
    expect(docTypes(always.included as any[])).toEqual(['Passport', 'SelfieVerification']);
    const forced = await engine.unit.applications.create(
      individualApplication({
        extra: { evaluationParams: { useSelfieVerification: 'ReplaceIdentification', requireIdVerification: true } },
      }),
    );
    expect(docTypes(forced.included as any[])).toEqual(['IdDocument', 'SelfieVerification']);
  });

  it('opening an application again (its activity retried after it committed) changes nothing and records no event', async () => {
    const app = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'Always' }));
    const id = app.data.id;
    const before = await eventTypes(engine, engine.orgId, id);
    const activities = createApplicationActivities({ db: engine.db, config: engine.config });
    const again = await activities.openApplication({
      applicationId: id,
      orgId: engine.orgId,
      applicationType: 'individualApplication',
      eventKeys: openingEventKeys(`application-${id}`),
    });
    expect(again.status).toBe('AwaitingDocuments');
    expect(again.persons).toHaveLength(1);
    expect(again.persons[0].documents.map((d) => d.documentType).sort()).toEqual(['IdDocument', 'SelfieVerification']);
    expect(await eventTypes(engine, engine.orgId, id)).toEqual(before);
    const docs = await engine.db.selectFrom('application_documents').select('id').where('application_id', '=', id).execute();
    expect(docs).toHaveLength(2);
  });

  it('a transition from a status the database no longer holds changes nothing and says what stands (a workflow task tried again)', async () => {
    const app = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'Always' }));
    const id = app.data.id;
    const before = await eventTypes(engine, engine.orgId, id);
    const activities = createApplicationActivities({ db: engine.db, config: engine.config });
    const stale = await activities.recordTransition({
      applicationId: id,
      orgId: engine.orgId,
      from: 'PendingReview',
      status: 'Canceled',
      reason: 'withdrawn',
      reasonCode: 'Canceled',
      event: { type: 'application.canceled', attributes: {}, relationships: {}, dedupeKey: `application-${id}:9:application.canceled` },
    });
    expect(stale.recordedStatus).toBe('AwaitingDocuments');
    expect((await engine.unit.applications.get(id)).data.attributes.status).toBe('AwaitingDocuments');
    expect(await eventTypes(engine, engine.orgId, id)).toEqual(before);
  });

  it('the same transition recorded twice (the same event key, another cause) keeps the first, in the row and in the event', async () => {
    const app = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'Always' }));
    const id = app.data.id;
    const activities = createApplicationActivities({ db: engine.db, config: engine.config });
    const dedupeKey = `application-${id}:9:application.canceled`;
    const cancel = (reason: string, reasonCode: string) =>
      activities.recordTransition({
        applicationId: id,
        orgId: engine.orgId,
        from: 'AwaitingDocuments',
        status: 'Canceled',
        reason,
        reasonCode,
        event: { type: 'application.canceled', attributes: { reasonCode }, relationships: {}, dedupeKey },
      });
    const first = await cancel('the required documents were not provided within 30 days', 'AwaitingDocumentsDeadline');
    const second = await cancel('customer withdrew', 'Canceled');
    expect(second.eventIds).toEqual(first.eventIds);
    const row = await engine.db
      .selectFrom('applications')
      .select(['status', 'decision_reason', 'decision_reason_code'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      status: 'Canceled',
      decision_reason: 'the required documents were not provided within 30 days',
      decision_reason_code: 'AwaitingDocumentsDeadline',
    });
    const event = await engine.db.selectFrom('events').select('attributes').where('id', '=', first.eventIds[0]).executeTakeFirstOrThrow();
    expect(event.attributes).toMatchObject({ reasonCode: 'AwaitingDocumentsDeadline' });
  });

  it('records the status in the database, the Temporal search attributes and the events', async () => {
    const created = await engine.unit.applications.create(individualApplication());
    const id = created.data.id;
    const handle = engine.temporal.workflow.getHandle(`application-${id}`);
    // the workflow upserts the search attribute right after recording the status
    await expect
      .poll(async () => (await handle.describe()).typedSearchAttributes.get(ApplicationStatusKey), { timeout: 10_000 })
      .toBe('AwaitingDocuments');
    expect((await handle.describe()).memo).toEqual({ applicant: 'Peter Parker' });
    await expect
      .poll(() => eventTypes(engine, engine.orgId, id), { timeout: 10_000 })
      .toEqual(['application.created', 'application.awaitingDocuments']);
    const q = await engine.temporal.workflow.getHandle(`application-${id}`).query<any>('status');
    expect(q).toMatchObject({ status: 'AwaitingDocuments', persons: [{ role: 'individual', status: 'AwaitingDocuments' }] });
  });

  it('denies an applicant under 18 and an idTheftScore above 900, with the reason', async () => {
    const young = await engine.unit.applications.create(
      individualApplication({ dateOfBirth: `${new Date().getUTCFullYear() - 17}-01-01` }),
    );
    const denied = await waitForStatus(engine, young.data.id, 'Denied');
    expect(denied.data.attributes.decisionReason).toMatch(/Applicant \(Peter Parker\): younger than 18/);
    expect(denied.included).toEqual([]);

    const risky = await engine.unit.applications.create(individualApplication({ extra: { idTheftScore: 950 } }));
    expect((await waitForStatus(engine, risky.data.id, 'Denied')).data.attributes.decisionReasonCode).toBe('IdTheftScore');
  });

  it('sends an application whose SSN is on another open application of the org to PendingReview', async () => {
    const first = individualApplication();
    await engine.unit.applications.create(first);
    const again = await engine.unit.applications.create({ ...first, attributes: { ...first.attributes, email: 'other@example.com' } });
    const r = await waitForStatus(engine, again.data.id, 'PendingReview');
    expect(r.data.attributes.decisionReasonCode).toBe('DuplicateIdentity');
  });

  it('GET returns the application with its documents in included; unknown ids are 404', async () => {
    const created = await engine.unit.applications.create(individualApplication({ useSelfieVerification: 'Always' }));
    const got = await engine.unit.applications.get(created.data.id);
    expect(got.data.id).toBe(created.data.id);
    expect(got.data.attributes).toMatchObject({
      status: 'AwaitingDocuments',
      archived: false,
      fullName: { first: 'Peter', last: 'Parker' },
    });
    expect(docTypes(got.included as any[])).toEqual(['IdDocument', 'SelfieVerification']);
    const docs = await engine.unit.applications.listDocuments(created.data.id);
    expect(docs.data.map((d) => d.id).sort()).toEqual((got.included as any[]).map((d) => d.id).sort());
    expect((await engine.api('GET', '/applications/999999999')).status).toBe(404);
    expect((await engine.api('GET', '/applications/abc')).status).toBe(404);
  });

  it('lists with the SDK: status filter, email, query, tags, sort and pagination', async () => {
    const tag = `t-${Date.now()}`;
    const a = await engine.unit.applications.create(
      individualApplication({ first: 'Zelda', last: 'Quux', extra: { tags: { batch: tag } } }),
    );
    const b = await engine.unit.applications.create(
      individualApplication({ first: 'Yorick', last: 'Quux', extra: { tags: { batch: tag } } }),
    );
    const byTag = await engine.unit.applications.list({ tags: { batch: tag } });
    expect(byTag.data.map((x) => x.id)).toEqual([b.data.id, a.data.id]); // -createdAt by default
    expect((byTag as any).meta.pagination).toMatchObject({ total: 2, limit: 100, offset: 0 });
    const asc = await engine.unit.applications.list({ tags: { batch: tag }, sort: 'createdAt', limit: 1, offset: 1 });
    expect(asc.data.map((x) => x.id)).toEqual([b.data.id]);
    const byEmail = await engine.unit.applications.list({ email: (a.data.attributes as any).email });
    expect(byEmail.data.map((x) => x.id)).toEqual([a.data.id]);
    const byQuery = await engine.unit.applications.list({ query: 'zelda', tags: { batch: tag } });
    expect(byQuery.data.map((x) => x.id)).toEqual([a.data.id]);
    const byStatus = await engine.unit.applications.list({ status: ['AwaitingDocuments'], tags: { batch: tag } });
    expect(byStatus.data).toHaveLength(2);
    const none = await engine.unit.applications.list({ status: ['Approved', 'Denied'], tags: { batch: tag } });
    expect(none.data).toHaveLength(0);
    expect((await engine.api('GET', '/applications?filter[status][0]=Nope')).status).toBe(400);
    expect((await engine.api('GET', '/applications?filter[tags]=notjson')).status).toBe(400);
  });

  it('idempotencyKey: the same request returns the original application; another body with the same key is a 409', async () => {
    const req = individualApplication({ extra: { idempotencyKey: `key-${Date.now()}` } });
    const first = await engine.api('POST', '/applications', { data: req });
    expect(first.status).toBe(201);
    const replay = await engine.api('POST', '/applications', { data: req });
    expect(replay.status).toBe(200);
    expect(replay.body.data.id).toBe(first.body.data.id);
    expect(replay.body.included.map((d: any) => d.id)).toEqual(first.body.included.map((d: any) => d.id));
    const before = await countApplications(engine, engine.orgId);
    const other = await engine.api('POST', '/applications', {
      data: { ...req, attributes: { ...req.attributes, email: 'changed@example.com' } },
    });
    expect(other.status).toBe(409);
    expect(other.body.errors[0].code).toBe('idempotency_key_reused');
    expect(await countApplications(engine, engine.orgId)).toBe(before);
  });

  it('a retry with the same idempotencyKey starts the workflow when the first attempt stored the application but could not start it', async () => {
    const req = individualApplication({ extra: { idempotencyKey: `retry-${Date.now()}` } });
    // the first attempt got as far as the database (as if Temporal had been unreachable)
    const first = await insertApplication(
      engine.db,
      engine.config.keyRing,
      engine.orgId,
      newApplication(req as never, engine.config.keyRing),
    );
    expect(first.kind).toBe('created');
    const retry = await engine.api('POST', '/applications', { data: req });
    expect(retry.status).toBe(200);
    expect(retry.body.data.id).toBe(first.application.id);
    expect(retry.body.data.attributes.status).toBe('AwaitingDocuments');
    expect((await engine.api('POST', '/applications', { data: req })).body.data.id).toBe(first.application.id);
  });

  describe('rejects bad input with a precise 400 and creates nothing', () => {
    const valid = () => individualApplication().attributes as Record<string, any>;
    const cases: Array<[string, () => unknown, number, string | RegExp]> = [
      [
        'an unknown attribute',
        () => ({ data: { type: 'individualApplication', attributes: { ...valid(), favouriteColour: 'blue' } } }),
        400,
        '/data/attributes/favouriteColour',
      ],
      [
        'an unknown nested field',
        () => ({ data: { type: 'individualApplication', attributes: { ...valid(), address: { ...valid().address, planet: 'Earth' } } } }),
        400,
        '/data/attributes/address/planet',
      ],
      [
        'a wrong evaluationParams enum value',
        () => ({
          data: { type: 'individualApplication', attributes: { ...valid(), evaluationParams: { useSelfieVerification: 'Sometimes' } } },
        }),
        400,
        '/data/attributes/evaluationParams/useSelfieVerification',
      ],
      ['a wrong application type', () => ({ data: { type: 'trustApplication', attributes: valid() } }), 400, '/data/type'],
      [
        'a missing date of birth',
        () => {
          const a = valid();
          delete a.dateOfBirth;
          return { data: { type: 'individualApplication', attributes: a } };
        },
        400,
        '/data/attributes/dateOfBirth',
      ],
      [
        'missing person data in a business officer',
        () => ({
          data: {
            type: 'businessApplication',
            attributes: {
              name: 'X',
              address: valid().address,
              phone: valid().phone,
              stateOfIncorporation: 'DE',
              ein: '123456789',
              entityType: 'LLC',
              contact: { fullName: { first: 'a', last: 'b' }, email: 'a@b.co', phone: valid().phone },
              officer: { fullName: { first: 'a', last: 'b' } },
              beneficialOwners: [],
            },
          },
        }),
        400,
        '/data/attributes/officer/dateOfBirth',
      ],
      [
        'an impossible date (2023-02-30)',
        () => ({ data: { type: 'individualApplication', attributes: { ...valid(), dateOfBirth: '2023-02-30' } } }),
        400,
        '/data/attributes/dateOfBirth',
      ],
      [
        'an SSN that is not 9 digits',
        () => ({ data: { type: 'individualApplication', attributes: { ...valid(), ssn: '12345' } } }),
        400,
        '/data/attributes/ssn',
      ],
      [
        'both SSN and passport',
        () => ({ data: { type: 'individualApplication', attributes: { ...valid(), passport: 'X1234567', nationality: 'GB' } } }),
        400,
        '/data/attributes/passport',
      ],
      [
        'neither SSN nor passport',
        () => {
          const a = valid();
          delete a.ssn;
          return { data: { type: 'individualApplication', attributes: a } };
        },
        400,
        '/data/attributes/ssn',
      ],
    ];
    for (const [what, body, status, pointer] of cases) {
      it(what, async () => {
        const before = await countApplications(engine, engine.orgId);
        const res = await engine.api('POST', '/applications', body());
        expect(res.status).toBe(status);
        expect(res.body.errors.map((e: any) => e.source?.pointer)).toContain(pointer);
        expect(res.body.errors[0].detail).toBeTruthy();
        expect(await countApplications(engine, engine.orgId)).toBe(before);
      });
    }

    it('lists the allowed values for a wrong enum', async () => {
      const res = await engine.api('POST', '/applications', {
        data: { type: 'individualApplication', attributes: { ...valid(), evaluationParams: { useSelfieVerification: 'Sometimes' } } },
      });
      expect(res.body.errors[0].detail).toMatch(/Never.*ReplaceIdentification.*Always/);
    });

    it('malformed JSON and a non-JSON content type', async () => {
      const before = await countApplications(engine, engine.orgId);
      const bad = await engine.api('POST', '/applications', '{"data": {', { 'content-type': 'application/vnd.api+json' });
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0].code).toBe('malformed_json');
      const text = await engine.api('POST', '/applications', 'hello', { 'content-type': 'text/plain' });
      expect(text.status).toBe(415);
      expect(await countApplications(engine, engine.orgId)).toBe(before);
    });
  });

  it("tenant isolation: another org cannot see, list, cancel or read documents of this org's application", async () => {
    const mine = await engine.unit.applications.create(individualApplication());
    const other = await engine.newOrg();
    const as = (method: string, path: string, body?: unknown) =>
      fetch(engine.baseUrl + path, {
        method,
        headers: { authorization: `Bearer ${other.token}`, 'content-type': 'application/vnd.api+json' },
        body: body ? JSON.stringify(body) : undefined,
      });
    expect((await as('GET', `/applications/${mine.data.id}`)).status).toBe(404);
    expect((await as('GET', `/applications/${mine.data.id}/documents`)).status).toBe(404);
    expect(
      (await as('POST', `/applications/${mine.data.id}/cancel`, { data: { type: 'applicationCancel', attributes: { reason: 'x' } } }))
        .status,
    ).toBe(404);
    const list = await other.unit.applications.list();
    expect(list.data.map((a) => a.id)).not.toContain(mine.data.id);
    expect((await engine.unit.applications.get(mine.data.id)).data.attributes.status).toBe('AwaitingDocuments');
  });
});
