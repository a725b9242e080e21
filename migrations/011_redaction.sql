-- Erasure on request (Stripe Identity's `redact`): a redacted application or verification job
-- stays readable with its ids, status, decision and timestamps, its personal data replaced by
-- "[redacted]" or emptied (src/applications/redaction.ts). When that happened, and that it did:
-- a redacted row takes no more changes.
ALTER TABLE applications ADD COLUMN redacted_at TIMESTAMPTZ;
ALTER TABLE verification_jobs ADD COLUMN redacted_at TIMESTAMPTZ;

-- A redacted person's identity key is erased with the rest: NULL matches no other person
-- (duplicate detection compares keys with =).
ALTER TABLE application_persons ALTER COLUMN identity_key DROP NOT NULL;
