// Each org says how long it keeps images, verification results and decided applications; the
// Temporal Schedule `retention-sweep` erases what is older, and nothing newer.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureRetentionSchedule } from '../src/retention/schedule';
import { applicationInReview, files, reviewAsReviewer } from './support/applicationFixtures';
import { jobForm } from './support/verificationFixtures';
import { startTestEngine, type TestEngine } from './support/engine';

describe('retention', () => {
  let engine: TestEngine;
  const scheduleId = `retention-sweep-test-${randomUUID()}`;
  beforeAll(async () => {
    engine = await startTestEngine();
  });
  afterAll(async () => {
    await engine?.temporal.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined);
    await engine?.stop();
  });

  const daysAgo = (days: number) => sql<never>`now() - make_interval(days => ${days})`;

  async function finishedJob(): Promise<string> {
    const res = await engine.api('POST', '/verification-jobs', jobForm({ selfie: files.jpeg, idFront: files.jpeg }));
    expect(res.status).toBe(202);
    await expect
      .poll(async () => (await engine.api('GET', `/verification-jobs/${res.body.data.id}`)).body.data.attributes.status, {
        timeout: 60_000,
      })
      .not.toBe('pending');
    return res.body.data.id;
  }

  async function decidedApplication(): Promise<string> {
    const { id } = await applicationInReview(engine);
    const reviewed = await reviewAsReviewer(engine, id, 'Approved', 'checked');
    expect(reviewed.status).toBe(200);
    return id;
  }

  it('an org admin sets its retention periods; out-of-range values are refused', async () => {
    const org = await engine.api('GET', '/org');
    expect(org.body.data.attributes.retention).toEqual({ imagesDays: 90, resultsDays: null, applicationsDays: null });
    const set = await engine.api('PATCH', '/org', {
      data: { type: 'org', attributes: { retention: { imagesDays: 7, resultsDays: 30, applicationsDays: 365 } } },
    });
    expect(set.status).toBe(200);
    expect(set.body.data.attributes.retention).toEqual({ imagesDays: 7, resultsDays: 30, applicationsDays: 365 });
    for (const bad of [{ imagesDays: 0 }, { resultsDays: -1 }, { applicationsDays: 1.5 }, { imagesDays: 'forever' }, { weeks: 3 }]) {
      const res = await engine.api('PATCH', '/org', { data: { type: 'org', attributes: { retention: bad } } });
      expect(res.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await engine.api('GET', '/org')).body.data.attributes.retention).toEqual({
      imagesDays: 7,
      resultsDays: 30,
      applicationsDays: 365,
    });
  });

  it('the schedule erases images, results and applications past their periods, and keeps newer ones', async () => {
    await engine.api('PATCH', '/org', {
      data: { type: 'org', attributes: { retention: { imagesDays: 7, resultsDays: 30, applicationsDays: 365 } } },
    });
    const [oldImages, oldResult, fresh] = [await finishedJob(), await finishedJob(), await finishedJob()];
    const [oldApplication, recentApplication] = [await decidedApplication(), await decidedApplication()];
    await engine.db
      .updateTable('verification_jobs')
      .set({ created_at: daysAgo(10) })
      .where('id', '=', oldImages)
      .execute();
    await engine.db
      .updateTable('verification_jobs')
      .set({ created_at: daysAgo(40) })
      .where('id', '=', oldResult)
      .execute();
    await engine.db
      .updateTable('applications')
      .set({ updated_at: daysAgo(400) })
      .where('id', '=', oldApplication)
      .execute();
    await engine.db
      .updateTable('application_documents')
      .set({ updated_at: daysAgo(400) })
      .where('application_id', '=', oldApplication)
      .execute();

    await ensureRetentionSchedule(engine.temporal, engine.config.TEMPORAL_TASK_QUEUE, scheduleId);
    const schedule = engine.temporal.schedule.getHandle(scheduleId);
    expect((await schedule.describe()).spec.intervals).toMatchObject([{ every: 3_600_000 }]);
    await schedule.trigger();
    let runId: string | undefined;
    await expect
      .poll(
        async () => {
          runId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
          return runId;
        },
        { timeout: 20_000 },
      )
      .toBeDefined();
    const counts = await engine.temporal.workflow.getHandle(runId!).result();
    expect(counts.images).toBeGreaterThanOrEqual(2); // two jobs' images, and the old application's document files
    expect(counts.results).toBeGreaterThanOrEqual(1);
    expect(counts.applications).toBeGreaterThanOrEqual(1);

    const images = async (jobId: string) =>
      Number(
        (
          await engine.db
            .selectFrom('verification_job_images')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('job_id', '=', jobId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await images(oldImages)).toBe(0);
    expect((await engine.api('GET', `/verification-jobs/${oldImages}`)).body.data.attributes.imagesDeleted).toBe(true);
    expect(await images(fresh)).toBeGreaterThan(0);
    const redactedAt = async (jobId: string) =>
      (await engine.db.selectFrom('verification_jobs').select('redacted_at').where('id', '=', jobId).executeTakeFirstOrThrow()).redacted_at;
    expect(await redactedAt(oldResult)).not.toBeNull();
    expect(await redactedAt(oldImages)).toBeNull();

    const old = await engine.api('GET', `/applications/${oldApplication}`);
    expect(old.body.data.attributes).toMatchObject({ status: 'Approved', fullName: { first: '[redacted]' } });
    const recent = await engine.api('GET', `/applications/${recentApplication}`);
    expect(recent.body.data.attributes.fullName.first).not.toBe('[redacted]');
    const docs = await engine.db
      .selectFrom('application_documents')
      .select(['front_sealed', 'front_file'])
      .where('application_id', '=', oldApplication)
      .execute();
    expect(docs.every((d) => d.front_sealed === null && d.front_file === null)).toBe(true);
  });
});
