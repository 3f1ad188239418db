/**
 * Pulling a model named by a verified catalog entry: the injected downloader (the app's secure downloader in
 * production) fetches it over https into a hidden temp file in the store and checks size and SHA-256; the store
 * then checks them again itself (it does not depend on the injected function being right, and this seeds the
 * hash cache), places the file without clobbering, and records `{ catalog: id, url }` as its source. An entry
 * with `convertTo` (a PyTorch file) is converted after that verification by the same use case as `models convert`;
 * only the converted .safetensors enters the store, recorded as converted from the published file's SHA-256.
 */
import { link, mkdir, rm, unlink } from 'node:fs/promises';
import path from 'node:path';
import { inspectHeader, readSafetensorsHeader } from '../../engine/index.ts';
import { createTempName } from './atomic-file.ts';
import type { CatalogEntry } from './catalog.ts';
import { convertModel, isConvertibleKind, type ConvertPhase } from './convert-model.ts';
import { readFileStamp } from './hash-cache.ts';
import { ModelChangedError, ModelExistsError, UnsupportedModelFileError } from './model-errors.ts';
import { checkModelLayout } from './model-layout.ts';
import { checkContainedFile, toAbsoluteModelPath, toModelKey } from './model-path.ts';
import type { ModelStore } from './model-store.ts';
import { readTrustManifest, recordTrustEntry } from './trust-manifest.ts';

export interface DownloadRequest {
  url: string;
  destination: string;
  expectedSha256: string;
  expectedSize: number;
  onProgress?(bytesDone: number, total: number): void;
  signal?: AbortSignal;
}

/** Downloads `url` to `destination`, refusing (and removing) anything whose size or SHA-256 differs. */
export type DownloadFunction = (request: DownloadRequest) => Promise<unknown>;

export interface PullModelOptions {
  download: DownloadFunction;
  onProgress?(bytesDone: number, total: number): void;
  /** Progress of the conversion of a PyTorch entry, after its download. */
  onConvertProgress?(phase: ConvertPhase, bytesDone: number, total: number): void;
  signal?: AbortSignal;
  now?: () => Date;
}

export interface PulledModel {
  path: string;
  url: string;
  /** false when the same file was already in the store and verified. */
  downloaded: boolean;
  /** Set for a converted entry: the SHA-256 of the converted file in the store. */
  convertedSha256?: string;
}

export async function pullModel(store: ModelStore, entry: CatalogEntry, options: PullModelOptions): Promise<PulledModel> {
  const storedName = entry.convertTo ?? entry.fileName;
  const key = toModelKey(entry.kind, storedName);
  const destination = toAbsoluteModelPath(store.dir, key);
  const existing = (await readTrustManifest(store.dir)).models[key];
  const publishedSha256 = entry.convertTo === undefined ? existing?.sha256 : existing?.convertedFrom?.sha256;
  if (existing !== undefined && publishedSha256 === entry.sha256) {
    await store.resolve(entry.kind, storedName, { signal: options.signal });
    const url = typeof existing.source === 'object' && existing.source.url !== undefined ? existing.source.url : entry.urls[0]!;
    return { path: destination, url, downloaded: false };
  }
  if (existing !== undefined || (await checkContainedFile(store.dir, destination)) !== null) throw new ModelExistsError(destination);

  const dir = path.dirname(destination);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = createTempName(dir, 'pull');
  try {
    const url = await downloadFromFirstWorkingUrl(entry, temp, options);
    if (entry.convertTo !== undefined) return await convertPulled(store, entry, entry.convertTo, temp, url, options);
    const family = await verifyDownloaded(store, entry, temp, options.signal);
    await link(temp, destination).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new ModelExistsError(destination) : err;
    });
    // Drop the temp name before taking the stamp: unlinking changes the inode's ctime.
    await unlink(temp);
    const stamp = await readFileStamp(destination);
    await store.hashCache.remember(key, stamp, entry.sha256);
    await recordTrustEntry(store.dir, key, {
      kind: entry.kind,
      size: entry.size,
      sha256: entry.sha256,
      source: { catalog: entry.id, url },
      verifiedAt: (options.now?.() ?? new Date()).toISOString(),
      ...(family === null ? {} : { family }),
    });
    return { path: destination, url, downloaded: true };
  } finally {
    await unlink(temp).catch(() => rm(temp, { force: true }));
  }
}

/** Checks the download like any other, then converts it; the converted file is what the store records. */
async function convertPulled(store: ModelStore, entry: CatalogEntry, name: string, temp: string, url: string, options: PullModelOptions): Promise<PulledModel> {
  await verifyDownloaded(store, entry, temp, options.signal);
  // The catalog's validation already ties convertTo to these kinds; this keeps the type honest.
  if (!isConvertibleKind(entry.kind)) throw new UnsupportedModelFileError(entry.fileName, `kind ${entry.kind} is not converted`);
  const converted = await convertModel(store, temp, {
    kind: entry.kind,
    name,
    source: { catalog: entry.id, url },
    sourceName: entry.fileName,
    signal: options.signal,
    now: options.now,
    onProgress: options.onConvertProgress,
  });
  return { path: converted.path, url, downloaded: true, convertedSha256: converted.sha256 };
}

/** Tries the entry's URLs in order; a failure (not a cancellation) moves on to the next mirror. */
async function downloadFromFirstWorkingUrl(entry: CatalogEntry, temp: string, options: PullModelOptions): Promise<string> {
  let lastError: unknown;
  for (const url of entry.urls) {
    try {
      await options.download({
        url,
        destination: temp,
        expectedSha256: entry.sha256,
        expectedSize: entry.size,
        onProgress: options.onProgress,
        signal: options.signal,
      });
      return url;
    } catch (err) {
      options.signal?.throwIfAborted();
      lastError = err;
      await rm(temp, { force: true });
    }
  }
  throw lastError;
}

/** Size, SHA-256, then (only for verified bytes, and not for a PyTorch file) the safetensors header and, for checkpoints, the family. */
async function verifyDownloaded(store: ModelStore, entry: CatalogEntry, temp: string, signal?: AbortSignal): Promise<string | null> {
  const stamp = await readFileStamp(temp);
  if (stamp.size !== String(entry.size)) throw new ModelChangedError(temp, 'size', `${entry.size} bytes`, `${stamp.size} bytes`);
  const sha256 = await store.hashFile(temp, { signal });
  if (sha256 !== entry.sha256) throw new ModelChangedError(temp, 'sha256', entry.sha256, sha256);
  if (entry.kind === 'tokenizers' || entry.convertTo !== undefined) return null;
  const header = await readSafetensorsHeader(temp);
  checkModelLayout(entry.kind, header, entry.fileName);
  return entry.kind === 'checkpoints' ? inspectHeader(header).architecture.family : null;
}
