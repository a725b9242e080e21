// Envelope encryption for personal data at rest: each record gets its own random data key
// (AES-256-GCM), and that data key is stored wrapped by a key-ring key (AES-256-GCM again).
// Rotating a key-ring key re-wraps the small data keys only (`rewrap`), never the data.
//
// Sealed layout (bytes): 0x01 | keyIdLength | keyId | wrapIv(12) | wrapTag(16) | wrappedKey(32)
//                        | dataIv(12) | dataTag(16) | ciphertext
// `context` (for example `applications.sensitive:<id>`) is bound as additional authenticated data,
// so a sealed value copied to another row or column does not open there.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyRing } from './keyRing';
import { KeyRingError } from './keyRing';

const VERSION = 1;

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), ct]);
}

function gcmOpen(key: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, 12));
  decipher.setAAD(aad);
  decipher.setAuthTag(sealed.subarray(12, 28));
  return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]);
}

interface Parsed {
  keyId: string;
  wrapped: Buffer; // wrapIv | wrapTag | wrappedKey
  data: Buffer; // dataIv | dataTag | ciphertext
}

function parse(sealed: Buffer): Parsed {
  if (sealed.length < 2 || sealed[0] !== VERSION) throw new KeyRingError('not a sealed value (unknown format)');
  const idLength = sealed[1];
  const keyId = sealed.subarray(2, 2 + idLength).toString('utf8');
  const wrappedStart = 2 + idLength;
  const wrapped = sealed.subarray(wrappedStart, wrappedStart + 60);
  if (wrapped.length !== 60) throw new KeyRingError('sealed value truncated');
  return { keyId, wrapped, data: sealed.subarray(wrappedStart + 60) };
}

function assemble(keyId: string, wrapped: Buffer, data: Buffer): Buffer {
  const id = Buffer.from(keyId, 'utf8');
  return Buffer.concat([Buffer.from([VERSION, id.length]), id, wrapped, data]);
}

/** Encrypts bytes under a fresh data key wrapped by the ring's active key. */
export function seal(ring: KeyRing, plaintext: Buffer, context: string): Buffer {
  const dataKey = randomBytes(32);
  const aad = Buffer.from(context, 'utf8');
  const wrapped = gcmSeal(ring.key(ring.activeKeyId, 'data-key-wrap'), dataKey, aad);
  return assemble(ring.activeKeyId, wrapped, gcmSeal(dataKey, plaintext, aad));
}

/** Decrypts what seal() made with the same context; throws if the bytes or the context differ. */
export function open(ring: KeyRing, sealed: Buffer, context: string): Buffer {
  const { keyId, wrapped, data } = parse(sealed);
  const aad = Buffer.from(context, 'utf8');
  const dataKey = gcmOpen(ring.key(keyId, 'data-key-wrap'), wrapped, aad);
  return gcmOpen(dataKey, data, aad);
}

/** The id of the key-ring key a sealed value's data key is wrapped with. */
export const sealedKeyId = (sealed: Buffer): string => parse(sealed).keyId;

/** The same value with its data key re-wrapped by the active key (the data is not re-encrypted). */
export function rewrap(ring: KeyRing, sealed: Buffer, context: string): Buffer {
  const { keyId, wrapped, data } = parse(sealed);
  if (keyId === ring.activeKeyId) return sealed;
  const aad = Buffer.from(context, 'utf8');
  const dataKey = gcmOpen(ring.key(keyId, 'data-key-wrap'), wrapped, aad);
  return assemble(ring.activeKeyId, gcmSeal(ring.key(ring.activeKeyId, 'data-key-wrap'), dataKey, aad), data);
}

export const sealJson = (ring: KeyRing, value: unknown, context: string): Buffer =>
  seal(ring, Buffer.from(JSON.stringify(value), 'utf8'), context);

export const openJson = <T>(ring: KeyRing, sealed: Buffer, context: string): T =>
  JSON.parse(open(ring, sealed, context).toString('utf8')) as T;
