/**
 * The one way a file is written in place: its bytes go to a hidden temporary name beside it, are flushed, and the
 * temporary file is renamed over the target, so a reader sees the old content or the new, never a torn write. A
 * failure (or a crash) leaves at most a stray `.<name>.<random>.tmp`, which is removed on failure and which
 * `audit` and the sweeps recognise.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of the new file (0o644 unless given). */
  readonly mode?: number;
  /** Access and modification time, in seconds since the epoch, set before the rename (the upload store's expiry clock). */
  readonly mtimeSeconds?: number;
}

/** Appends bytes (or UTF-8 text) to the file being written. */
export type AtomicWrite = (chunk: Uint8Array | string) => Promise<void>;

/** Writes `file` through `body`, which may write any number of chunks; renamed into place only once complete. */
export async function writeFileStreamAtomic(file: string, body: (write: AtomicWrite) => Promise<void>, options: AtomicWriteOptions = {}): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', options.mode ?? 0o644);
  try {
    // writeFile writes the whole chunk from the current position on, so successive chunks follow one another.
    await body((chunk) => handle.writeFile(chunk));
    if (options.mtimeSeconds !== undefined) await handle.utimes(options.mtimeSeconds, options.mtimeSeconds);
    await handle.sync();
    await handle.close();
    await rename(temp, file);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
}

/** Writes `data` as the whole content of `file`, atomically (see writeFileStreamAtomic). */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  await writeFileStreamAtomic(file, (write) => write(data), options);
}
