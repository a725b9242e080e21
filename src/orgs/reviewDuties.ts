// Separation of duties: who may decide an application that is waiting for review.
/** Why a key may not review an application, or null when it may. */
export function reviewRefusal(
  key: { scopes: readonly string[]; revokedAt?: Date | null; expiresAt: Date | null; keyId: string },
  duties: { submittedByKeyId: string | null; allowSelfReview: boolean },
  now = new Date(),
): string | null {
  if (key.revokedAt || (key.expiresAt && key.expiresAt <= now)) return 'the reviewer key is revoked or expired';
  if (!key.scopes.includes('review')) return 'the key has no review scope';
  if (duties.submittedByKeyId === key.keyId && !duties.allowSelfReview)
    return 'the key that submitted this application cannot review it (separation of duties; an org admin can allow it with PATCH /org)';
  return null;
}
