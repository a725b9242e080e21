-- One row per banking application; the ApplicationWorkflow owns its status.
CREATE TABLE applications (
  id               BIGSERIAL PRIMARY KEY,
  org_id           BIGINT NOT NULL REFERENCES orgs(id),
  type             TEXT NOT NULL CHECK (type IN ('individualApplication', 'businessApplication')),
  status           TEXT NOT NULL CHECK (status IN ('Pending', 'AwaitingDocuments', 'PendingReview', 'Approved', 'Denied', 'Canceled')),
  -- the request's attributes as submitted (contains personal data; never sent to Temporal)
  attributes       JSONB NOT NULL,
  display_name     TEXT NOT NULL,
  email            TEXT,
  tags             JSONB NOT NULL DEFAULT '{}',
  decision_reason  TEXT,
  decision_reason_code TEXT,
  decided_by       TEXT,
  idempotency_key  TEXT,
  request_hash     TEXT NOT NULL,
  created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
  UNIQUE (org_id, idempotency_key)
);
CREATE INDEX applications_org_status ON applications (org_id, status, id);
CREATE INDEX applications_org_email ON applications (org_id, email);

-- Every person who must be verified: the individual, a business's officer, each beneficial owner.
CREATE TABLE application_persons (
  id                 BIGSERIAL PRIMARY KEY,
  application_id     BIGINT NOT NULL REFERENCES applications(id),
  org_id             BIGINT NOT NULL REFERENCES orgs(id),
  role               TEXT NOT NULL CHECK (role IN ('individual', 'officer', 'beneficialOwner')),
  position           INT NOT NULL,
  full_name          TEXT NOT NULL,
  date_of_birth      DATE NOT NULL,
  -- SHA-256 of the normalised SSN, or of passport number + nationality: duplicate detection without the raw value
  identity_key       TEXT NOT NULL,
  us_person          BOOLEAN NOT NULL,
  evaluation_params  JSONB NOT NULL DEFAULT '{}',
  status             TEXT NOT NULL DEFAULT 'Pending',
  reason             TEXT,
  reason_code        TEXT,
  UNIQUE (application_id, role, position)
);
CREATE INDEX application_persons_identity ON application_persons (org_id, identity_key);
