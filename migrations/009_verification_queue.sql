-- The verification queue bound (src/verification/job/repository.ts) counts unfinished jobs, per
-- org and in all, on every job creation: a partial index keeps that to the pending rows only.
CREATE INDEX verification_jobs_pending ON verification_jobs (org_id) WHERE status = 'pending';
