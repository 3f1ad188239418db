/**
 * The model store: a models directory whose files are loaded only after they are proven to be the bytes the user
 * (or a signed catalog) vouched for. `resolve` is the one way to get a model path for loading; it checks the
 * manifest entry, the size and the SHA-256 before it returns, so no parser ever sees an unverified byte.
 */
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { sha256File } from '../../engine/index.ts';
import { HASH_CACHE_FILE, HashCache, readFileStamp, sameStamp, type FileHasher, type FileStamp } from './hash-cache.ts';
import { ModelChangedError, ModelNotFoundError, UntrustedModelError } from './model-errors.ts';
import type { ModelKind } from './model-kinds.ts';
import { checkContainedFile, parseModelKey, toAbsoluteModelPath, toModelKey } from './model-path.ts';
import { readTrustManifest, type ModelSource, type TrustEntry } from './trust-manifest.ts';

export interface OpenModelStoreOptions {
  /** Where the hash cache lives; defaults to `<models>/.trust-cache.json`. */
  cacheFile?: string;
  /** SHA-256 over a file (the engine's streaming hasher by default); tests inject a counting one. */
  hashFile?: FileHasher;
}

export interface ResolveOptions {
  signal?: AbortSignal;
  onHashProgress?(bytesDone: number, total: number): void;
}

/** One trusted model as `fooocus models list` shows it. */
export interface ModelListing {
  kind: ModelKind;
  name: string;
  size: number;
  sha256: string;
  source: ModelSource;
  verifiedAt: string;
  family: string | null;
  /** SHA-256 of the PyTorch file this one was converted from, or null for a file stored as published. */
  convertedFrom: string | null;
}

export interface ModelStore {
  /** Absolute real path of the models directory. */
  readonly dir: string;
  readonly hashFile: FileHasher;
  readonly hashCache: HashCache;
  /**
   * The absolute path of a model that is in the manifest and whose size and SHA-256 match it right now (the hash
   * comes from the cache only while the file's dev, inode, size, mtime and ctime are unchanged).
   */
  resolve(kind: ModelKind, name: string, options?: ResolveOptions): Promise<string>;
  /** The manifest's entries; reads nothing but the manifest. */
  list(): Promise<ModelListing[]>;
}

/** Opens the models directory at `dir`. Writes nothing: a store without trust.json simply trusts nothing. */
export async function openModelStore(dir: string, options: OpenModelStoreOptions = {}): Promise<ModelStore> {
  const absolute = path.resolve(dir);
  const real = await realpath(absolute).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? absolute : Promise.reject(err)));
  const hashFile = options.hashFile ?? ((file, o) => sha256File(file, o));
  const hashCache = new HashCache(options.cacheFile ?? path.join(real, HASH_CACHE_FILE));
  const store: ModelStore = {
    dir: real,
    hashFile,
    hashCache,
    resolve: (kind, name, o) => resolveModel(store, kind, name, o ?? {}),
    list: () => listModels(real),
  };
  return store;
}

async function resolveModel(store: ModelStore, kind: ModelKind, name: string, options: ResolveOptions): Promise<string> {
  const key = toModelKey(kind, name);
  const file = toAbsoluteModelPath(store.dir, key);
  const entry = (await readTrustManifest(store.dir)).models[key];
  const present = await checkContainedFile(store.dir, file);
  if (entry === undefined) {
    if (present === null) throw new ModelNotFoundError(kind, name, 'no such file in', path.join(store.dir, kind));
    throw new UntrustedModelError(kind, name, file);
  }
  if (present === null) throw new ModelNotFoundError(kind, name, 'listed in trust.json but missing from', path.join(store.dir, kind));
  await verifyModelFile(store, key, entry, { ...options, useCache: true });
  return file;
}

export interface VerifyModelOptions extends ResolveOptions {
  /** false: always hash the whole file (audit), and do not trust or update the cache. */
  useCache: boolean;
}

/**
 * Checks the size, then the SHA-256 of the file at `key` against `entry`. The file's stamp is taken before and
 * after hashing; a file that changed while it was read is refused rather than cached.
 */
export async function verifyModelFile(store: ModelStore, key: string, entry: TrustEntry, options: VerifyModelOptions): Promise<void> {
  const file = toAbsoluteModelPath(store.dir, key);
  const before = await readFileStamp(file);
  if (before.size !== String(entry.size)) throw new ModelChangedError(file, 'size', `${entry.size} bytes`, `${before.size} bytes`, key);
  const sha256 = await hashWithCache(store, key, file, before, options);
  if (sha256 !== entry.sha256) throw new ModelChangedError(file, 'sha256', entry.sha256, sha256, key);
}

async function hashWithCache(store: ModelStore, key: string, file: string, before: FileStamp, options: VerifyModelOptions): Promise<string> {
  if (options.useCache) {
    const cached = await store.hashCache.lookup(key, before);
    if (cached !== null) return cached;
  }
  const sha256 = await store.hashFile(file, { onProgress: options.onHashProgress, signal: options.signal });
  const after = await readFileStamp(file);
  if (!sameStamp(before, after)) {
    throw new ModelChangedError(file, 'sha256', 'the recorded digest', 'unknown (the file changed while it was being hashed)', key);
  }
  if (options.useCache) await store.hashCache.remember(key, after, sha256);
  return sha256;
}

async function listModels(dir: string): Promise<ModelListing[]> {
  const manifest = await readTrustManifest(dir);
  return Object.entries(manifest.models).map(([key, e]) => ({
    kind: e.kind,
    name: parseModelKey(key).name,
    size: e.size,
    sha256: e.sha256,
    source: e.source,
    verifiedAt: e.verifiedAt,
    family: e.family ?? null,
    convertedFrom: e.convertedFrom?.sha256 ?? null,
  }));
}

