-- API keys carry a name, scopes and an optional expiry; applications remember the key that
-- submitted them (separation of duties); an org may allow a key to review what it submitted.
-- Keys issued before scopes existed keep what a partner integration needs (applications, read,
-- admin) but not review: reviewers get their own keys.
ALTER TABLE api_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_tokens ADD COLUMN scopes TEXT[] NOT NULL DEFAULT ARRAY['applications', 'read', 'admin'];
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN created_by_key_id BIGINT REFERENCES api_tokens(id);
UPDATE api_tokens SET name = description WHERE name = '';
CREATE INDEX api_tokens_org ON api_tokens (org_id, id);

ALTER TABLE orgs ADD COLUMN allow_self_review BOOLEAN NOT NULL DEFAULT false;

ALTER TABLE applications ADD COLUMN submitted_by_key_id BIGINT REFERENCES api_tokens(id);
