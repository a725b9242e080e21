// The key ring: the AES-256 keys that protect personal data at rest (envelope encryption) and in
// Temporal payloads, plus the HMAC secret for the identity index (duplicate detection).
//
// DATA_ENCRYPTION_KEYS="k2:<base64 32 bytes>,k1:<base64 32 bytes>": the first key seals new data;
// the others still open what they sealed until `npm run admin -- rewrap-data` has moved every
// record to the first. IDENTITY_INDEX_KEY is separate and never rotates casually: changing it
// makes every stored duplicate-detection key unmatchable until rewrap-data recomputes them.
//
// With neither set, a development engine generates both under DATA_DIR/keys (mode 0600) on first
// run and says so; NODE_ENV=production refuses to start without them.
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { secretFile } from './secretFile';

export interface KeyRing {
  /** The id of the key new data is sealed with (the first of DATA_ENCRYPTION_KEYS). */
  readonly activeKeyId: string;
  /** Every key id this ring can open, the active one first. */
  readonly keyIds: readonly string[];
  /** The 32-byte key with this id, derived for one purpose (data keys, Temporal payloads, …). */
  key(id: string, purpose: KeyPurpose): Buffer;
  /** Keyed HMAC-SHA256 (hex) of a normalised identifier: the identity index. */
  identityIndex(value: string): string;
}

/** Each purpose gets its own subkey (HKDF), so a payload key never opens a data key and vice versa. */
export type KeyPurpose = 'data-key-wrap' | 'temporal-payload' | 'reviewer-credential';

export class KeyRingError extends Error {
  override name = 'KeyRingError';
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

function decodeKey(b64: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]{43}=?$/.test(b64)) throw new KeyRingError(`${what} must be 32 bytes in base64 (44 characters)`);
  return Buffer.from(b64, 'base64');
}

/** Parses DATA_ENCRYPTION_KEYS and IDENTITY_INDEX_KEY (see the header). */
export function parseKeyRing(dataEncryptionKeys: string, identityIndexKey: string): KeyRing {
  const keys = new Map<string, Buffer>();
  for (const entry of dataEncryptionKeys.split(',').map((s) => s.trim())) {
    const sep = entry.indexOf(':');
    if (sep < 0) throw new KeyRingError('DATA_ENCRYPTION_KEYS entries are <id>:<base64 key>, separated by commas');
    const id = entry.slice(0, sep);
    if (!KEY_ID.test(id)) throw new KeyRingError(`DATA_ENCRYPTION_KEYS: key id "${id.slice(0, 40)}" must be 1-32 of A-Z a-z 0-9 _ -`);
    if (keys.has(id)) throw new KeyRingError(`DATA_ENCRYPTION_KEYS: key id ${id} appears twice`);
    keys.set(id, decodeKey(entry.slice(sep + 1), `DATA_ENCRYPTION_KEYS key ${id}`));
  }
  const indexKey = decodeKey(identityIndexKey, 'IDENTITY_INDEX_KEY');
  const ids = [...keys.keys()];
  const derived = new Map<string, Buffer>();
  return {
    activeKeyId: ids[0],
    keyIds: ids,
    key(id, purpose) {
      const master = keys.get(id);
      if (!master) throw new KeyRingError(`no key with id ${id} in DATA_ENCRYPTION_KEYS`);
      const cacheKey = `${id}\0${purpose}`;
      let k = derived.get(cacheKey);
      if (!k) {
        k = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `onboarding-engine ${purpose}`, 32));
        derived.set(cacheKey, k);
      }
      return k;
    },
    identityIndex: (value) => createHmac('sha256', indexKey).update(value).digest('hex'),
  };
}

export const newKeyMaterial = () => randomBytes(32).toString('base64');

export interface KeySettings {
  DATA_ENCRYPTION_KEYS?: string;
  IDENTITY_INDEX_KEY?: string;
  NODE_ENV?: string;
}

/**
 * The engine's key ring: from the environment, else (outside production) from DATA_DIR/keys,
 * generated there on first run. `generated` says a new development key was just written.
 */
export function loadKeyRing(
  settings: KeySettings,
  dataDir: string,
): { ring: KeyRing; source: 'environment' | 'data-dir'; generated: boolean } {
  const { DATA_ENCRYPTION_KEYS: dek, IDENTITY_INDEX_KEY: iik } = settings;
  if (dek && iik) return { ring: parseKeyRing(dek, iik), source: 'environment', generated: false };
  if (dek || iik) throw new KeyRingError('set both DATA_ENCRYPTION_KEYS and IDENTITY_INDEX_KEY, or neither (development only)');
  if (settings.NODE_ENV === 'production')
    throw new KeyRingError('NODE_ENV=production needs DATA_ENCRYPTION_KEYS and IDENTITY_INDEX_KEY (see README, "Keys")');
  const file = join(dataDir, 'keys', 'engine-keys.json');
  const { content, created: generated } = secretFile(
    file,
    () => JSON.stringify({ DATA_ENCRYPTION_KEYS: `dev1:${newKeyMaterial()}`, IDENTITY_INDEX_KEY: newKeyMaterial() }, null, 2) + '\n',
  );
  const stored = JSON.parse(content) as { DATA_ENCRYPTION_KEYS: string; IDENTITY_INDEX_KEY: string };
  return { ring: parseKeyRing(stored.DATA_ENCRYPTION_KEYS, stored.IDENTITY_INDEX_KEY), source: 'data-dir', generated };
}
