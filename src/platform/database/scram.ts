// The server side of SCRAM-SHA-256 (RFC 5802 / RFC 7677) as PostgreSQL speaks it: the client
// proves it knows the password without ever sending it, and the server proves the same back.
// The embedded database (embeddedPostgresWire.ts) uses it to refuse every other local process.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

export const SCRAM_MECHANISM = 'SCRAM-SHA-256';
/** PostgreSQL's default (scram_iterations). */
const ITERATIONS = 4096;

/** What the server keeps: enough to check a proof and sign its answer, not the password. */
export interface ScramVerifier {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest();

export function scramVerifier(password: string, salt = randomBytes(16), iterations = ITERATIONS): ScramVerifier {
  // SASLprep leaves printable ASCII as it is; the generated passwords are base64url.
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  return { salt, iterations, storedKey: sha256(hmac(salted, 'Client Key')), serverKey: hmac(salted, 'Server Key') };
}

/** A message that does not follow the protocol (a wrong password is not one). */
export class ScramRefusal extends Error {}

/**
 * One client's exchange: `serverFirst` answers the client-first-message, `serverFinal` checks the
 * client-final-message and gives the server's signature. A `doomed` exchange (unknown user) runs
 * the same steps and fails at the end, so an attacker learns nothing from where it stopped.
 */
export class ScramExchange {
  private gs2Header = '';
  private clientFirstBare = '';
  private serverFirstMessage = '';
  private nonce = '';

  constructor(
    private readonly verifier: ScramVerifier,
    private readonly doomed = false,
  ) {}

  serverFirst(clientFirst: string): string {
    // gs2-header: "n" (client has no channel binding) or "y" (it has, believes we have not);
    // "p=…" asks for channel binding, which a server without TLS never offers. No authzid.
    const match = /^([ny]),,(n=[^,]*,r=([\x21-\x2b\x2d-\x7e]+))$/.exec(clientFirst);
    if (!match) throw new ScramRefusal('malformed SCRAM client-first-message');
    this.gs2Header = `${match[1]},,`;
    this.clientFirstBare = match[2];
    this.nonce = match[3] + randomBytes(18).toString('base64');
    const { salt, iterations } = this.verifier;
    this.serverFirstMessage = `r=${this.nonce},s=${salt.toString('base64')},i=${iterations}`;
    return this.serverFirstMessage;
  }

  /** The server-final-message ("v=…"), or null when the proof is wrong; throws on a malformed message. */
  serverFinal(clientFinal: string): string | null {
    const match = /^(c=([^,]*),r=([^,]*)),p=([A-Za-z0-9+/=]+)$/.exec(clientFinal);
    if (!match || !this.serverFirstMessage) throw new ScramRefusal('malformed SCRAM client-final-message');
    const [, withoutProof, channelBinding, nonce, proofText] = match;
    if (channelBinding !== Buffer.from(this.gs2Header).toString('base64') || nonce !== this.nonce)
      throw new ScramRefusal('SCRAM channel binding or nonce does not match');
    const proof = Buffer.from(proofText, 'base64');
    if (proof.length !== 32) throw new ScramRefusal('malformed SCRAM proof');
    const authMessage = `${this.clientFirstBare},${this.serverFirstMessage},${withoutProof}`;
    const signature = hmac(this.verifier.storedKey, authMessage);
    const clientKey = Buffer.alloc(32);
    for (let i = 0; i < 32; i++) clientKey[i] = proof[i] ^ signature[i];
    const proven = timingSafeEqual(sha256(clientKey), this.verifier.storedKey);
    if (!proven || this.doomed) return null;
    return `v=${hmac(this.verifier.serverKey, authMessage).toString('base64')}`;
  }
}
