-- Personal data at rest is sealed (envelope encryption, src/platform/crypto/envelope.ts): each
-- column that held it in the clear gets a sealed BYTEA next to it, and the clear one may now be
-- empty. The engine writes only the sealed columns; at start it seals what older rows still hold
-- in the clear and empties those (encryptLegacyPlaintext in src/engine/storedData.ts), so a
-- later migration can drop the clear columns.

-- SSNs, passport numbers and dates of birth (at any depth) leave `attributes` for this one.
ALTER TABLE applications ADD COLUMN sensitive BYTEA;

ALTER TABLE application_persons ADD COLUMN sensitive BYTEA;
ALTER TABLE application_persons ALTER COLUMN date_of_birth DROP NOT NULL;

ALTER TABLE application_documents ADD COLUMN front_sealed BYTEA;
ALTER TABLE application_documents ADD COLUMN back_sealed BYTEA;

-- The expected person and the fields read from the document (name, date of birth, number, …).
ALTER TABLE verification_jobs ADD COLUMN expected_person_sealed BYTEA;
ALTER TABLE verification_jobs ADD COLUMN result_sealed BYTEA;

ALTER TABLE verification_job_images ADD COLUMN bytes_sealed BYTEA;
ALTER TABLE verification_job_images ALTER COLUMN bytes DROP NOT NULL;

ALTER TABLE webhooks ADD COLUMN token_sealed BYTEA;
ALTER TABLE webhooks ALTER COLUMN token DROP NOT NULL;
