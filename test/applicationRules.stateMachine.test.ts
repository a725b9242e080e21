// The application state machine and the verify-document rule, as pure functions.
import { describe, expect, it } from 'vitest';
import { APPLICATION_STATUSES, type ApplicationStatus } from '../src/applications/domain';
import {
  allows,
  APPLICATION_TRANSITIONS,
  nextTransition,
  type ApplicationTrigger,
} from '../src/applications/rules/applicationStateMachine';
import { canVerify, type VerifyFacts } from '../src/applications/rules/verification';

describe('the application state machine', () => {
  it('leaves no terminal status, and every transition lands on a status it declares', () => {
    for (const [name, t] of Object.entries(APPLICATION_TRANSITIONS)) {
      for (const from of ['Approved', 'Denied', 'Canceled'] as const)
        expect(allows(name as keyof typeof APPLICATION_TRANSITIONS, from)).toBe(false);
      for (const to of t.to) expect(APPLICATION_STATUSES).toContain(to);
    }
  });

  const triggers: ApplicationTrigger[] = [
    { type: 'documentsRequested', persons: ['AwaitingDocuments'] },
    { type: 'documentRejected', reasonCode: 'UnsupportedDocumentType' },
    { type: 'personSettled', personId: '1', status: 'Approved', reasonCode: null, persons: ['Approved'] },
    { type: 'reviewed', decision: 'Approved', reason: 'ok', reviewer: 'ops' },
    { type: 'canceled', reason: 'withdrawn' },
    { type: 'deadlinePassed', deadlineMs: 30 * 86_400_000 },
  ];
  it.each(APPLICATION_STATUSES)(
    'from %s, each trigger either yields a declared transition or is refused with a reason',
    (from: ApplicationStatus) => {
      for (const trigger of triggers) {
        const d = nextTransition(from, trigger);
        const declared = APPLICATION_TRANSITIONS[trigger.type];
        if (!(declared.from as readonly string[]).includes(from)) {
          expect(d.kind).toBe('refused');
          continue;
        }
        if (d.kind === 'transition') expect(declared.to as readonly string[]).toContain(d.transition.to);
        else expect(d.kind).toBe('unchanged');
      }
    },
  );

  it('a denied person denies the application and names them; a settled person with others still awaited changes nothing', () => {
    expect(
      nextTransition('AwaitingDocuments', {
        type: 'personSettled',
        personId: '7',
        status: 'Denied',
        reasonCode: 'selfie_face_mismatch',
        persons: ['Denied', 'AwaitingDocuments'],
      }),
    ).toEqual({
      kind: 'transition',
      transition: {
        name: 'personSettled',
        from: 'AwaitingDocuments',
        to: 'Denied',
        reasonCode: 'selfie_face_mismatch',
        deniedPersonId: '7',
      },
    });
    expect(
      nextTransition('AwaitingDocuments', {
        type: 'personSettled',
        personId: '7',
        status: 'Approved',
        reasonCode: null,
        persons: ['Approved', 'AwaitingDocuments'],
      }),
    ).toEqual({ kind: 'unchanged' });
    expect(
      nextTransition('AwaitingDocuments', {
        type: 'personSettled',
        personId: '7',
        status: 'PendingReview',
        reasonCode: null,
        persons: ['PendingReview', 'Approved'],
      }),
    ).toMatchObject({ transition: { to: 'PendingReview' } });
  });

  it('a review outside PendingReview is refused in the words the API returns', () => {
    expect(nextTransition('AwaitingDocuments', { type: 'reviewed', decision: 'Approved', reason: 'x', reviewer: 'y' })).toEqual({
      kind: 'refused',
      error: 'the application is AwaitingDocuments; a review decision is only possible in PendingReview',
    });
  });
});

describe('canVerify: when a SelfieVerification document may be verified with a job', () => {
  const ok: VerifyFacts = {
    documentId: '5',
    jobId: 'vj_1',
    applicationStatus: 'AwaitingDocuments',
    document: { documentType: 'SelfieVerification', status: 'Required' },
    job: { status: 'completed', usedByDocumentId: null },
  };
  it('allows a completed, unused job on a Required or Invalid SelfieVerification while documents are awaited', () => {
    expect(canVerify(ok)).toEqual({ ok: true });
    expect(canVerify({ ...ok, document: { ...ok.document!, status: 'Invalid' } })).toEqual({ ok: true });
  });
  it.each<[string, Partial<VerifyFacts>, string]>([
    ['no such document', { document: null }, 'document_not_found'],
    ['no such job', { job: null }, 'job_not_found'],
    ['a pending job', { job: { status: 'pending', usedByDocumentId: null } }, 'job_not_completed'],
    ['a failed job', { job: { status: 'failed', usedByDocumentId: null } }, 'job_failed'],
    ['a job used before', { job: { status: 'completed', usedByDocumentId: '9' } }, 'job_already_used'],
    ['an IdDocument', { document: { documentType: 'IdDocument', status: 'Required' } }, 'document_not_verifiable'],
    ['an application in review', { applicationStatus: 'PendingReview' }, 'application_not_awaiting_documents'],
    ['a person whose verification is over', { personOpen: false }, 'application_not_awaiting_documents'],
    ['an approved document', { document: { documentType: 'SelfieVerification', status: 'Approved' } }, 'document_not_verifiable'],
  ])('refuses %s', (_what, facts, refusal) => {
    const d = canVerify({ ...ok, ...facts });
    expect(d).toMatchObject({ ok: false, refusal });
    expect(d.ok === false && d.message.length).toBeGreaterThan(10);
  });
  it('checks only the facts a caller knows: the workflow validator knows neither the job nor the application row', () => {
    expect(canVerify({ documentId: '5', jobId: 'vj_1', personOpen: true })).toEqual({ ok: true });
  });
});
