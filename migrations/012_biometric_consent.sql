-- The end user's consent to each biometric capture (a verification job's selfie and document
-- photo): which notice they accepted, when, and from where. The client's IP address and user
-- agent are personal data: sealed (envelope encryption, src/platform/crypto/envelope.ts).
CREATE TABLE biometric_consents (
  verification_job_id TEXT PRIMARY KEY REFERENCES verification_jobs(id),
  org_id              BIGINT NOT NULL REFERENCES orgs(id),
  text_version        TEXT NOT NULL,
  accepted_at         TIMESTAMPTZ NOT NULL,
  client_sealed       BYTEA,
  recorded_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
  recorded_by_key_id  BIGINT REFERENCES api_tokens(id)
);
