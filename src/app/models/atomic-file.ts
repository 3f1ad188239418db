import { randomBytes } from 'node:crypto';
import path from 'node:path';

/** Whole-file atomic writes are the engine's (a hidden temp name beside the file, flushed, renamed into place). */
export { writeFileAtomic, writeFileStreamAtomic, type AtomicWriteOptions } from '../../engine/io/atomic-write.ts';

/** A name for a file being placed into `dir`: hidden, random, and ending in `.tmp` so `audit` can tell leftovers. */
export function createTempName(dir: string, purpose: string): string {
  return path.join(dir, `.${purpose}-${randomBytes(8).toString('hex')}.tmp`);
}
