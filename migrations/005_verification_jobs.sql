-- Verification jobs (selfie + ID photo checks). Images are sensitive and kept apart so
-- they can be erased while the result stays.
CREATE TABLE verification_jobs (
  id               TEXT PRIMARY KEY,
  org_id           BIGINT NOT NULL REFERENCES orgs(id),
  status           TEXT NOT NULL CHECK (status IN ('pending', 'completed', 'failed')),
  expected_person  JSONB,
  result           JSONB,
  failure          JSONB,
  -- perceptual hash of the selfie, to notice the same selfie reused across jobs of an org
  selfie_hash      TEXT,
  -- set when an application document consumed the job (a job verifies one document once)
  used_by_document_id BIGINT,
  images_deleted_at TIMESTAMPTZ,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  completed_at     TIMESTAMPTZ
);
CREATE INDEX verification_jobs_org ON verification_jobs (org_id, created_at);

CREATE TABLE verification_job_images (
  job_id        TEXT NOT NULL REFERENCES verification_jobs(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('selfie', 'idFront', 'idBack', 'selfieFrame')),
  position      INT NOT NULL DEFAULT 0,
  content_type  TEXT NOT NULL,
  bytes         BYTEA NOT NULL,
  PRIMARY KEY (job_id, kind, position)
);
