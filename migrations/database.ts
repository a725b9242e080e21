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

export interface OrgsTable {
  id: Generated<string>;
  name: string;
  created_at: Generated<Timestamp>;
}
export interface ApiTokensTable {
  id: Generated<string>;
  org_id: Ref;
  description: Generated<string>;
  token_hash: string;
  created_at: Generated<Timestamp>;
  revoked_at: Timestamp | null;
}

export interface ApplicationsTable {
  id: Generated<string>;
  org_id: Ref;
  type: ApplicationType;
  status: ApplicationStatus;
  attributes: JSONColumnType<Record<string, unknown>, string, string>;
  display_name: string;
  email: string | null;
  tags: JSONColumnType<Record<string, string>, string, string>;
  decision_reason: string | null;
  decision_reason_code: string | null;
  decided_by: string | null;
  idempotency_key: string | null;
  request_hash: string;
  created_at: Generated<Timestamp>;
  updated_at: Generated<Timestamp>;
}

export interface ApplicationPersonsTable {
  id: Generated<string>;
  application_id: Ref;
  org_id: Ref;
  role: PersonRole;
  position: number;
  full_name: string;
  date_of_birth: ColumnType<string, string, string>;
  identity_key: string;
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
  front_file: Buffer | null;
  back_content_type: string | null;
  back_file: Buffer | null;
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
  token: string;
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

export interface VerificationJobsTable {
  id: string;
  org_id: Ref;
  status: 'pending' | 'completed' | 'failed';
  expected_person: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  result: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  failure: JSONColumnType<Record<string, unknown> | null, string | null, string | null>;
  selfie_hash: string | null;
  used_by_document_id: ColumnType<string | null, string | number | null | undefined, string | number | null>;
  images_deleted_at: Timestamp | null;
  created_at: Generated<Timestamp>;
  completed_at: Timestamp | null;
}

export interface VerificationJobImagesTable {
  job_id: string;
  kind: 'selfie' | 'idFront' | 'idBack' | 'selfieFrame';
  position: Generated<number>;
  content_type: string;
  bytes: Buffer;
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
}
