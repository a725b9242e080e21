// Activities of the application and person workflows: every database read and write they need.
// Inputs and outputs are ids, statuses and reason codes; personal data stays in the database.
import { sql, type Selectable, type Transaction } from 'kysely';
import type { ApplicationsTable, Database } from '../../migrations/database';
import { aggregateStatus, derivePersonStatus } from './rules/status';
import { STATUS_EVENT, EVENT, type ApplicationType } from './messages';
import { hasEnabledWebhooks, recordEventForDelivery, recordEventIn } from '../webhooks/events';
import { DEFAULT_EVALUATION_RULES, evaluateApplicationRules, type EvaluationRules } from './rules/evaluation';
import { documentDescription, personLabel, requiredDocumentTypes, type EvaluationParams } from './rules/requiredDocuments';
import { DEFAULT_SELFIE_THRESHOLDS, evaluateSelfie, type SelfieThresholds, type VerificationJobResult } from './rules/selfieEvaluation';
import type {
  ApplicationStatus, DocumentStatus, PersonRole, PersonStatus, RequiredDocument, VerifyDocumentOutcome, VerifyDocumentRequest,
} from './messages';
import type { ActivityDeps } from '../platform/deps';

export interface EvaluatedPerson { personId: string; role: PersonRole; position: number; documents: RequiredDocument[] }
export interface EvaluateApplicationResult {
  outcome: 'Continue' | 'Denied' | 'PendingReview';
  reasonCode: string | null;
  persons: EvaluatedPerson[];
}

export interface SetApplicationStatusInput {
  applicationId: string;
  orgId: string;
  status: ApplicationStatus;
  reasonCode?: string | null;
  /** Free text (reviewer's or partner's reason). Undefined keeps the stored reason. */
  reason?: string | null;
  /** The person whose denial denies the application: the reason names them. */
  deniedPersonId?: string | null;
  decidedBy?: string | null;
}

/** An event a protocol-2 workflow asks to record in the same transaction as the change it announces. */
export interface EventSpec { type: string; attributes: Record<string, unknown>; relationships: Record<string, unknown>; dedupeKey: string }

export interface OpenApplicationInput {
  applicationId: string;
  orgId: string;
  applicationType: ApplicationType;
  /** Event dedupe keys are `<prefix>:1:application.created` and `<prefix>:2:<status event>`. */
  dedupePrefix: string;
}
export interface OpenedPerson extends EvaluatedPerson { status: PersonStatus }
export interface OpenApplicationResult {
  status: ApplicationStatus;
  reasonCode: string | null;
  persons: OpenedPerson[];
  /** application.created and the event of the evaluated status, to deliver. */
  eventIds: string[];
  /** Whether any webhook would receive them (no delivery to schedule otherwise). */
  hasWebhooks: boolean;
}

export interface RecordTransitionInput extends SetApplicationStatusInput { event: EventSpec | null }
export interface RecordedChange { eventIds: string[]; hasWebhooks: boolean }

export interface VerifyPersonDocumentInput extends VerifyDocumentRequest {
  applicationId: string;
  orgId: string;
  personId: string;
  applicationType: ApplicationType;
  /** The document event's dedupe key is `<prefix>:<document event type>`. */
  dedupePrefix: string;
}
export type VerifyPersonDocumentOutcome =
  | (Extract<VerifyDocumentOutcome, { ok: true }> & { personStatus: PersonStatus; personReasonCode: string | null; eventIds: string[] })
  | Extract<VerifyDocumentOutcome, { ok: false }>;

/** A person's required documents, from the application's document rows. */
function documentsOf(docs: Array<{ id: string; person_id: string; document_type: string }>, personId: string): RequiredDocument[] {
  return docs.filter((d) => String(d.person_id) === personId).map((d) => ({ documentId: d.id, documentType: d.document_type as RequiredDocument['documentType'] }));
}

export interface ApplicationActivityOptions { rules?: Partial<EvaluationRules>; selfieThresholds?: SelfieThresholds; today?: () => string }

const OPEN_STATUSES: ApplicationStatus[] = ['Pending', 'AwaitingDocuments', 'PendingReview'];

export function createApplicationActivities(deps: Pick<ActivityDeps, 'db'> & Partial<ActivityDeps>, options: ApplicationActivityOptions = {}) {
  const { db } = deps;
  const rules = { ...DEFAULT_EVALUATION_RULES, ...options.rules };
  const thresholds = options.selfieThresholds ?? DEFAULT_SELFIE_THRESHOLDS;
  const today = options.today ?? (() => new Date().toISOString().slice(0, 10));


  /** `locked`: the application row, when the caller has already read it FOR UPDATE in this transaction. */
  async function evaluateIn(trx: Transaction<Database>, input: { applicationId: string; orgId: string }, locked?: Pick<Selectable<ApplicationsTable>, 'attributes' | 'type'>): Promise<EvaluateApplicationResult> {
    const app = locked ?? await trx.selectFrom('applications').select(['attributes', 'type'])
      .where('id', '=', input.applicationId).where('org_id', '=', input.orgId).forUpdate().executeTakeFirstOrThrow();
    const persons = await trx.selectFrom('application_persons').selectAll()
      .where('application_id', '=', input.applicationId).where('org_id', '=', input.orgId).orderBy('id').execute();
    const dups = await trx.selectFrom('application_persons as p').innerJoin('applications as a', 'a.id', 'p.application_id')
      .select('p.identity_key').where('p.org_id', '=', input.orgId).where('a.org_id', '=', input.orgId)
      .where('p.application_id', '<>', input.applicationId).where('a.status', 'in', OPEN_STATUSES)
      .where('p.identity_key', 'in', persons.map((p) => p.identity_key)).execute();
    const dupKeys = new Set(dups.map((d) => d.identity_key));
    const attrs = app.attributes as { idTheftScore?: number };
    const result = evaluateApplicationRules({
      idTheftScore: app.type === 'individualApplication' ? attrs.idTheftScore : null,
      persons: persons.map((p) => ({ personId: p.id, label: personLabel(p.role, p.position, p.full_name), dateOfBirth: p.date_of_birth, hasDuplicateIdentity: dupKeys.has(p.identity_key) })),
    }, today(), rules);

    if (result.outcome !== 'Continue') {
      await trx.updateTable('applications').set({ decision_reason: result.reason, decision_reason_code: result.reasonCode, updated_at: sql`now()` })
        .where('id', '=', input.applicationId).where('org_id', '=', input.orgId).execute();
      if (result.personId && result.outcome === 'Denied') {
        await trx.updateTable('application_persons').set({ status: 'Denied', reason: result.reason, reason_code: result.reasonCode })
          .where('id', '=', result.personId).where('org_id', '=', input.orgId).execute();
      }
      return { outcome: result.outcome, reasonCode: result.reasonCode, persons: persons.map((p) => ({ personId: p.id, role: p.role, position: p.position, documents: [] })) };
    }

    let docs = await trx.selectFrom('application_documents').select(['id', 'person_id', 'document_type'])
      .where('application_id', '=', input.applicationId).where('org_id', '=', input.orgId).orderBy('id').execute();
    if (docs.length === 0) {
      const rows = persons.flatMap((p) => requiredDocumentTypes(p.evaluation_params as EvaluationParams, p.us_person).map((t) => ({
        application_id: input.applicationId, org_id: input.orgId, person_id: p.id, document_type: t, status: 'Required',
        description: documentDescription(t, p.role), name: p.full_name, reason: null, reason_code: null,
        front_content_type: null, front_file: null, back_content_type: null, back_file: null, verification_job_id: null,
      })));
      if (rows.length) docs = await trx.insertInto('application_documents').values(rows).returning(['id', 'person_id', 'document_type']).execute();
    }
    return {
      outcome: 'Continue',
      reasonCode: null,
      persons: persons.map((p) => ({
        personId: p.id, role: p.role, position: p.position,
        documents: documentsOf(docs, p.id),
      })),
    };
  }

  async function setStatusIn(trx: Transaction<Database>, input: SetApplicationStatusInput, workflowProtocol?: 2): Promise<void> {
    let reason = input.reason;
    if (input.deniedPersonId) {
      const p = await trx.selectFrom('application_persons').select(['role', 'position', 'full_name', 'reason_code'])
        .where('id', '=', input.deniedPersonId).where('org_id', '=', input.orgId).executeTakeFirst();
      if (p) reason = `${personLabel(p.role, p.position, p.full_name)}: ${input.reasonCode ?? p.reason_code ?? 'denied'}`;
    }
    await trx.updateTable('applications').set({
      status: input.status,
      updated_at: sql`now()`,
      ...(reason !== undefined ? { decision_reason: reason } : {}),
      ...(input.reasonCode !== undefined ? { decision_reason_code: input.reasonCode } : {}),
      ...(input.decidedBy !== undefined ? { decided_by: input.decidedBy } : {}),
      ...(workflowProtocol ? { workflow_protocol: workflowProtocol } : {}),
    }).where('id', '=', input.applicationId).where('org_id', '=', input.orgId).execute();
    if (input.status === 'Approved') {
      // A reviewer's approval approves every person and every document awaiting review.
      await trx.updateTable('application_persons').set({ status: 'Approved' })
        .where('application_id', '=', input.applicationId).where('org_id', '=', input.orgId).where('status', '<>', 'Denied').execute();
      await trx.updateTable('application_documents').set({ status: 'Approved', updated_at: sql`now()` })
        .where('application_id', '=', input.applicationId).where('org_id', '=', input.orgId).where('status', '=', 'PendingReview').execute();
    }
  }

  async function verifyIn(trx: Transaction<Database>, input: VerifyDocumentRequest & { applicationId: string; orgId: string; personId?: string }): Promise<VerifyDocumentOutcome> {
    const doc = await trx.selectFrom('application_documents as d').innerJoin('application_persons as p', 'p.id', 'd.person_id')
      .select(['d.id', 'd.document_type', 'd.status', 'd.verification_job_id', 'p.us_person', 'p.full_name', 'p.date_of_birth'])
      .where('d.id', '=', input.documentId).where('d.application_id', '=', input.applicationId).where('d.org_id', '=', input.orgId)
      .forUpdate().executeTakeFirst();
    if (!doc) return { ok: false, error: 'document_not_found' };
    const retry = doc.verification_job_id === input.jobId;
    if (doc.document_type !== 'SelfieVerification' || (!retry && !['Required', 'Invalid'].includes(doc.status))) return { ok: false, error: 'document_not_verifiable' };

    const claimed = await trx.updateTable('verification_jobs').set({ used_by_document_id: input.documentId })
      .where('id', '=', input.jobId).where('org_id', '=', input.orgId).where('status', '=', 'completed')
      .where((eb) => eb.or([eb('used_by_document_id', 'is', null), eb('used_by_document_id', '=', input.documentId)]))
      .returning(['result', 'used_by_document_id']).executeTakeFirst();
    if (!claimed) {
      const job = await trx.selectFrom('verification_jobs').select(['status', 'used_by_document_id']).where('id', '=', input.jobId).where('org_id', '=', input.orgId).executeTakeFirst();
      if (!job) return { ok: false, error: 'job_not_found' };
      if (job.status === 'pending') return { ok: false, error: 'job_not_completed' };
      if (job.status === 'failed') return { ok: false, error: 'job_failed' };
      return { ok: false, error: 'job_already_used' };
    }
    const e = evaluateSelfie(claimed.result as unknown as VerificationJobResult, { usPerson: doc.us_person, fullName: doc.full_name, dateOfBirth: doc.date_of_birth }, thresholds);
    await trx.updateTable('application_documents').set({
      status: e.documentStatus, reason: e.reason, reason_code: e.reasonCode, verification_job_id: input.jobId, updated_at: sql`now()`,
    }).where('id', '=', input.documentId).where('org_id', '=', input.orgId).execute();
    return { ok: true, documentStatus: e.documentStatus as DocumentStatus, reasonCode: e.reasonCode, personOutcome: e.verdict };
  }


  /** What openApplication recorded the first time (it is run again after a crash or a lost result). */
  async function reopened(trx: Transaction<Database>, input: OpenApplicationInput, app: { status: ApplicationStatus; decision_reason_code: string | null }): Promise<OpenApplicationResult> {
    const persons = await trx.selectFrom('application_persons').select(['id', 'role', 'position', 'status'])
      .where('application_id', '=', input.applicationId).where('org_id', '=', input.orgId).orderBy('id').execute();
    const docs = await trx.selectFrom('application_documents').select(['id', 'person_id', 'document_type'])
      .where('application_id', '=', input.applicationId).where('org_id', '=', input.orgId).orderBy('id').execute();
    const keys = [`${input.orgId}:${input.dedupePrefix}:1:${EVENT.created}`];
    const type = STATUS_EVENT[app.status];
    if (type) keys.push(`${input.orgId}:${input.dedupePrefix}:2:${type}`);
    const events = await trx.selectFrom('events').select('id').where('org_id', '=', input.orgId).where('dedupe_key', 'in', keys).orderBy('id').execute();
    return {
      status: app.status,
      reasonCode: app.decision_reason_code,
      persons: persons.map((p) => ({
        personId: p.id, role: p.role, position: p.position, status: p.status as PersonStatus,
        documents: documentsOf(docs, p.id),
      })),
      eventIds: events.map((e) => String(e.id)),
      hasWebhooks: await hasEnabledWebhooks(trx, input.orgId),
    };
  }

  return {
    /**
     * The initial evaluation: rules (age, ID-theft score, duplicate identity) and, when the
     * application continues, the documents each person must provide. Idempotent: a retry
     * returns the documents created by the first attempt.
     */
    async evaluateApplication(input: { applicationId: string; orgId: string }): Promise<EvaluateApplicationResult> {
      return db.transaction().execute((trx) => evaluateIn(trx, input));
    },

    /** Records an application status (and what it implies for its persons and documents). */
    async setApplicationStatus(input: SetApplicationStatusInput): Promise<void> {
      await db.transaction().execute((trx) => setStatusIn(trx, input));
    },

    async setPersonStatus(input: { personId: string; orgId: string; status: PersonStatus; reasonCode?: string | null }): Promise<void> {
      await db.updateTable('application_persons').set({ status: input.status, ...(input.reasonCode !== undefined ? { reason_code: input.reasonCode } : {}) })
        .where('id', '=', input.personId).where('org_id', '=', input.orgId).execute();
    },

    /**
     * Evaluates a completed verification job for a SelfieVerification document: claims the job
     * (a job verifies one document, once), applies thresholds and the supported-document rule,
     * and records the document's new status. Retry-safe: a job already claimed by this very
     * document is evaluated again to the same outcome.
     */
    async verifySelfieDocument(input: VerifyDocumentRequest & { applicationId: string; orgId: string }): Promise<VerifyDocumentOutcome> {
      return db.transaction().execute((trx) => verifyIn(trx, input));
    },

    // --- protocol 2: one local activity per change, the change and its event in one transaction ---

    /**
     * Opens an application: records application.created and runs the initial evaluation. A
     * decision there (Denied, PendingReview) is recorded with its event at once; otherwise the
     * persons who must provide documents are marked AwaitingDocuments and the application stays
     * Pending until the workflow has started their person workflows (see recordTransition), so
     * nobody can send a document to a person workflow that does not exist yet.
     * Idempotent: run again after it committed, it returns what it recorded.
     */
    async openApplication(input: OpenApplicationInput): Promise<OpenApplicationResult> {
      return db.transaction().execute(async (trx) => {
        const relationships = { application: { data: { type: input.applicationType, id: input.applicationId } } };
        const app = await trx.selectFrom('applications').select(['status', 'decision_reason_code', 'workflow_protocol', 'attributes', 'type'])
          .where('id', '=', input.applicationId).where('org_id', '=', input.orgId).forUpdate().executeTakeFirstOrThrow();
        if (app.workflow_protocol === 2) return reopened(trx, input, app);

        const created = await recordEventForDelivery(trx, { orgId: input.orgId, type: EVENT.created, attributes: { status: 'Pending' }, relationships, dedupeKey: `${input.dedupePrefix}:1:${EVENT.created}` });
        const createdId = created.eventId;
        const e = await evaluateIn(trx, input, app);
        const eventIds = [createdId];
        if (e.outcome !== 'Continue') {
          await setStatusIn(trx, { applicationId: input.applicationId, orgId: input.orgId, status: e.outcome, reasonCode: e.reasonCode }, 2);
          eventIds.push(await recordEventIn(trx, {
            orgId: input.orgId, type: STATUS_EVENT[e.outcome]!, relationships, dedupeKey: `${input.dedupePrefix}:2:${STATUS_EVENT[e.outcome]}`,
            attributes: { status: e.outcome, previousStatus: 'Pending', reasonCode: e.reasonCode },
          }));
          const persons = e.persons.map((p): OpenedPerson => ({ ...p, status: 'Pending' }));
          return { status: e.outcome, reasonCode: e.reasonCode, persons, eventIds, hasWebhooks: created.hasWebhooks };
        }
        const persons = e.persons.map((p): OpenedPerson => ({ ...p, status: p.documents.length ? 'AwaitingDocuments' : 'Approved' }));
        const awaiting = persons.filter((p) => p.status === 'AwaitingDocuments').map((p) => p.personId);
        if (awaiting.length) {
          await trx.updateTable('application_persons').set({ status: 'AwaitingDocuments' })
            .where('id', 'in', awaiting).where('org_id', '=', input.orgId).execute();
        }
        await trx.updateTable('applications').set({ workflow_protocol: 2, updated_at: sql`now()` })
          .where('id', '=', input.applicationId).where('org_id', '=', input.orgId).execute();
        return { status: 'Pending', reasonCode: null, persons, eventIds, hasWebhooks: created.hasWebhooks };
      });
    },

    /** Records an application status and the event that announces it, together. */
    async recordTransition(input: RecordTransitionInput): Promise<RecordedChange> {
      return db.transaction().execute(async (trx) => {
        const { event, ...change } = input;
        await setStatusIn(trx, change);
        if (!event) return { eventIds: [], hasWebhooks: await hasEnabledWebhooks(trx, input.orgId) };
        const recorded = await recordEventForDelivery(trx, { orgId: input.orgId, ...event });
        return { eventIds: [recorded.eventId], hasWebhooks: recorded.hasWebhooks };
      });
    },

    /**
     * Verifies one of the person's SelfieVerification documents with a completed job (see
     * verifySelfieDocument), then records the person's status that follows from all of their
     * documents and the document's event, in the same transaction. Refused once the
     * application no longer awaits documents (canceled or decided meanwhile).
     */
    async verifyPersonDocument(input: VerifyPersonDocumentInput): Promise<VerifyPersonDocumentOutcome> {
      return db.transaction().execute(async (trx) => {
        const app = await trx.selectFrom('applications').select('status').where('id', '=', input.applicationId).where('org_id', '=', input.orgId).forShare().executeTakeFirst();
        if (!app) return { ok: false, error: 'document_not_found' };
        // Run again after it committed (a lost result), it must find what it did even if the
        // application closed meanwhile: the same job on the same document is a retry.
        const retry = await trx.selectFrom('application_documents').select('id')
          .where('id', '=', input.documentId).where('org_id', '=', input.orgId).where('verification_job_id', '=', input.jobId).executeTakeFirst();
        if (!retry && app.status !== 'AwaitingDocuments') return { ok: false, error: 'application_not_awaiting_documents' };
        const out = await verifyIn(trx, input);
        if (!out.ok) return out;
        const docs = await trx.selectFrom('application_documents').select('status')
          .where('person_id', '=', input.personId).where('org_id', '=', input.orgId).execute();
        const denied = out.personOutcome === 'Denied';
        const personStatus = derivePersonStatus(docs.map((d) => d.status as DocumentStatus), denied);
        const personReasonCode = denied ? out.reasonCode ?? 'Denied' : null;
        await trx.updateTable('application_persons').set({ status: personStatus, ...(denied ? { reason_code: personReasonCode } : {}) })
          .where('id', '=', input.personId).where('org_id', '=', input.orgId).execute();
        const type = out.documentStatus === 'Approved' ? EVENT.documentApproved : out.documentStatus === 'Invalid' ? EVENT.documentRejected : null;
        const eventIds = type ? [await recordEventIn(trx, {
          orgId: input.orgId, type, dedupeKey: `${input.dedupePrefix}:${type}`,
          attributes: { documentId: input.documentId, reasonCode: out.reasonCode ?? null },
          relationships: { application: { data: { type: input.applicationType, id: input.applicationId } }, document: { data: { type: 'document', id: input.documentId } } },
        })] : [];
        return { ...out, personStatus, personReasonCode, eventIds };
      });
    },
  };
}