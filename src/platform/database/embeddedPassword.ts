// The embedded database's password: generated on first run and kept under DATA_DIR/keys
// (mode 0600, beside the development key ring), so only the engine's own user can read it; a
// database in memory gets a fresh one each start.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { secretFile } from '../crypto/secretFile';

export const embeddedPasswordFile = (dataDir: string) => join(dataDir, 'keys', 'embedded-postgres.password');

const newPassword = () => randomBytes(32).toString('base64url');

export function embeddedPassword(dataDir: string | 'memory'): string {
  if (dataDir === 'memory') return newPassword();
  const file = embeddedPasswordFile(dataDir);
  const password = secretFile(file, () => newPassword() + '\n').content.trim();
  // The client and the server both hash it as it is: SASLprep must have nothing to change.
  if (!/^[\x21-\x7e]{16,}$/.test(password))
    throw new Error(`${file} must hold a password of at least 16 printable ASCII characters (delete it to generate a new one)`);
  return password;
}
