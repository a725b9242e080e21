// One person to verify (the individual, a business's officer, each beneficial owner). The API
// sends the person's documents here directly: verify-document as an update (the verification
// and its consequences are one local activity), uploads as signals. Once the person's status is
// settled (Approved, Denied or PendingReview) the workflow ends and returns it, with the events
// it recorded, to the application workflow, which delivers them with its own transition.
// A rejected document that must be provided again is the one change reported while open.
// Persons started by an application on protocol 1 (input without `protocol`) keep running the
// protocol-1 code, so in-flight applications finish as they began and their histories replay.
import { allHandlersFinished, condition, getExternalWorkflowHandle, proxyLocalActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createApplicationActivities } from '../activities';
import { derivePersonStatus, personSettled } from '../rules/status';
import {
  closePersonSignal, documentUploadedSignal, personStatusChangedSignal, personStatusQuery, verifyDocumentUpdate,
  type ApplicationStatus, type DocumentStatus, type DocumentUploadedSignal, type PersonOutcome, type PersonStatus, type PersonWorkflowInput,
  type VerifyDocumentOutcome, type VerifyDocumentRequest,
} from '../messages';
import { personWorkflowProtocol1 } from '../../workflows/protocol1/person';

// A verification the partner waits for over HTTP: give up (and fail the update) rather than hang.
const verifyActs = proxyLocalActivities<ReturnType<typeof createApplicationActivities>>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', maximumInterval: '2s', maximumAttempts: 5 },
});
// Everything else is retried until the database answers: the person must not fail over an outage.
const acts = proxyLocalActivities<ReturnType<typeof createApplicationActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});

export async function personWorkflow(input: PersonWorkflowInput): Promise<PersonStatus | PersonOutcome> {
  if (input.protocol !== 2) return personWorkflowProtocol1(input);
  const { workflowId } = workflowInfo();
  const { applicationId, orgId, personId } = input;
  const docs = new Map<string, DocumentStatus>(input.documents.map((d) => [d.documentId, 'Required']));
  const uploads: DocumentUploadedSignal[] = [];
  const undelivered: string[] = [];
  let status: PersonStatus = 'AwaitingDocuments';
  let reasonCode: string | null = null;
  let closedWith = null as ApplicationStatus | null;
  let busy = false;
  let seq = 0;

  /** Waits for and takes the person's one lock (release: `busy = false`). Several waiters can wake in one activation: re-check. */
  const lock = async () => {
    while (busy) await condition(() => !busy);
    busy = true;
  };

  setHandler(personStatusQuery, () => ({ status, documents: Object.fromEntries(docs) }));
  setHandler(closePersonSignal, (s) => { closedWith = s.applicationStatus; });
  setHandler(documentUploadedSignal, (s) => { uploads.push(s); });

  setHandler(verifyDocumentUpdate, async (req: VerifyDocumentRequest): Promise<VerifyDocumentOutcome> => {
    // One verification at a time: each derives the person's status from all of their documents.
    await lock();
    try {
      if (closedWith !== null || personSettled(status)) return { ok: false, error: 'application_not_awaiting_documents' };
      seq += 1;
      const out = await verifyActs.verifyPersonDocument({
        applicationId, orgId, personId, documentId: req.documentId, jobId: req.jobId,
        applicationType: input.applicationType, dedupePrefix: `${workflowId}:${seq}`,
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
          await getExternalWorkflowHandle(input.parentWorkflowId).signal(personStatusChangedSignal, { personId, status, reasonCode: out.reasonCode, resubmit: out.personOutcome === 'Resubmit', eventIds });
        } catch {
          undelivered.push(...eventIds); // the application has ended: it collects them from the result
        }
      }
      const { eventIds: _recorded, personStatus: _s, personReasonCode: _r, ...outcome } = out;
      return outcome;
    } finally {
      busy = false;
    }
  }, {
    validator: (req: VerifyDocumentRequest) => {
      if (closedWith !== null || personSettled(status)) throw new Error(`documents can only be verified while AwaitingDocuments; the person is ${status}`);
      if (!docs.has(req?.documentId)) throw new Error(`document ${req?.documentId} is not one of this person's required documents`);
    },
  });

  while (!personSettled(status) && closedWith === null) {
    await condition(() => uploads.length > 0 || personSettled(status) || closedWith !== null);
    const u = uploads.shift();
    if (!u || !docs.has(u.documentId)) continue;
    const prev = docs.get(u.documentId)!;
    // Sides can arrive in any order: a complete document never goes back to half-received.
    if (prev === 'PendingReview' && (u.status === 'ReceivedFront' || u.status === 'ReceivedBack')) continue;
    await lock();
    try {
      if (personSettled(status) || closedWith !== null) break;
      docs.set(u.documentId, u.status);
      const next = derivePersonStatus([...docs.values()], false);
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
