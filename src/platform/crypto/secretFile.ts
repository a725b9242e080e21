// A secret the engine generates once and keeps in a file only its own user can read (the
// development key ring, the embedded database's password).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The file's content, written from `generate()` first if the file does not exist. Written whole
 * under a temporary name, then linked into place: processes starting together on one DATA_DIR
 * agree on the first content, and a crash never leaves a half-written file. The directory is
 * 0700 and the file 0600 (set again, in case a copy loosened it). `created`: this call wrote it.
 */
export function secretFile(file: string, generate: () => string): { content: string; created: boolean } {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  let created = false;
  if (!existsSync(file)) {
    const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
    writeFileSync(draft, generate(), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(draft, file);
      created = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(draft);
    }
  }
  chmodSync(file, 0o600);
  return { content: readFileSync(file, 'utf8'), created };
}
