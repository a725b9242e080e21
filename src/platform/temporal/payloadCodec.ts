// Every payload the engine hands Temporal (workflow and activity inputs and results, update and
// signal arguments, memos) is sealed with AES-256-GCM before it leaves the process, so the
// Temporal server, its database and anyone who can read its history see ciphertext: review
// reasons, reviewer names and applicants' names are readable only with the key ring.
//
// Each sealed payload is a whole Payload proto (metadata and data) encrypted under the ring's
// active key, tagged with that key's id: after a rotation the older keys still open what they
// sealed. A payload that is not sealed (histories recorded before encryption, or a payload typed
// by hand into the Temporal CLI) passes through unchanged.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
// A CommonJS module: Node's ESM loader sees only its default export.
import proto from '@temporalio/proto';
import type { KeyRing } from '../crypto/keyRing';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const ProtoPayload = proto.temporal.api.common.v1.Payload;
const text = (b: Uint8Array | null | undefined) => (b ? Buffer.from(b).toString('utf8') : undefined);

export class PayloadDecryptionError extends Error {
  override name = 'PayloadDecryptionError';
}

/** True when this payload was sealed by {@link EncryptionCodec} (with whichever key). */
export const isEncryptedPayload = (p: Payload): boolean => text(p.metadata?.encoding) === ENCRYPTED_ENCODING;

export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly ring: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    const keyId = this.ring.activeKeyId;
    const key = this.ring.key(keyId, 'temporal-payload');
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      // The key id is authenticated too: a payload relabelled with another id does not open.
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(keyId));
      const sealed = Buffer.concat([cipher.update(ProtoPayload.encode(payload).finish()), cipher.final()]);
      return {
        metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keyId) },
        data: Buffer.concat([iv, cipher.getAuthTag(), sealed]),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncryptedPayload(payload)) return payload;
      const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
      if (!keyId) throw new PayloadDecryptionError(`an encrypted payload without ${KEY_ID_METADATA}`);
      if (!this.ring.keyIds.includes(keyId))
        throw new PayloadDecryptionError(`payload sealed with key ${keyId}, which is not in DATA_ENCRYPTION_KEYS`);
      const data = Buffer.from(payload.data ?? []);
      if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('an encrypted payload too short to be one');
      const decipher = createDecipheriv('aes-256-gcm', this.ring.key(keyId, 'temporal-payload'), data.subarray(0, IV_BYTES))
        .setAAD(Buffer.from(keyId))
        .setAuthTag(data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      let plain: Buffer;
      try {
        plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
      } catch {
        throw new PayloadDecryptionError(`an encrypted payload did not authenticate under key ${keyId}`);
      }
      return ProtoPayload.decode(plain);
    });
  }
}

const codecs = new WeakMap<KeyRing, EncryptionCodec>();
/** The payload codec of this key ring (one per ring: it caches nothing but is shared anyway). */
export function payloadCodec(ring: KeyRing): EncryptionCodec {
  let codec = codecs.get(ring);
  if (!codec) codecs.set(ring, (codec = new EncryptionCodec(ring)));
  return codec;
}

/**
 * The data converter of every Temporal client, worker and replayer of the engine: all of them
 * must use the same one, or one side reads ciphertext it cannot convert.
 */
export function dataConverter(config: { keyRing: KeyRing }): DataConverter {
  return { payloadCodecs: [payloadCodec(config.keyRing)] };
}
