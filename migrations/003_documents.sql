-- Documents an application requires, and the files or verification job that satisfy them.
CREATE TABLE application_documents (
  id                   BIGSERIAL PRIMARY KEY,
  application_id       BIGINT NOT NULL REFERENCES applications(id),
  org_id               BIGINT NOT NULL REFERENCES orgs(id),
  person_id            BIGINT NOT NULL REFERENCES application_persons(id),
  document_type        TEXT NOT NULL,
  status               TEXT NOT NULL,
  description          TEXT NOT NULL,
  name                 TEXT NOT NULL,
  reason               TEXT,
  reason_code          TEXT,
  front_content_type   TEXT,
  front_file           BYTEA,
  back_content_type    TEXT,
  back_file            BYTEA,
  verification_job_id  TEXT,
  created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX application_documents_app ON application_documents (application_id);
