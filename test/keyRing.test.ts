// The key ring: from the environment in production (refused without it), generated once under
// DATA_DIR for development and reused; keys that are not 32 bytes, or ids that repeat, refused.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/platform/config';
import { open, rewrap, seal, sealedKeyId } from '../src/platform/crypto/envelope';
import { loadKeyRing, newKeyMaterial, parseKeyRing } from '../src/platform/crypto/keyRing';

const dir = () => mkdtempSync(join(tmpdir(), 'key-ring-'));

describe('the key ring', () => {
  it('refuses to start in production without keys, naming the variables', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', DATA_DIR: dir() })).toThrow(
      /NODE_ENV=production needs DATA_ENCRYPTION_KEYS and IDENTITY_INDEX_KEY/,
    );
    expect(() => loadConfig({ DATA_DIR: dir(), DATA_ENCRYPTION_KEYS: `k1:${newKeyMaterial()}` })).toThrow(/set both/);
  });

  it('generates a development ring once under DATA_DIR/keys (mode 0600) and reuses it', () => {
    const dataDir = dir();
    const first = loadKeyRing({}, dataDir);
    expect(first).toMatchObject({ source: 'data-dir', generated: true });
    const file = join(dataDir, 'keys', 'engine-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = loadKeyRing({}, dataDir);
    expect(again.generated).toBe(false);
    const sealed = seal(first.ring, Buffer.from('123-45-6789'), 'ctx');
    expect(open(again.ring, sealed, 'ctx').toString()).toBe('123-45-6789');
    expect(readFileSync(file, 'utf8')).not.toContain('123-45-6789');
  });

  it('refuses keys that are not 32 bytes of base64 and ids that repeat or are odd', () => {
    const k = newKeyMaterial();
    expect(() => parseKeyRing(`k1:${k.slice(0, 20)}`, k)).toThrow(/32 bytes/);
    expect(() => parseKeyRing(`k1:${k},k1:${newKeyMaterial()}`, k)).toThrow(/appears twice/);
    expect(() => parseKeyRing(`bad id!:${k}`, k)).toThrow(/key id/);
    expect(() => parseKeyRing(k, k)).toThrow(/<id>:<base64 key>/);
    expect(() => parseKeyRing(`k1:${k}`, 'short')).toThrow(/IDENTITY_INDEX_KEY/);
  });

  it('opens values sealed under an older key after rotation, re-wraps them to the new one, and binds each to its context', () => {
    const [k1, k2, index] = [newKeyMaterial(), newKeyMaterial(), newKeyMaterial()];
    const before = parseKeyRing(`k1:${k1}`, index);
    const after = parseKeyRing(`k2:${k2},k1:${k1}`, index);
    const sealed = seal(before, Buffer.from('P123456789'), 'applications.sensitive:7');
    expect(open(after, sealed, 'applications.sensitive:7').toString()).toBe('P123456789');
    const moved = rewrap(after, sealed, 'applications.sensitive:7');
    expect(sealedKeyId(moved)).toBe('k2');
    expect(open(parseKeyRing(`k2:${k2}`, index), moved, 'applications.sensitive:7').toString()).toBe('P123456789');
    expect(() => open(after, sealed, 'applications.sensitive:8')).toThrow();
    // The identity index is keyed: the same SSN under another key is another index.
    expect(before.identityIndex('123456789')).toBe(after.identityIndex('123456789'));
    expect(parseKeyRing(`k1:${k1}`, newKeyMaterial()).identityIndex('123456789')).not.toBe(before.identityIndex('123456789'));
  });
});
