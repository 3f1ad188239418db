/**
 * Remembers the SHA-256 of model files so a start does not re-read gigabytes. An entry is reused only while the
 * file's identity and change stamps are exactly what they were when it was hashed: device, inode, size, and
 * nanosecond mtime and ctime. Any write changes ctime (and a user cannot set ctime back, unlike mtime with
 * utimes), so any change forces a full re-hash.
 *
 * What must stay true: the cache is trusted exactly as much as trust.json (same directory, same permissions;
 * whoever can rewrite one can rewrite the other), and `fooocus audit` ignores it and re-hashes everything.
 */
import { readFile, stat } from 'node:fs/promises';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { writeFileAtomic } from './atomic-file.ts';

export const HASH_CACHE_FILE = '.trust-cache.json';

const FileStampSchema = Type.Object(
  {
    dev: Type.String({ pattern: '^\\d+$' }),
    ino: Type.String({ pattern: '^\\d+$' }),
    size: Type.String({ pattern: '^\\d+$' }),
    mtimeNs: Type.String({ pattern: '^-?\\d+$' }),
    ctimeNs: Type.String({ pattern: '^-?\\d+$' }),
  },
  { additionalProperties: false },
);

const CacheEntrySchema = Type.Object({ stamp: FileStampSchema, sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) }, { additionalProperties: false });
const HashCacheSchema = Type.Object({ version: Type.Literal(1), files: Type.Record(Type.String(), CacheEntrySchema) }, { additionalProperties: false });

/** The stat fields that identify one version of a file; bigints as decimal strings so JSON keeps them exact. */
export type FileStamp = Static<typeof FileStampSchema>;
type HashCacheData = Static<typeof HashCacheSchema>;

/** A SHA-256 function over a file; injectable so tests can count full hashes. */
export type FileHasher = (file: string, options: { onProgress?(done: number, total: number): void; signal?: AbortSignal }) => Promise<string>;

export async function readFileStamp(file: string): Promise<FileStamp> {
  const s = await stat(file, { bigint: true });
  return { dev: String(s.dev), ino: String(s.ino), size: String(s.size), mtimeNs: String(s.mtimeNs), ctimeNs: String(s.ctimeNs) };
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** A file-backed map from absolute path to (stamp, sha256). Writes are serialized and atomic. */
export class HashCache {
  readonly file: string;
  private data: HashCacheData | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(file: string) {
    this.file = file;
  }

  /** The cached hash when `stamp` matches the stamp recorded with it exactly, else null. */
  async lookup(key: string, stamp: FileStamp): Promise<string | null> {
    const entry = (await this.load()).files[key];
    return entry !== undefined && sameStamp(entry.stamp, stamp) ? entry.sha256 : null;
  }

  async remember(key: string, stamp: FileStamp, sha256: string): Promise<void> {
    const data = await this.load();
    data.files[key] = { stamp, sha256 };
    const text = JSON.stringify(data) + '\n';
    this.writing = this.writing.then(() => writeFileAtomic(this.file, text)).catch(() => undefined);
    await this.writing;
  }

  /** A missing, unreadable or malformed cache is an empty one: it only ever saves work. */
  private async load(): Promise<HashCacheData> {
    if (this.data !== null) return this.data;
    let loaded: HashCacheData = { version: 1, files: {} };
    try {
      const parsed: unknown = JSON.parse(await readFile(this.file, 'utf8'));
      if (Value.Check(HashCacheSchema, parsed)) loaded = parsed;
    } catch {
      // no cache yet, or a damaged one: start empty
    }
    this.data ??= loaded;
    return this.data;
  }
}
