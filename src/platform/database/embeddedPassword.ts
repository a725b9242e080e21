// The embedded database's password: generated on first run and kept under DATA_DIR/keys
// (mode 0600, beside the development key ring), so only the engine's own user can read it; a
// database in memory gets a fresh one each start.
import { chmodSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

export const embeddedPasswordFile = (dataDir: string) => join(dataDir, 'keys', 'embedded-postgres.password');

const newPassword = () => randomBytes(32).toString('base64url');

export function embeddedPassword(dataDir: string | 'memory'): string {
  if (dataDir === 'memory') return newPassword();
  const file = embeddedPasswordFile(dataDir);
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  // Written whole under a temporary name, then linked into place: two engines starting at once
  // on one DATA_DIR agree on one password, and a crash never leaves a half-written file.
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(draft, newPassword() + '\n', { mode: 0o600, flag: 'wx' });
  try {
    linkSync(draft, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(draft);
  }
  chmodSync(file, 0o600); // a copied DATA_DIR may have loosened it
  const password = readFileSync(file, 'utf8').trim();
  // The client and the server both hash it as it is: SASLprep must have nothing to change.
  if (!/^[\x21-\x7e]{16,}$/.test(password))
    throw new Error(`${file} must hold a password of at least 16 printable ASCII characters (delete it to generate a new one)`);
  return password;
}
