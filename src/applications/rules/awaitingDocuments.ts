// While documents are awaited: the next reminder or the deadline, whichever comes first.
// Pure (workflow-safe).
import type { ApplicationStatus } from '../domain';
import type { ApplicationWorkflowInput } from '../messages';

export interface AwaitingDocumentsTimer {
  at: number;
  kind: 'deadline' | 'reminder';
}

export function nextAwaitingDocumentsTimer(
  status: ApplicationStatus,
  awaitingSince: number | null,
  remindersSent: number,
  input: Pick<ApplicationWorkflowInput, 'awaitingDocumentsDeadlineMs' | 'awaitingDocumentsReminderMs'>,
): AwaitingDocumentsTimer | null {
  if (status !== 'AwaitingDocuments' || awaitingSince === null) return null;
  const deadlineAt = awaitingSince + input.awaitingDocumentsDeadlineMs;
  const reminderAt =
    input.awaitingDocumentsReminderMs > 0 ? awaitingSince + (remindersSent + 1) * input.awaitingDocumentsReminderMs : Infinity;
  return reminderAt < deadlineAt ? { at: reminderAt, kind: 'reminder' } : { at: deadlineAt, kind: 'deadline' };
}

/** The reason an application canceled at its deadline carries. */
export const deadlineReason = (deadlineMs: number) => `the required documents were not provided within ${humanDuration(deadlineMs)}`;

/** "30 days", "2 hours", "1.5 seconds": durations in reasons a person reads. */
export function humanDuration(ms: number): string {
  for (const [unit, size] of [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size} ${unit}${ms / size === 1 ? '' : 's'}`;
  }
  return ms >= 1000 ? `${(ms / 1000).toFixed(1)} seconds` : `${ms} ms`;
}
