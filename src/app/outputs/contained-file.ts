/**
 * Opens a file only if it really lies inside a root directory: the one way the studio reads uploads and serves
 * images, so a link planted in the outputs directory cannot make the server read (or hand out) a file elsewhere.
 *
 * What must stay true, and why each check is here:
 * - the real path (every symlink resolved) is inside the root's real path: a symlink anywhere on the way out is refused;
 * - the last component is opened with O_NOFOLLOW: a file swapped for a symlink after realpath fails to open;
 * - after opening, the real path is resolved again and must still be inside and name the very file the handle holds
 *   (same device and inode): a directory on the way swapped for a link between realpath and open is caught;
 * - the handle is a regular file (fstat, not stat of the name): FIFOs, devices and directories are refused, and
 *   O_NONBLOCK keeps a FIFO from blocking the open itself;
 * - it has one link: a hard link names the same inode as a file outside, which no path check can tell apart.
 */
import { constants, type FileHandle } from 'node:fs/promises';
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** Why a file was not opened. The message names the rule, never the root; callers log it and answer "not found". */
export class ContainedFileError extends Error {
  override readonly name = 'ContainedFileError';
  constructor(
    readonly reason: 'missing' | 'outside' | 'not-regular' | 'hard-link' | 'changed' | 'too-large',
    message: string,
  ) {
    super(message);
  }
}

export interface ContainedFile {
  handle: FileHandle;
  /** From fstat of the open handle. */
  size: number;
  /** The file's real path, inside the root. */
  realPath: string;
}

/** The open flags: read only, never follow a final symlink, never block on a FIFO. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export interface ContainedFileOptions {
  /** The real path must be exactly the path asked for: no symlink anywhere below the root (default false). */
  exact?: boolean;
}

/**
 * Opens `target` (a path relative to `root`, or an absolute path) for reading. The caller closes the handle.
 * Throws ContainedFileError for every refusal; other errors (EMFILE, EIO) pass through.
 */
export async function openContainedFile(root: string, target: string, options: ContainedFileOptions = {}): Promise<ContainedFile> {
  if (target.length === 0 || target.includes('\0')) throw new ContainedFileError('missing', 'the path is empty or has a NUL byte');
  const realRoot = await realpath(root);
  const wanted = path.resolve(realRoot, target);
  const real = await realpath(wanted).catch(() => null);
  if (real === null) throw new ContainedFileError('missing', 'the file does not exist');
  if (!isInside(realRoot, real)) throw new ContainedFileError('outside', 'the file resolves outside its directory');
  if (options.exact === true && real !== wanted) throw new ContainedFileError('outside', 'the path goes through a link');
  const handle = await open(real, OPEN_FLAGS).catch((error: unknown) => {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK') throw new ContainedFileError('changed', 'the file was replaced by a link while it was opened');
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new ContainedFileError('missing', 'the file does not exist');
    throw error;
  });
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new ContainedFileError('not-regular', 'the file is not a regular file');
    if (opened.nlink !== 1) throw new ContainedFileError('hard-link', `the file has ${opened.nlink} links; only a file with one link is read`);
    const again = await realpath(real).catch(() => null);
    const named = again === null ? null : await stat(again).catch(() => null);
    const moved = again === null || (options.exact === true ? again !== wanted : !isInside(realRoot, again));
    if (moved || named === null || named.dev !== opened.dev || named.ino !== opened.ino) {
      throw new ContainedFileError('changed', 'the file or a directory above it changed while it was opened');
    }
    return { handle, size: opened.size, realPath: again };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads a whole contained file, refusing one larger than `maxBytes` before reading it. */
export async function readContainedFile(root: string, target: string, maxBytes: number, options: ContainedFileOptions = {}): Promise<Buffer> {
  const file = await openContainedFile(root, target, options);
  try {
    if (file.size > maxBytes) throw new ContainedFileError('too-large', `the file has ${file.size} bytes, more than ${maxBytes}`);
    const bytes = Buffer.alloc(file.size);
    const { bytesRead } = await file.handle.read(bytes, 0, file.size, 0);
    if (bytesRead !== file.size) throw new ContainedFileError('changed', 'the file changed size while it was read');
    return bytes;
  } finally {
    await file.handle.close();
  }
}

/** True when `child` is strictly below `root` (both real, absolute paths). */
export function isInside(root: string, child: string): boolean {
  const relative = path.relative(root, child);
  return relative !== '' && relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative);
}
