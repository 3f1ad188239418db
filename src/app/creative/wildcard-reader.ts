/**
 * Where wildcard files come from. The prompt code only sees this interface; the app passes a reader over the
 * configured wildcards folder, tests pass an in-memory map. A reader returns `undefined` for a missing file and
 * refuses one larger than `maxBytes` before reading it.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { WildcardFileError } from './creative-errors.ts';

export interface WildcardReader {
  /** `relativePath` is already validated (`name.txt`, forward slashes, no `..`). */
  read(relativePath: string, maxBytes: number): string | undefined;
}

export function createMemoryWildcardReader(files: Readonly<Record<string, string>>): WildcardReader {
  return {
    read(relativePath, maxBytes) {
      if (!Object.hasOwn(files, relativePath)) return undefined;
      const text = files[relativePath] as string;
      const size = Buffer.byteLength(text, 'utf8');
      if (size > maxBytes) throw new WildcardFileError(relativePath, `is ${size} bytes; the limit is ${maxBytes}`);
      return text;
    },
  };
}

/** Reads `<dir>/<relativePath>`, refusing anything whose real path (symlinks followed) leaves `dir`. */
export function createDirectoryWildcardReader(dir: string): WildcardReader {
  return {
    read(relativePath, maxBytes) {
      let root: string;
      let real: string;
      try {
        root = realpathSync(dir);
        real = realpathSync(path.resolve(root, relativePath));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new WildcardFileError(relativePath, (err as Error).message);
      }
      if (!real.startsWith(root + path.sep)) throw new WildcardFileError(relativePath, 'resolves outside the wildcards folder');
      const fd = openSync(real, 'r');
      try {
        const info = fstatSync(fd);
        if (!info.isFile()) return undefined;
        if (info.size > maxBytes) throw new WildcardFileError(relativePath, `is ${info.size} bytes; the limit is ${maxBytes}`);
        const buffer = Buffer.alloc(info.size);
        let offset = 0;
        while (offset < info.size) {
          const n = readSync(fd, buffer, offset, info.size - offset, offset);
          if (n === 0) break;
          offset += n;
        }
        return buffer.subarray(0, offset).toString('utf8');
      } finally {
        closeSync(fd);
      }
    },
  };
}
