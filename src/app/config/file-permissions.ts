/**
 * Files that decide what Fooocus loads must be changeable only by their owner (or root): the config file, its
 * lock, and the models directory. Anyone else who can write them can point Fooocus at a different model, turn off
 * a check, or open the server to the network; the outputs directory is checked the same way. A refusal says exactly
 * which command fixes it.
 *
 * Only POSIX permission bits and ownership are checked. On Windows, where files carry ACLs instead, the check is
 * skipped and a note says so. Only the path itself is checked, not its parent directories or the files in a
 * directory (model files are verified by hash on every load anyway).
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { InsecurePermissionsError } from './config-errors.ts';
import type { AppConfig } from './config-schema.ts';

export type PermissionKind = 'config' | 'models' | 'outputs';

export interface PermissionOptions {
  kind: PermissionKind;
  /** Return the problem as a warning instead of throwing (`--insecure-permissions`). */
  allowInsecure?: boolean;
  /** Tests only: the platform and user id to check for (default: this process's). */
  platform?: NodeJS.Platform;
  uid?: number;
}

/**
 * Write bits that make a path unsafe. Outputs count too: a file planted there by another account would be shown as
 * if Fooocus had made it (`fooocus audit` applies the same rule).
 */
const UNSAFE_WRITE_BITS = 0o022;

const LABEL: Record<PermissionKind, string> = { config: 'config file', models: 'models directory', outputs: 'outputs directory' };

/**
 * Checks `path` and returns null when it is safe, or a warning for the caller to log: when the check is skipped
 * (Windows) or when `allowInsecure` turned a refusal into a warning. Throws InsecurePermissionsError otherwise.
 * A models or outputs directory that does not exist yet is fine (it will be created with this user's umask).
 */
export async function checkSecurePermissions(path: string, options: PermissionOptions): Promise<string | null> {
  if ((options.platform ?? process.platform) === 'win32') return describeSkippedCheck(path, options.kind);
  let stats: Stats;
  try {
    stats = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && options.kind !== 'config') return null;
    throw err;
  }
  return evaluatePermissions(stats, path, options);
}

/**
 * Checks the configured models and outputs directories, with `security.allowInsecurePermissions` deciding between
 * refusal and warning. Composition roots call this after loadConfig, before anything is loaded or written.
 */
export async function checkConfiguredDirectories(
  config: Pick<AppConfig, 'paths' | 'security'>,
  options: Pick<PermissionOptions, 'platform' | 'uid'> = {},
): Promise<string[]> {
  const allowInsecure = config.security.allowInsecurePermissions;
  const warnings = [
    await checkSecurePermissions(config.paths.models, { ...options, kind: 'models', allowInsecure }),
    await checkSecurePermissions(config.paths.outputs, { ...options, kind: 'outputs', allowInsecure }),
  ];
  return warnings.filter((w) => w !== null);
}

/**
 * The same check on stats already taken (an open handle's fstat), so what is checked is what is read.
 * Returns null or a warning, or throws InsecurePermissionsError; see checkSecurePermissions.
 */
export function evaluatePermissions(stats: Pick<Stats, 'mode' | 'uid'>, path: string, options: PermissionOptions): string | null {
  if ((options.platform ?? process.platform) === 'win32') return describeSkippedCheck(path, options.kind);
  const mode = stats.mode & 0o7777;
  const problem = describeProblem(stats, mode, path, options);
  if (problem === null) return null;
  if (options.allowInsecure === true) {
    return `WARNING: ${problem} (continuing only because insecure permissions were explicitly allowed)`;
  }
  throw new InsecurePermissionsError(path, mode, problem);
}

function describeProblem(stats: Pick<Stats, 'uid'>, mode: number, path: string, options: PermissionOptions): string | null {
  const label = LABEL[options.kind];
  const writers = mode & UNSAFE_WRITE_BITS;
  if (writers !== 0) {
    const who = writers === 0o022 ? 'group and others' : writers === 0o020 ? 'group' : 'others';
    return (
      `${path}: ${label} is writable by ${who} (mode ${formatMode(mode)}), so another account could change what ` +
      `Fooocus loads; fix with: chmod go-w ${quoteForShell(path)}`
    );
  }
  const uid = options.uid ?? process.getuid?.();
  if (uid !== undefined && stats.uid !== uid && stats.uid !== 0) {
    return (
      `${path}: ${label} is owned by uid ${stats.uid}, neither you (uid ${uid}) nor root, so that account can change ` +
      `it; fix with: sudo chown ${uid} ${quoteForShell(path)} (or use a copy you own)`
    );
  }
  return null;
}

function describeSkippedCheck(path: string, kind: PermissionKind): string {
  return `note: permission check of the ${LABEL[kind]} ${path} skipped on Windows (ACLs are not inspected); keep it where only your account can write`;
}

function formatMode(mode: number): string {
  return mode.toString(8).padStart(4, '0');
}

/** The path as a POSIX shell word, so the printed fix can be pasted as is. */
export function quoteForShell(path: string): string {
  return /^[A-Za-z0-9_/.,:@%+=-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}
