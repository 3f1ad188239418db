import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

export interface Sha256FileOptions {
  /** Called after each chunk; `total` is the file size when hashing began. */
  onProgress?(bytesDone: number, total: number): void;
  /** Aborting stops the read and rejects with the signal's reason (an AbortError by default). */
  signal?: AbortSignal;
}

/** Streams a file through SHA-256 in constant memory and returns the lowercase hex digest. */
export async function sha256File(path: string, options: Sha256FileOptions = {}): Promise<string> {
  const { onProgress, signal } = options;
  signal?.throwIfAborted();
  const { size: total } = await stat(path);
  signal?.throwIfAborted();
  const hash = createHash('sha256');
  let bytesDone = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20, signal });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytesDone += chunk.length;
    onProgress?.(bytesDone, total);
    // The stream notices an abort only between reads; checking here also covers the callback aborting.
    signal?.throwIfAborted();
  }
  return hash.digest('hex');
}
