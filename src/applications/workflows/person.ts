// One person to verify (the individual, a business's officer, each beneficial owner). The API
// sends the person's documents here directly: verify-document as an update (the verification
// and its consequences are one local activity), uploads as signals. Once the person's status is
// settled (Approved, Denied or PendingReview) the workflow ends and returns it, with the events
// it recorded, to the application workflow, which delivers them with its own transition.
// A rejected document that must be provided again is the one change reported while open.
import {
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ApplicationActivities } from '../activities';
import type { ApplicationStatus, DocumentStatus, PersonStatus } from '../domain';
import {
  closePersonSignal,
  documentUploadedSignal,
  personStatusChangedSignal,
  personStatusQuery,
  verifyDocumentUpdate,
  type DocumentUploadedSignal,
  type PersonOutcome,
  type PersonWorkflowInput,
  type VerifyDocumentOutcome,
  type VerifyDocumentRequest,
} from '../messages';
import { DocumentEventKeys } from '../rules/applicationStateMachine';
import { derivePersonStatus, personSettled } from '../rules/status';
import { canVerify } from '../rules/verification';

// A verification the partner waits for over HTTP: give up (and fail the update) rather than hang.
const verifyActs = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 5 },
});
// Everything else is retried until the database answers: the person must not fail over an outage.
const acts = proxyLocalActivities<ApplicationActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});

export async function personWorkflow(input: PersonWorkflowInput): Promise<PersonOutcome> {
  const { workflowId } = workflowInfo();
  const { applicationId, orgId, personId } = input;
  const docs = new Map<string, DocumentStatus>(input.documents.map((d) => [d.documentId, 'Required']));
  const eventKeys = new DocumentEventKeys(workflowId);
  const uploads: DocumentUploadedSignal[] = [];
  const undelivered: string[] = [];
  let status: PersonStatus = 'AwaitingDocuments';
  let reasonCode: string | null = null;
  let closedWith = null as ApplicationStatus | null;
  let busy = false;
  const open = () => closedWith === null && !personSettled(status);

  /** Waits for and takes the person's one lock (release: `busy = false`). Several waiters can wake in one activation: re-check. */
  const lock = async () => {
    while (busy) await condition(() => !busy);
    busy = true;
  };

  setHandler(personStatusQuery, () => ({ status, documents: Object.fromEntries(docs) }));
  setHandler(closePersonSignal, (s) => {
    closedWith = s.applicationStatus;
  });
  setHandler(documentUploadedSignal, (s) => {
    uploads.push(s);
  });

  setHandler(
    verifyDocumentUpdate,
    async (req: VerifyDocumentRequest): Promise<VerifyDocumentOutcome> => {
      // One verification at a time: each derives the person's status from all of their documents.
      await lock();
      try {
        const allowed = canVerify({ ...req, personOpen: open() });
        if (!allowed.ok) return { ok: false, error: allowed.refusal, message: allowed.message };
        const out = await verifyActs.verifyPersonDocument({
          applicationId,
          orgId,
          personId,
          documentId: req.documentId,
          jobId: req.jobId,
          applicationType: input.applicationType,
          eventKeys: eventKeys.nextVerification(),
        });
        if (!out.ok) return out;
        docs.set(req.documentId, out.documentStatus);
        undelivered.push(...out.eventIds);
        status = out.personStatus;
        reasonCode = out.personReasonCode;
        if (!personSettled(status) && undelivered.length) {
          // Still open (another document missing, or this one must be provided again): the
          // application delivers the document's event now, and asks again on a rejection.
          const eventIds = undelivered.splice(0);
          try {
            await getExternalWorkflowHandle(input.parentWorkflowId).signal(personStatusChangedSignal, {
              personId,
              status,
              reasonCode: out.reasonCode,
              resubmit: out.personOutcome === 'Resubmit',
              eventIds,
            });
          } catch {
            undelivered.push(...eventIds); // the application has ended: it collects them from the result
          }
        }
        const { eventIds: _recorded, personStatus: _status, personReasonCode: _reason, ...outcome } = out;
        return outcome;
      } finally {
        busy = false;
      }
    },
    {
      validator: (req: VerifyDocumentRequest) => {
        // The same rule as the API's and the activity's, with what the workflow knows.
        const documentStatus = docs.get(req?.documentId);
        const allowed = canVerify({
          documentId: req?.documentId,
          jobId: req?.jobId,
          personOpen: open(),
          ...(documentStatus === undefined ? { document: null } : {}),
        });
        if (!allowed.ok) throw new Error(allowed.message);
      },
    },
  );

  while (open()) {
    await condition(() => uploads.length > 0 || !open());
    const u = uploads.shift();
    if (!u || !docs.has(u.documentId)) continue;
    const prev = docs.get(u.documentId)!;
    // Sides can arrive in any order: a complete document never goes back to half-received.
    if (prev === 'PendingReview' && (u.status === 'ReceivedFront' || u.status === 'ReceivedBack')) continue;
    await lock();
    try {
      if (!open()) break;
      docs.set(u.documentId, u.status);
      const next = derivePersonStatus([...docs.values()], { denied: false });
      if (next !== status) {
        await acts.setPersonStatus({ personId, orgId, status: next });
        status = next;
      }
    } finally {
      busy = false;
    }
  }
  await condition(allHandlersFinished);
  return { personId, status, reasonCode, eventIds: undelivered };
}
