// Protocol 1 of the person workflow, unchanged: persons started by a protocol-1 application.
//
// One person to verify (the individual, a business's officer, each beneficial owner): holds the
// status of the person's required documents, records the person's status and reports every
// change to the application workflow. Documents change through signals the application
// workflow forwards (uploads, verification results); the person ends when the application does.
// Changing behaviour later: guard the new path with `patched('<id>')` so running histories replay.
import { allHandlersFinished, condition, getExternalWorkflowHandle, setHandler, workflowInfo } from '@temporalio/workflow';
import type { createApplicationActivities } from '../../applications/activities';
import {
  closePersonSignal, documentUpdatedSignal, EVENT, personStatusChangedSignal, personStatusQuery,
  type ApplicationStatus, type DocumentStatus, type DocumentUpdatedSignal, type PersonStatus, type PersonWorkflowInput,
} from '../../applications/messages';
import { databaseActivities } from '../databaseActivities';
import { emitEvent } from '../../webhooks/workflows/emitEvent';
import { derivePersonStatus } from '../../applications/rules/status';

const acts = databaseActivities<ReturnType<typeof createApplicationActivities>>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', maximumInterval: '30s' },
});

export async function personWorkflowProtocol1(input: PersonWorkflowInput): Promise<PersonStatus> {
  const { workflowId } = workflowInfo();
  const docs = new Map<string, DocumentStatus>(input.documents.map((d) => [d.documentId, 'Required']));
  const inbox: DocumentUpdatedSignal[] = [];
  let closedWith = null as ApplicationStatus | null;
  let denialCode: string | null = null;
  let status = 'Pending' as PersonStatus;
  let seq = 0;

  setHandler(documentUpdatedSignal, (s) => { inbox.push(s); });
  setHandler(closePersonSignal, (s) => { closedWith = s.applicationStatus; });
  setHandler(personStatusQuery, () => ({ status, documents: Object.fromEntries(docs) }));

  const parent = getExternalWorkflowHandle(input.parentWorkflowId);
  const report = async (next: PersonStatus) => {
    status = next;
    await acts().setPersonStatus({ personId: input.personId, orgId: input.orgId, status: next, reasonCode: denialCode });
    try {
      await parent.signal(personStatusChangedSignal, { personId: input.personId, status: next, reasonCode: denialCode });
    } catch {
      // The application already finished: nothing left to report to.
    }
  };
  const emitDocumentEvent = async (type: string, documentId: string, reasonCode: string | null | undefined) => {
    seq += 1;
    await emitEvent({
      orgId: input.orgId,
      type,
      attributes: { documentId, reasonCode: reasonCode ?? null },
      relationships: { application: { data: { type: input.applicationType, id: input.applicationId } }, document: { data: { type: 'document', id: documentId } } },
      dedupeKey: `${workflowId}:${seq}:${type}`,
    });
  };

  await report(derivePersonStatus([...docs.values()], false));

  while (closedWith === null) {
    await condition(() => inbox.length > 0 || closedWith !== null);
    if (closedWith !== null) break;
    const u = inbox.shift()!;
    const prev = docs.get(u.documentId);
    if (prev === undefined) continue;
    // Uploads of the sides can arrive in any order: a complete document never goes back to half-received.
    const backwards = prev === 'PendingReview' && (u.status === 'ReceivedFront' || u.status === 'ReceivedBack');
    if (!backwards) docs.set(u.documentId, u.status);
    if (u.status === 'Approved' && prev !== 'Approved') await emitDocumentEvent(EVENT.documentApproved, u.documentId, null);
    if (u.status === 'Invalid') await emitDocumentEvent(EVENT.documentRejected, u.documentId, u.reasonCode);
    if (u.verdict === 'Denied' && denialCode === null) denialCode = u.reasonCode ?? 'Denied';
    const next = derivePersonStatus([...docs.values()], denialCode !== null);
    if (next !== status) await report(next);
  }
  await condition(allHandlersFinished);
  return status;
}
