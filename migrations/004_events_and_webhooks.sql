-- Events are written once per state transition (dedupe_key) and fanned out to webhooks.
CREATE TABLE events (
  id             BIGSERIAL PRIMARY KEY,
  org_id         BIGINT NOT NULL REFERENCES orgs(id),
  type           TEXT NOT NULL,
  attributes     JSONB NOT NULL DEFAULT '{}',
  relationships  JSONB NOT NULL DEFAULT '{}',
  dedupe_key     TEXT NOT NULL UNIQUE,
  created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_org ON events (org_id, id);

CREATE TABLE webhooks (
  id                 BIGSERIAL PRIMARY KEY,
  org_id             BIGINT NOT NULL REFERENCES orgs(id),
  label              TEXT NOT NULL,
  url                TEXT NOT NULL,
  token              TEXT NOT NULL,
  content_type       TEXT NOT NULL CHECK (content_type IN ('Json', 'JsonAPI')),
  delivery_mode      TEXT NOT NULL CHECK (delivery_mode IN ('AtMostOnce', 'AtLeastOnce')),
  include_resources  BOOLEAN NOT NULL DEFAULT false,
  subscription_type  TEXT NOT NULL DEFAULT 'All',
  status             TEXT NOT NULL DEFAULT 'Enabled' CHECK (status IN ('Enabled', 'Disabled')),
  created_at         TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_org ON webhooks (org_id);

-- Every HTTP attempt to deliver an event to a webhook.
CREATE TABLE webhook_attempts (
  id           BIGSERIAL PRIMARY KEY,
  org_id       BIGINT NOT NULL REFERENCES orgs(id),
  event_id     BIGINT NOT NULL REFERENCES events(id),
  webhook_id   BIGINT NOT NULL REFERENCES webhooks(id),
  attempt      INT NOT NULL,
  status_code  INT,
  error        TEXT,
  duration_ms  INT NOT NULL,
  delivered    BOOLEAN NOT NULL,
  created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, webhook_id);
