-- How long each org keeps what it no longer needs (days; NULL = kept until erased on request).
-- New orgs keep images (selfies, document photos, uploaded files) 90 days; orgs that existed
-- before keep everything until they choose (an upgrade erases nothing by itself). Results and
-- whole applications are kept by default (record-keeping duties differ by bank); when set, a
-- result or a decided application older than that is redacted.
ALTER TABLE orgs ADD COLUMN retention_images_days INTEGER CHECK (retention_images_days > 0);
ALTER TABLE orgs ALTER COLUMN retention_images_days SET DEFAULT 90;
ALTER TABLE orgs ADD COLUMN retention_results_days INTEGER CHECK (retention_results_days > 0);
ALTER TABLE orgs ADD COLUMN retention_applications_days INTEGER CHECK (retention_applications_days > 0);
