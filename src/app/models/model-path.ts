/**
 * Where a model lives inside the models directory. A model is named by its kind and a name relative to the kind's
 * subdirectory; the manifest keys it by `<kind>/<name>`. No name may climb out of the directory, be absolute, or
 * reach outside through a symlink.
 */
import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { UnsafeModelPathError } from './model-errors.ts';
import { isModelKind, type ModelKind } from './model-kinds.ts';

/** Refuses names that could resolve outside the kind's directory or that differ between platforms. */
export function checkModelName(name: string): void {
  if (name.length === 0 || name.length > 255 * 4) throw new UnsafeModelPathError(name, 'empty or too long');
  if (name.includes('\0')) throw new UnsafeModelPathError(name, 'contains a NUL byte');
  if (name.includes('\\')) throw new UnsafeModelPathError(name, 'contains a backslash');
  if (path.posix.isAbsolute(name) || path.win32.isAbsolute(name)) throw new UnsafeModelPathError(name, 'is absolute');
  for (const segment of name.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') {
      throw new UnsafeModelPathError(name, 'has an empty, "." or ".." path segment');
    }
  }
}

/** The manifest key of a model: `<kind>/<name>`, always with forward slashes. */
export function toModelKey(kind: ModelKind, name: string): string {
  checkModelName(name);
  return `${kind}/${name}`;
}

/** Splits and checks a manifest key; throws UnsafeModelPathError when it is not `<kind>/<safe name>`. */
export function parseModelKey(key: string): { kind: ModelKind; name: string } {
  const slash = key.indexOf('/');
  const kind = slash === -1 ? key : key.slice(0, slash);
  if (!isModelKind(kind)) throw new UnsafeModelPathError(key, 'does not start with a model kind directory');
  const name = key.slice(slash + 1);
  checkModelName(name);
  return { kind, name };
}

export function toAbsoluteModelPath(storeDir: string, key: string): string {
  return path.join(storeDir, ...key.split('/'));
}

/**
 * Checks that the file at `file` is a regular file whose real location (after following symlinks) is inside
 * `storeRealDir`. Returns null when nothing exists there.
 */
export async function checkContainedFile(storeRealDir: string, file: string): Promise<'file' | null> {
  let linkStats;
  try {
    linkStats = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const real = await realpath(file).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new UnsafeModelPathError(file, 'is a dangling symlink');
    throw err;
  });
  const relative = path.relative(storeRealDir, real);
  if (relative === '' || relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw new UnsafeModelPathError(file, linkStats.isSymbolicLink() ? 'is a symlink pointing outside the models directory' : 'resolves outside the models directory');
  }
  const stats = linkStats.isSymbolicLink() ? await lstat(real) : linkStats;
  if (!stats.isFile()) throw new UnsafeModelPathError(file, 'is not a regular file');
  return 'file';
}
