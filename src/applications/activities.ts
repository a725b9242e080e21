// Activities of the application and person workflows: each one change, in one transaction, of
// the rows the repository owns, with the event that announces it. Inputs and outputs are ids,
// statuses and reason codes; personal data stays in the database. Every activity is safe to run
// again after it committed (a lost result, a worker crash): it finds what it did.
import type { Kysely } from 'kysely';
import type { Database } from '../../migrations/database';
import type { ActivityDeps } from '../platform/deps';
import {
  recordEventForDelivery,
  recordEventIn,
  hasEnabledWebhooks,
  eventIdsByDedupeKeys,
  type RecordEventInput,
} from '../webhooks/repository';
import { claimJobForDocument, lockJobForUse } from '../verification/job/repository';
import {
  EVENT,
  STATUS_EVENT,
  type ApplicationStatus,
  type ApplicationType,
  type DocumentStatus,
  type PersonRole,
  type PersonStatus,
} from './domain';
import type { RequiredDocument, VerifyDocumentOutcome, VerifyDocumentRequest } from './messages';
import * as repository from './repository';
import type { DocumentRef } from './repository';
import { DEFAULT_EVALUATION_RULES, evaluateApplicationRules, type EvaluationRules } from './rules/evaluation';
import { documentDescription, personLabel, requiredDocumentTypes, type EvaluationParams } from './rules/requiredDocuments';
import { DEFAULT_SELFIE_THRESHOLDS, evaluateSelfie, type SelfieThresholds, type VerificationJobResult } from './rules/selfieEvaluation';
import { APPROVAL_SETTLES, derivePersonStatus } from './rules/status';
import { canVerify, jobFacts } from './rules/verification';
import { sameTransitionEventKey } from './rules/applicationStateMachine';

export interface OpenedPerson {
  personId: string;
  role: PersonRole;
  position: number;
  status: PersonStatus;
  documents: RequiredDocument[];
}

export interface OpenApplicationInput {
  applicationId: string;
  orgId: string;
  applicationType: ApplicationType;
  /** The dedupe keys of the events opening records (rules/applicationStateMachine.ts makes them). */
  eventKeys: { created: string; decided: Record<'Denied' | 'PendingReview', string> };
}
export interface OpenApplicationResult {
  status: ApplicationStatus;
  reasonCode: string | null;
  persons: OpenedPerson[];
  /** application.created and the event of the evaluated status, to deliver. */
  eventIds: string[];
  /** Whether any webhook would receive them (no delivery to schedule otherwise). */
  hasWebhooks: boolean;
}

/** An event to record in the same transaction as the change it announces. */
export type EventSpec = Omit<RecordEventInput, 'orgId'>;

export interface RecordTransitionInput {
  applicationId: string;
  orgId: string;
  /** The status the workflow last recorded: the change is made only from there (see recordTransition). */
  from: ApplicationStatus;
  status: ApplicationStatus;
  reasonCode?: string | null;
  /** Free text (reviewer's or partner's reason). Undefined keeps the stored reason. */
  reason?: string | null;
  /** The person whose denial denies the application: the reason names them. */
  deniedPersonId?: string | null;
  decidedBy?: string | null;
  event: EventSpec | null;
}
export interface RecordedChange {
  eventIds: string[];
  hasWebhooks: boolean;
  /** Set when the database already holds another change from `from`: the status it holds, and who decided it. */
  recordedStatus?: ApplicationStatus;
  recordedDecidedBy?: string | null;
}

export interface VerifyPersonDocumentInput extends VerifyDocumentRequest {
  applicationId: string;
  orgId: string;
  personId: string;
  applicationType: ApplicationType;
  /** The dedupe key of each document event this verification may record. */
  eventKeys: Record<typeof EVENT.documentApproved | typeof EVENT.documentRejected, string>;
}
export type VerifyPersonDocumentOutcome =
  | (Extract<VerifyDocumentOutcome, { ok: true }> & { personStatus: PersonStatus; personReasonCode: string | null; eventIds: string[] })
  | Extract<VerifyDocumentOutcome, { ok: false }>;

export interface ApplicationActivityOptions {
  rules?: Partial<EvaluationRules>;
  selfieThresholds?: SelfieThresholds;
  today?: () => string;
}

const documentsOf = (docs: DocumentRef[], personId: string): RequiredDocument[] =>
  docs.filter((d) => String(d.person_id) === personId).map((d) => ({ documentId: d.id, documentType: d.document_type }));

export function createApplicationActivities(
  deps: Pick<ActivityDeps, 'db' | 'config'> & Partial<ActivityDeps>,
  options: ApplicationActivityOptions = {},
) {
  const { db } = deps;
  // Opens the persons' dates of birth and the job results the rules read.
  const ring = deps.config.keyRing;
  const rules = { ...DEFAULT_EVALUATION_RULES, ...options.rules };
  const thresholds = options.selfieThresholds ?? DEFAULT_SELFIE_THRESHOLDS;
  const today = options.today ?? (() => new Date().toISOString().slice(0, 10));

  /** The initial evaluation's rules over what the database knows; a decision is recorded, else the required documents are created. */
  async function evaluate(trx: Kysely<Database>, input: OpenApplicationInput, app: repository.LockedApplication) {
    const { orgId, applicationId } = input;
    const persons = await repository.personsOfApplication(trx, ring, orgId, applicationId);
    const duplicates = await repository.identityKeysOnOtherApplications(
      trx,
      orgId,
      applicationId,
      persons.map((p) => p.identity_key),
      rules.duplicateIdentityStatuses ?? DEFAULT_EVALUATION_RULES.duplicateIdentityStatuses!,
    );
    const attrs = app.attributes as { idTheftScore?: number };
    const result = evaluateApplicationRules(
      {
        idTheftScore: app.type === 'individualApplication' ? attrs.idTheftScore : null,
        persons: persons.map((p) => ({
          personId: p.id,
          label: personLabel(p.role, p.position, p.full_name),
          dateOfBirth: p.date_of_birth,
          hasDuplicateIdentity: duplicates.has(p.identity_key),
        })),
      },
      today(),
      rules,
    );
    if (result.outcome !== 'Continue') {
      await repository.updateApplication(trx, orgId, applicationId, {
        status: result.outcome,
        reason: result.reason,
        reasonCode: result.reasonCode,
      });
      if (result.personId && result.outcome === 'Denied')
        await repository.updatePerson(trx, orgId, result.personId, {
          status: 'Denied',
          reason: result.reason,
          reasonCode: result.reasonCode,
        });
      return { ...result, persons, documents: [] as DocumentRef[] };
    }
    let documents = await repository.documentRefsOfApplication(trx, orgId, applicationId);
    if (documents.length === 0) {
      documents = await repository.insertRequiredDocuments(
        trx,
        orgId,
        applicationId,
        persons.flatMap((p) =>
          requiredDocumentTypes(p.evaluation_params as EvaluationParams, p.us_person).map((t) => ({
            person_id: p.id,
            document_type: t,
            description: documentDescription(t, p.role),
            name: p.full_name,
          })),
        ),
      );
    }
    return { ...result, persons, documents };
  }

  /** What openApplication recorded the first time (it is run again after a crash or a lost result). */
  async function reopened(
    trx: Kysely<Database>,
    input: OpenApplicationInput,
    app: repository.LockedApplication,
  ): Promise<OpenApplicationResult> {
    const { orgId, applicationId } = input;
    const [persons, documents] = [
      await repository.personsOfApplication(trx, ring, orgId, applicationId),
      await repository.documentRefsOfApplication(trx, orgId, applicationId),
    ];
    const decided = app.status === 'Denied' || app.status === 'PendingReview' ? [input.eventKeys.decided[app.status]] : [];
    return {
      status: app.status,
      reasonCode: app.decision_reason_code,
      persons: persons.map((p) => ({
        personId: p.id,
        role: p.role,
        position: p.position,
        status: p.status,
        documents: documentsOf(documents, p.id),
      })),
      eventIds: await eventIdsByDedupeKeys(trx, orgId, [input.eventKeys.created, ...decided]),
      hasWebhooks: await hasEnabledWebhooks(trx, orgId),
    };
  }

  /** Evaluates a completed job for a SelfieVerification document and records the document's new status. */
  async function verify(trx: Kysely<Database>, input: VerifyPersonDocumentInput): Promise<VerifyDocumentOutcome> {
    const { orgId, documentId, jobId } = input;
    // The application first, then the document: the order recordTransition locks them in.
    const applicationStatus = await repository.shareApplicationStatus(trx, orgId, input.applicationId);
    const doc = await repository.lockDocumentForVerification(trx, ring, orgId, input.applicationId, documentId);
    // The same job on the same document: this activity's own earlier run. Evaluate it again.
    const ranBefore = doc?.verification_job_id === jobId;
    const facts = {
      documentId,
      jobId,
      applicationStatus,
      document: doc ? { documentType: doc.document_type, status: doc.status } : null,
    };
    /** The rule's answer with the job's facts too (read only when something is wrong: one statement less when all is well). */
    const refusalWithJob = async (): Promise<VerifyDocumentOutcome> => {
      const allowed = canVerify({ ...facts, job: jobFacts(await lockJobForUse(trx, orgId, jobId)) });
      return allowed.ok
        ? {
            ok: false,
            error: 'job_already_used',
            message: `verification job ${jobId} was already used to verify a document; start a new job`,
          }
        : { ok: false, error: allowed.refusal, message: allowed.message };
    };
    if (!ranBefore && !canVerify(facts).ok) return refusalWithJob();
    // The claim is the job's check: completed, and not used by another document (the row stays locked).
    const result = await claimJobForDocument(trx, ring, orgId, jobId, documentId);
    if (!doc || !result) return refusalWithJob();
    const e = evaluateSelfie(
      result as unknown as VerificationJobResult,
      { usPerson: doc.us_person, fullName: doc.full_name, dateOfBirth: doc.date_of_birth },
      thresholds,
    );
    await repository.recordDocumentVerification(trx, orgId, documentId, {
      status: e.documentStatus,
      reason: e.reason,
      reasonCode: e.reasonCode,
      jobId,
    });
    return { ok: true, documentStatus: e.documentStatus as DocumentStatus, reasonCode: e.reasonCode, personOutcome: e.verdict };
  }

  return {
    /**
     * Opens an application: records application.created and runs the initial evaluation. A
     * decision there (Denied, PendingReview) is recorded with its event at once; otherwise the
     * persons who must provide documents are marked AwaitingDocuments and the application stays
     * Pending until the workflow has started their person workflows (see recordTransition), so
     * nobody can send a document to a person workflow that does not exist yet.
     */
    async openApplication(input: OpenApplicationInput): Promise<OpenApplicationResult> {
      return db.transaction().execute(async (trx) => {
        const { orgId, applicationId } = input;
        const relationships = { application: { data: { type: input.applicationType, id: applicationId } } };
        const app = await repository.lockApplication(trx, orgId, applicationId);
        const created = await recordEventForDelivery(trx, {
          orgId,
          type: EVENT.created,
          attributes: { status: 'Pending' },
          relationships,
          dedupeKey: input.eventKeys.created,
        });
        // application.created was recorded in the same transaction as the rest: there already, this ran before.
        if (!created.created) return reopened(trx, input, app);
        const e = await evaluate(trx, input, app);
        if (e.outcome !== 'Continue') {
          const decidedEvent = await recordEventIn(trx, {
            orgId,
            type: STATUS_EVENT[e.outcome]!,
            relationships,
            dedupeKey: input.eventKeys.decided[e.outcome],
            attributes: { status: e.outcome, previousStatus: 'Pending', reasonCode: e.reasonCode },
          });
          const persons = e.persons.map((p): OpenedPerson => ({
            personId: p.id,
            role: p.role,
            position: p.position,
            status: 'Pending',
            documents: [],
          }));
          return {
            status: e.outcome,
            reasonCode: e.reasonCode,
            persons,
            eventIds: [created.eventId, decidedEvent],
            hasWebhooks: created.hasWebhooks,
          };
        }
        const persons = e.persons.map((p): OpenedPerson => {
          const documents = documentsOf(e.documents, p.id);
          return {
            personId: p.id,
            role: p.role,
            position: p.position,
            status: documents.length ? 'AwaitingDocuments' : 'Approved',
            documents,
          };
        });
        await repository.markPersonsAwaitingDocuments(
          trx,
          orgId,
          persons.filter((p) => p.status === 'AwaitingDocuments').map((p) => p.personId),
        );
        return { status: 'Pending', reasonCode: null, persons, eventIds: [created.eventId], hasWebhooks: created.hasWebhooks };
      });
    },

    /** Records an application status (and what it implies for its persons and documents) and the event that announces it, together. */
    async recordTransition(input: RecordTransitionInput): Promise<RecordedChange> {
      return db.transaction().execute(async (trx) => {
        const { orgId, applicationId, event } = input;
        let reason = input.reason;
        if (input.deniedPersonId) {
          const p = await repository.getPerson(trx, orgId, input.deniedPersonId);
          if (p) reason = `${personLabel(p.role, p.position, p.full_name)}: ${input.reasonCode ?? p.reason_code ?? 'denied'}`;
        }
        const change = { status: input.status, reason, reasonCode: input.reasonCode, decidedBy: input.decidedBy };
        const settle = async () => {
          if (input.status === 'Approved') await repository.settlePersonsAndDocuments(trx, orgId, applicationId, APPROVAL_SETTLES);
        };
        // The usual case, in two statements (the embedded database runs one transaction at a
        // time, so every statement inside one delays every other application): the status moves
        // only from the one the workflow last recorded, then its event.
        if (input.from !== input.status && (await repository.updateApplicationFromStatus(trx, orgId, applicationId, input.from, change))) {
          await settle();
          if (!event) return { eventIds: [], hasWebhooks: await hasEnabledWebhooks(trx, orgId) };
          const recorded = await recordEventForDelivery(trx, { orgId, ...event });
          return { eventIds: [recorded.eventId], hasWebhooks: recorded.hasWebhooks };
        }
        // Otherwise the database holds another status than the workflow last recorded. A local
        // activity also runs in a workflow task that then fails; the task is tried again and may,
        // with a request that arrived meanwhile, decide otherwise (a cancel instead of the review
        // it first saw). What was recorded first stands: the workflow adopts it.
        const app = await repository.lockApplication(trx, orgId, applicationId);
        if (app.status !== input.from && app.status !== input.status) {
          const type = STATUS_EVENT[app.status];
          const eventIds = type && event ? await eventIdsByDedupeKeys(trx, orgId, [sameTransitionEventKey(event.dedupeKey, type)]) : [];
          return {
            eventIds,
            hasWebhooks: await hasEnabledWebhooks(trx, orgId),
            recordedStatus: app.status,
            recordedDecidedBy: app.decided_by,
          };
        }
        // The event first: if this very transition's event is there, it was recorded (this activity
        // run again after it committed, or the same status for another cause at the same place).
        // The first stands, and nothing else is written.
        const recorded = event ? await recordEventForDelivery(trx, { orgId, ...event }) : null;
        if (recorded && !recorded.created) return { eventIds: [recorded.eventId], hasWebhooks: recorded.hasWebhooks };
        await repository.updateApplication(trx, orgId, applicationId, change);
        await settle();
        if (!recorded) return { eventIds: [], hasWebhooks: await hasEnabledWebhooks(trx, orgId) };
        return { eventIds: [recorded.eventId], hasWebhooks: recorded.hasWebhooks };
      });
    },

    async setPersonStatus(input: { personId: string; orgId: string; status: PersonStatus; reasonCode?: string | null }): Promise<void> {
      await repository.updatePerson(db, input.orgId, input.personId, { status: input.status, reasonCode: input.reasonCode });
    },

    /**
     * Verifies one of the person's SelfieVerification documents with a completed job (a job
     * verifies one document, once; thresholds and the supported-document rule decide), then
     * records the person's status that follows from all of their documents and the document's
     * event, in the same transaction.
     */
    async verifyPersonDocument(input: VerifyPersonDocumentInput): Promise<VerifyPersonDocumentOutcome> {
      return db.transaction().execute(async (trx) => {
        const out = await verify(trx, input);
        if (!out.ok) return out;
        const denied = out.personOutcome === 'Denied';
        const personStatus = derivePersonStatus(await repository.documentStatusesOfPerson(trx, input.orgId, input.personId), { denied });
        const personReasonCode = denied ? (out.reasonCode ?? 'Denied') : null;
        await repository.updatePerson(trx, input.orgId, input.personId, {
          status: personStatus,
          ...(denied ? { reasonCode: personReasonCode } : {}),
        });
        const type =
          out.documentStatus === 'Approved' ? EVENT.documentApproved : out.documentStatus === 'Invalid' ? EVENT.documentRejected : null;
        const eventIds = type
          ? [
              await recordEventIn(trx, {
                orgId: input.orgId,
                type,
                dedupeKey: input.eventKeys[type],
                attributes: { documentId: input.documentId, reasonCode: out.reasonCode ?? null },
                relationships: {
                  application: { data: { type: input.applicationType, id: input.applicationId } },
                  document: { data: { type: 'document', id: input.documentId } },
                },
              }),
            ]
          : [];
        return { ...out, personStatus, personReasonCode, eventIds };
      });
    },
  };
}

export type ApplicationActivities = ReturnType<typeof createApplicationActivities>;
