// Kysely's view of the schema in this folder's SQL migrations; change both together.
import type { ColumnType, Generated, JSONColumnType } from 'kysely';
import type {
  ApplicationStatus,
  ApplicationType,
  DocumentStatus,
  DocumentType,
  PersonRole,
  PersonStatus,
} from '../src/applications/domain';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Ref = ColumnType<string, string | number, string | number>;
/** Envelope-sealed bytes (src/platform/crypto/envelope.ts); optional on insert. */
type Sealed = ColumnType<Buffer | null, Buffer | null | undefined, Buffer | null>;
/** A column that held personal data in the clear before migration 010: now only read to seal it, then emptied. */
type Clear<T> = ColumnType<T | null, T | null | undefined, T | null>;

export interface OrgsTable {
  id: Generated<string>;
  name: string;
  created_at: Generated<Timestamp>;
  /** Whether a key may review an application it submitted (separation of duties is the default). */
  allow_self_review: Generated<boolean>;
  /** migrations/013_retention.sql: days, NULL = kept until erased on request. */
  retention_images_days: ColumnType<number | null, number | null | undefined, number | null>;
  retention_results_days: ColumnType<number | null, number | null | undefined, number | null>;
  retention_applications_days: ColumnType<number | null, number | null | undefined, number | null>;
}
export interface ApiTokensTable {
  id: Generated<string>;
  org_id: Ref;
  description: Generated<string>;
  token_hash: string;
  created_at: Generated<Timestamp>;
  revoked_at: Timestamp | null;
  name: Generated<string>;
  /** src/orgs/scopes.ts */
  scopes: ColumnType<string[], string[], string[]>;
  expires_at: Timestamp | null;
  created_by_key_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ApplicationsTable {
  id: Generated<string>;
  org_id: Ref;
  type: ApplicationType;
  status: ApplicationStatus;
  /** The submitted attributes without SSNs, passport numbers and dates of birth (those are in `sensitive`). */
  attributes: JSONColumnType<Record<string, unknown>, string, string>;
  /** Sealed: the fields taken out of `attributes` (src/applications/sensitiveAttributes.ts). */
  sensitive: Sealed;
  display_name: string;
  email: string | null;
  tags: JSONColumnType<Record<string, string>, string, string>;
  decision_reason: string | null;
  decision_reason_code: string | null;
  /** The API key (id) of the reviewer who decided; null when the engine's rules decided (src/orgs/reviewerCredential.ts). */
  decided_by: string | null;
  /** The API key that submitted the application (separation of duties). */
  submitted_by_key_id: ColumnType<string | null, string | null | undefined, string | null>;
  idempotency_key: string | null;
  request_hash: string;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
  /** migrations/011_redaction.sql: when its personal data was erased on request (src/applications/redaction.ts). */
  redacted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface ApplicationPersonsTable {
  id: Generated<string>;
  application_id: Ref;
  org_id: Ref;
  role: PersonRole;
  position: number;
  full_name: string;
  date_of_birth: Clear<string>;
  /** Sealed: { dateOfBirth }. */
  sensitive: Sealed;
  /** HMAC (IDENTITY_INDEX_KEY) of the normalised SSN or passport: duplicate detection. Null once redacted. */
  identity_key: ColumnType<string | null, string, string | null>;
  us_person: boolean;
  evaluation_params: JSONColumnType<Record<string, unknown>, string, string>;
  status: Generated<PersonStatus>;
  reason: string | null;
  reason_code: string | null;
}

export interface ApplicationDocumentsTable {
  id: Generated<string>;
  application_id: Ref;
  org_id: Ref;
  person_id: Ref;
  document_type: DocumentType;
  status: DocumentStatus;
  description: string;
  name: string;
  reason: string | null;
  reason_code: string | null;
  front_content_type: string | null;
  front_file: Clear<Buffer>;
  front_sealed: Sealed;
  back_content_type: string | null;
  back_file: Clear<Buffer>;
  back_sealed: Sealed;
  verification_job_id: string | null;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface EventsTable {
  id: Generated<string>;
  org_id: Ref;
  type: string;
  attributes: JSONColumnType<Record<string, unknown>, string, string>;
  relationships: JSONColumnType<Record<string, unknown>, string, string>;
  dedupe_key: string;
  created_at: Generated<Timestamp>;
}

export interface WebhooksTable {
  id: Generated<string>;
  org_id: Ref;
  label: string;
  url: string;
  token: Clear<string>;
  /** Sealed signing secret. */
  token_sealed: Sealed;
  content_type: 'Json' | 'JsonAPI';
  delivery_mode: 'AtMostOnce' | 'AtLeastOnce';
  include_resources: Generated<boolean>;
  subscription_type: Generated<string>;
  status: Generated<'Enabled' | 'Disabled'>;
  created_at: Generated<Timestamp>;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  org_id: Ref;
  event_id: Ref;
  webhook_id: Ref;
  attempt: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
  delivered: boolean;
  created_at: Generated<Timestamp>;
}

/** migrations/012_biometric_consent.sql */
export interface BiometricConsentsTable {
  verification_job_id: string;
  org_id: Ref;
  text_version: string;
  accepted_at: Timestamp;
  /** Sealed JSON { ipAddress?, userAgent? } (context `biometric_consents.client:<job id>`). */
  client_sealed: Buffer | null;
  recorded_at: Generated<Timestamp>;
  recorded_by_key_id: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface VerificationJobsTable {
  id: string;
  org_id: Ref;
  status: 'pending' | 'completed' | 'failed';
  expected_person: JSONColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  expected_person_sealed: Sealed;
  /** The result without what was read from the document (`fields`, `country`: in result_sealed). */
  result: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  result_sealed: Sealed;
  failure: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  selfie_hash: string | null;
  used_by_document_id: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  images_deleted_at: Timestamp | null;
  created_at: Generated<Timestamp>;
  completed_at: Timestamp | null;
  /** migrations/011_redaction.sql: when its personal data was erased on request. */
  redacted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

export interface VerificationJobImagesTable {
  job_id: string;
  kind: 'selfie' | 'idFront' | 'idBack' | 'selfieFrame';
  position: Generated<number>;
  content_type: string;
  bytes: Clear<Buffer>;
  bytes_sealed: Sealed;
}

export interface Database {
  orgs: OrgsTable;
  api_tokens: ApiTokensTable;
  applications: ApplicationsTable;
  application_persons: ApplicationPersonsTable;
  application_documents: ApplicationDocumentsTable;
  events: EventsTable;
  webhooks: WebhooksTable;
  webhook_attempts: WebhookAttemptsTable;
  verification_jobs: VerificationJobsTable;
  verification_job_images: VerificationJobImagesTable;
  biometric_consents: BiometricConsentsTable;
}
