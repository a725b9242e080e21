-- How long each org keeps what it no longer needs (days; NULL = kept until erased on request).
-- Images (selfies, document photos, uploaded files) go first: 90 days unless the org says
-- otherwise. Results and whole applications are kept by default (record-keeping duties differ by
-- bank); when set, a result or a decided application older than that is redacted.
ALTER TABLE orgs ADD COLUMN retention_images_days INTEGER DEFAULT 90 CHECK (retention_images_days > 0);
ALTER TABLE orgs ADD COLUMN retention_results_days INTEGER CHECK (retention_results_days > 0);
ALTER TABLE orgs ADD COLUMN retention_applications_days INTEGER CHECK (retention_applications_days > 0);
