/**
 * An optional pinned hash of the config file. `fooocus config lock` records the SHA-256 of the reviewed config in
 * `<config>.lock`; from then on the config is refused if its bytes differ, until the change is reviewed and locked
 * again. The lock is a `sha256sum` line (`<hex>  <file name>`), so `sha256sum -c fooocus.config.json.lock` in the
 * config's directory checks it too.
 *
 * Configuration is written only on the user's command: the lock here (`config lock`), and users and tokens by
 * edit-config.ts (`fooocus users`, `fooocus tokens`), which refuses a locked file.
 */
import { createHash } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../models/atomic-file.ts';
import { ConfigError, ConfigLockMismatchError } from './config-errors.ts';
import { parseConfigBytes, readProtectedFile, type ConfigPermissionOptions } from './config-file.ts';

const MAX_LOCK_BYTES = 4096;
const LOCK_LINE = /^([0-9a-f]{64}) [ *]([^\n]+)\n?$/;

export interface ConfigLockState {
  lockFile: string;
  /** SHA-256 of the config bytes (hex). */
  sha256: string;
  /** The hash the lock held before, for `config lock`; null when there was no lock. */
  previous: string | null;
}

export function defaultLockPath(file: string): string {
  return `${file}.lock`;
}

export function hashConfigBytes(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Records the SHA-256 of `file` in `lockFile` (atomically, mode 0600). The config must be valid and safely
 * permissioned: locking a file that would be refused anyway would only hide the problem.
 */
export async function lockConfig(
  file: string,
  lockFile = defaultLockPath(file),
  permissions: ConfigPermissionOptions = {},
): Promise<ConfigLockState> {
  const { bytes } = await readProtectedFile(file, permissions);
  parseConfigBytes(bytes, file);
  const previous = await readLock(file, lockFile, permissions);
  const sha256 = hashConfigBytes(bytes);
  await writeFileAtomic(lockFile, `${sha256}  ${path.basename(file)}\n`, { mode: 0o600 });
  return { lockFile, sha256, previous };
}

/**
 * Checks `file` against its lock. Returns 'unlocked' when there is no lock, 'locked' when the hash matches; throws
 * ConfigLockMismatchError when it differs or when the lock exists but the config does not.
 */
export async function verifyConfigLock(
  file: string,
  lockFile = defaultLockPath(file),
  permissions: ConfigPermissionOptions = {},
): Promise<'locked' | 'unlocked'> {
  let bytes: Uint8Array;
  try {
    ({ bytes } = await readProtectedFile(file, permissions));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') await refuseOrphanLock(file, lockFile);
    throw err;
  }
  return checkLockedBytes(file, bytes, lockFile, permissions);
}

/** The same check on config bytes already read, so the bytes verified are the bytes used. */
export async function checkLockedBytes(
  file: string,
  bytes: Uint8Array,
  lockFile = defaultLockPath(file),
  permissions: ConfigPermissionOptions = {},
): Promise<'locked' | 'unlocked'> {
  const expected = await readLock(file, lockFile, permissions);
  if (expected === null) return 'unlocked';
  const found = hashConfigBytes(bytes);
  if (found !== expected) {
    throw new ConfigLockMismatchError(file, lockFile, 'changed', `SHA-256 ${found}, locked ${expected}`);
  }
  return 'locked';
}

/** Throws ConfigLockMismatchError when the lock of a missing config exists; returns when there is none. */
export async function refuseOrphanLock(file: string, lockFile = defaultLockPath(file)): Promise<void> {
  try {
    await access(lockFile);
  } catch {
    return;
  }
  throw new ConfigLockMismatchError(file, lockFile, 'config-missing');
}

/** The locked hash, or null when there is no lock file. */
async function readLock(file: string, lockFile: string, permissions: ConfigPermissionOptions): Promise<string | null> {
  let text: string;
  try {
    text = (await readProtectedFile(lockFile, permissions, MAX_LOCK_BYTES)).bytes.toString('utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if (err instanceof ConfigError) throw new ConfigLockMismatchError(file, lockFile, 'invalid-lock', (err as Error).message);
    throw err;
  }
  const match = LOCK_LINE.exec(text);
  if (match === null) throw new ConfigLockMismatchError(file, lockFile, 'invalid-lock', 'expected one line: <sha256>  <file name>');
  if (match[2] !== path.basename(file)) {
    throw new ConfigLockMismatchError(file, lockFile, 'invalid-lock', `it locks "${match[2]}", not "${path.basename(file)}"`);
  }
  return match[1]!;
}
