import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** What `writeFileAtomic` sets on the new file besides its bytes. */
export interface AtomicWriteOptions {
  /** File mode of the new file (0o644 unless given). */
  readonly mode?: number;
  /** Access and modification time, in seconds since the epoch, set before the rename (the upload store's expiry clock). */
  readonly mtimeSeconds?: number;
}

/**
 * Writes `data` to a temporary file beside `file`, flushes it and renames it over `file`, so a reader sees either
 * the old content or the new, never a torn write (a crash mid-write leaves only a stray temp file).
 */
export async function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  options: number | AtomicWriteOptions = {},
): Promise<void> {
  const { mode = 0o644, mtimeSeconds } = typeof options === 'number' ? { mode: options } : options;
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    if (mtimeSeconds !== undefined) await handle.utimes(mtimeSeconds, mtimeSeconds);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** A name for a file being placed into `dir`: hidden, random, and ending in `.tmp` so `audit` can tell leftovers. */
export function createTempName(dir: string, purpose: string): string {
  return path.join(dir, `.${purpose}-${randomBytes(8).toString('hex')}.tmp`);
}
