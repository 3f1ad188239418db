/** Temp directories and config files for the config tests; everything lives under the OS temp dir. */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-config-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

/** A fresh directory (mode 0700, as mkdtemp makes it). */
export function createTempDir(label = 'case'): string {
  return mkdtempSync(path.join(root, `${label}-${counter++}-`));
}

/** Writes `content` (JSON-encoded unless a string) as fooocus.config.json in `dir` with mode 0644, whatever the umask. */
export function writeConfig(dir: string, content: unknown, name = 'fooocus.config.json'): string {
  const file = path.join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  chmodSync(file, 0o644);
  return file;
}

export const TOKEN_HASH = 'a'.repeat(64);
/** A user entry as `fooocus users add` writes it (the hash's bytes are arbitrary here). */
export const TEST_USER = { name: 'alice', role: 'admin', passwordHash: `scrypt$32768$8$1$${'c2FsdA'.padEnd(22, 'A')}==$${'aGFzaA'.padEnd(43, 'B')}=` };
export const TEST_TOKEN = { name: 'ci', owner: 'alice', sha256: TOKEN_HASH };
