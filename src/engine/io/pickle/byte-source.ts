/**
 * Random access to the bytes of a checkpoint, in memory or in a file. Reads are synchronous and bounded by the
 * caller: the reader only ever asks for the zip directory, data.pkl and one chunk of tensor data at a time.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface ByteSource {
  readonly size: number;
  /** Exactly `length` bytes from `offset`; the caller has checked that the range lies inside the source. */
  read(offset: number, length: number): Uint8Array;
}

export function createBufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

export interface FileSource extends ByteSource {
  close(): void;
}

/** Opens a regular file for reading; anything else (a directory, a pipe) is refused by the caller's stat. */
export function openFileSource(path: string): FileSource {
  const fd = openSync(path, 'r');
  let size: number;
  try {
    size = fstatSync(fd).size;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        // The file shrank after it was opened: hand back what is there; the caller's checks then fail cleanly.
        if (n === 0) return out.subarray(0, done);
        done += n;
      }
      return out;
    },
    close: () => closeSync(fd),
  };
}
