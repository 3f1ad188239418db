/**
 * Where wildcard files come from. The prompt code only sees this interface; the app passes the user's wildcards
 * folder layered over the ones the application ships (data/wildcards), tests pass an in-memory map. A reader returns
 * `undefined` for a missing file and refuses one larger than `maxBytes` before reading it.
 */
import { closeSync, fstatSync, openSync, readSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { WildcardFileError } from './creative-errors.ts';

export interface WildcardReader {
  /** `relativePath` is already validated (`name.txt`, forward slashes, no `..`). */
  read(relativePath: string, maxBytes: number): string | undefined;
  /**
   * Where it looks, for the message about a missing file ("wildcards/ beside the models folder"). Requests answer
   * API clients, so this names folders the way the user configured them, never by absolute path.
   */
  readonly where: string;
}

export function createMemoryWildcardReader(files: Readonly<Record<string, string>>, where = 'the given wildcard files'): WildcardReader {
  return {
    where,
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
export function createDirectoryWildcardReader(dir: string, where: string = dir): WildcardReader {
  return {
    where,
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

/** The first reader that has the file wins: the user's folder first, so a user file replaces a shipped one. */
export function createLayeredWildcardReader(readers: readonly WildcardReader[]): WildcardReader {
  return {
    where: readers.map((r) => r.where).join(' or '),
    read(relativePath, maxBytes) {
      for (const reader of readers) {
        const text = reader.read(relativePath, maxBytes);
        if (text !== undefined) return text;
      }
      return undefined;
    },
  };
}
