// Test data for applications: SDK request bodies, completed verification jobs (inserted
// directly, as the verification engine would leave them), tiny files and a status poller.
import { randomUUID } from 'node:crypto';
import type { CreateBusinessApplicationRequest, CreateIndividualApplicationRequest } from '@unit-finance/unit-node-sdk';
import type { TestEngine } from './engine';

let counter = 0;
/** A fresh 9-digit SSN per call (duplicates across open applications send them to review). */
export function randomSsn(): string {
  counter += 1;
  return String(100_000_000 + ((Date.now() * 7 + counter * 7919 + Math.floor(Math.random() * 1e6)) % 899_999_999)).slice(0, 9);
}
export const randomPassport = () =>
  `P${Math.floor(Math.random() * 1e9)
    .toString()
    .padStart(9, '0')}`;

export const address = { street: '20 Ingram St', city: 'Forest Hills', state: 'NY', postalCode: '11375', country: 'US' } as const;
export const phone = { countryCode: '1', number: '5555555555' };

type UseSelfie = 'Never' | 'ReplaceIdentification' | 'Always';

export function person(
  opts: { first?: string; last?: string; passport?: boolean; useSelfieVerification?: UseSelfie; dateOfBirth?: string } = {},
) {
  const first = opts.first ?? 'Peter';
  const last = opts.last ?? 'Parker';
  return {
    fullName: { first, last },
    dateOfBirth: opts.dateOfBirth ?? '1990-01-15',
    address: { ...address },
    phone: { ...phone },
    email: `${first.toLowerCase()}.${last.toLowerCase()}.${randomUUID().slice(0, 8)}@example.com`,
    ...(opts.passport ? { passport: randomPassport(), nationality: 'GB' } : { ssn: randomSsn() }),
    ...(opts.useSelfieVerification ? { evaluationParams: { useSelfieVerification: opts.useSelfieVerification } } : {}),
  };
}

export function individualApplication(
  opts: Parameters<typeof person>[0] & { extra?: Record<string, unknown> } = {},
): CreateIndividualApplicationRequest {
  return { type: 'individualApplication', attributes: { ...person(opts), ...(opts.extra ?? {}) } } as CreateIndividualApplicationRequest;
}

export function businessApplication(
  owners: Array<Parameters<typeof person>[0]>,
  officer: Parameters<typeof person>[0] = {},
): CreateBusinessApplicationRequest {
  return {
    type: 'businessApplication',
    attributes: {
      name: `Pied Piper ${randomUUID().slice(0, 6)}`,
      address: { ...address },
      phone: { ...phone },
      stateOfIncorporation: 'DE',
      ein: '123456789',
      entityType: 'Corporation',
      contact: { fullName: { first: 'Richard', last: 'Hendricks' }, email: 'richard@piedpiper.example', phone: { ...phone } },
      officer: { ...person({ first: 'Richard', last: 'Hendricks', ...officer }), title: 'CEO' },
      beneficialOwners: owners.map((o) => ({ ...person(o), percentage: 40 })),
    },
  } as unknown as CreateBusinessApplicationRequest;
}

export interface JobOptions {
  status?: 'pending' | 'completed' | 'failed';
  documentType?: 'passport' | 'drivers-license' | 'identification' | 'residence' | 'unknown';
  decision?: 'accept' | 'review' | 'reject' | 'resubmit';
  reasonCodes?: string[];
  scores?: Partial<{ faceMatch: number; selfie: number; id: number; liveness: number }>;
  /** The person on the job's document (default: the fixtures' default applicant, Peter Parker). */
  fullName?: string;
  dateOfBirth?: string;
}

/** A verification job row as the verification engine leaves it (tests only). */
export async function insertVerificationJob(engine: Pick<TestEngine, 'db'>, orgId: string, o: JobOptions = {}): Promise<string> {
  const id = `vj_${randomUUID().replace(/-/g, '')}`;
  const status = o.status ?? 'completed';
  const decision = o.decision ?? 'accept';
  const result =
    status !== 'completed'
      ? null
      : {
          documentType: o.documentType ?? 'drivers-license',
          country: 'USA',
          scores: { faceMatch: 0.95, selfie: 0.9, id: 0.9, liveness: 0.9, ...o.scores },
          checks: [
            {
              name: 'face_match',
              status: decision === 'reject' ? 'failed' : 'passed',
              code: decision === 'reject' ? (o.reasonCodes?.[0] ?? null) : null,
              reason: null,
            },
          ],
          decision: { value: decision, reasonCodes: o.reasonCodes ?? [] },
          fields: {
            fullName: o.fullName ?? 'PETER PARKER',
            dateOfBirth: o.dateOfBirth ?? '1990-01-15',
            expirationDate: '2030-01-01',
            documentNumber: 'D1234567',
            country: 'USA',
          },
        };
  await engine.db
    .insertInto('verification_jobs')
    .values({
      id,
      org_id: orgId,
      status,
      expected_person: null,
      result: result ? JSON.stringify(result) : null,
      failure: status === 'failed' ? JSON.stringify({ code: 'internal_error', message: 'test' }) : null,
      selfie_hash: null,
      images_deleted_at: null,
      completed_at: status === 'pending' ? null : new Date(),
    })
    .execute();
  return id;
}

/** Tiny files that are whole (uploads must decode as what they claim): a 16x16 JPEG, a 4x4 PNG, a one-page PDF. */
export const files = {
  jpeg: Buffer.from(
    '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAAQABADASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAQL/xAAkEAACAQMDBAMBAAAAAAAAAAABAgMEERIAITETIkFhUWORwf/EABQBAQAAAAAAAAAAAAAAAAAAAAD/xAAVEQEBAAAAAAAAAAAAAAAAAAAAcf/aAAwDAQACEQMRAD8AmIJC2FKkQKyCwpIOq2J4BZuw+LkefzTU2LsKgR5xSZY1cxkYBviJd1JuDtcAetVKrsoWfqBZ0IAq51gQkfWuzAbE8f3TT5OqilDsHQrhSU2AB9s/cCb8ji2hH//Z',
    'base64',
  ),
  png: Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAPElEQVQI12PILChr6ajr7mopzatg6OhqbCmrrqtqr2jpYGisrG6p7qhvq6utL2bo6ZhUXlNe0Vw6qasfAGhKF/K89NEjAAAAAElFTkSuQmCC',
    'base64',
  ),
  pdf: Buffer.from(
    '%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n' +
      '3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>\nendobj\ntrailer\n<< /Root 1 0 R /Size 4 >>\n%%EOF\n',
  ),
};

/** Polls GET /applications/:id until its status is `status` (or fails with the last one seen). */
export async function waitForStatus(
  engine: Pick<TestEngine, 'api'>,
  applicationId: string,
  status: string,
  timeoutMs = 20_000,
): Promise<any> {
  const until = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < until) {
    last = await engine.api('GET', `/applications/${applicationId}`);
    if (last.body?.data?.attributes?.status === status) return last.body;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`application ${applicationId} did not reach ${status}; last seen ${last?.body?.data?.attributes?.status}`);
}

export async function countApplications(engine: Pick<TestEngine, 'db'>, orgId: string): Promise<number> {
  const r = await engine.db
    .selectFrom('applications')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('org_id', '=', orgId)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Event types recorded for an application, oldest first. */
export async function eventTypes(engine: Pick<TestEngine, 'db'>, orgId: string, applicationId: string): Promise<string[]> {
  const rows = await engine.db.selectFrom('events').select(['type', 'relationships']).where('org_id', '=', orgId).orderBy('id').execute();
  return rows.filter((r) => (r.relationships as any)?.application?.data?.id === applicationId).map((r) => r.type);
}

/** Submits an applicant (by default with a passport) and uploads the photo: the application then waits in PendingReview. */
export async function applicationInReview(
  engine: Pick<TestEngine, 'unit' | 'api'>,
  request: CreateIndividualApplicationRequest = individualApplication({ passport: true }),
): Promise<{ id: string; documentId: string }> {
  const created = await engine.unit.applications.create(request);
  const doc = (created.included as any[])[0];
  await engine.unit.applications.upload({ applicationId: created.data.id, documentId: doc.id, file: files.jpeg, fileType: 'jpeg' });
  await waitForStatus(engine, created.data.id, 'PendingReview');
  return { id: created.data.id, documentId: doc.id as string };
}

/** A review through the API with the engine's reviewer key (the key is who decided). */
export const reviewAsReviewer = (
  engine: Pick<TestEngine, 'api' | 'reviewer'>,
  id: string,
  decision: string,
  reason = 'checked the documents',
) =>
  engine.api(
    'POST',
    `/applications/${id}/review`,
    { data: { type: 'applicationReview', attributes: { decision, reason } } },
    { authorization: `Bearer ${engine.reviewer.token}` },
  );
