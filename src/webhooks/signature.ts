// Unit's webhook signature: X-Unit-Signature = base64(HMAC-SHA1(token, body)), where body is
// exactly the bytes sent (JSON.stringify of the payload). The official SDK's
// `unit.webhooks.verify(signature, token, JSON.parse(body))` recomputes it from the parsed body.
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'X-Unit-Signature';

export function signBody(token: string, body: string): string {
  return createHmac('sha1', token).update(body).digest('base64');
}

/** Constant-time check of a received signature against the raw body. */
export function verifyBody(signature: string, token: string, body: string): boolean {
  const expected = Buffer.from(signBody(token, body));
  const got = Buffer.from(signature);
  return expected.length === got.length && timingSafeEqual(expected, got);
}
