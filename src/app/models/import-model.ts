/**
 * `fooocus models import`: the explicit act of trusting a local file. The file is checked (safetensors only, but
 * for the describers' checked ONNX graph and tag list in clip_vision; pickle refused by extension and content, checkpoints must be a known family) and hashed before anything is
 * written; it is then copied (or hard-linked) to a hidden temp name in the store, placed without clobbering, and
 * recorded in trust.json.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, realpath, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkOnnxFile, inspectHeader, PickleFormatError, readSafetensorsHeader } from '../../engine/index.ts';
import { createTempName } from './atomic-file.ts';
import { checkDescriberFile } from './describer-file-check.ts';
import { checkDetectionVocabularyFile } from './detection-vocabulary-check.ts';
import { readFileStamp } from './hash-cache.ts';
import { ModelChangedError, ModelExistsError, UnsupportedModelFileError } from './model-errors.ts';
import type { ModelKind } from './model-kinds.ts';
import { checkModelLayout } from './model-layout.ts';
import { checkContainedFile, toAbsoluteModelPath, toModelKey } from './model-path.ts';
import type { ModelStore } from './model-store.ts';
import { KNOWN_TOKENIZER_ASSETS } from './tokenizer-assets.ts';

/** Kinds whose files may be ONNX graphs (checked by the ONNX checker at import and again when loaded). */
const ONNX_KINDS: ReadonlySet<ModelKind> = new Set(['detection']);
import { readTrustManifest, recordTrustEntry, type ModelSource } from './trust-manifest.ts';

export interface ImportModelOptions {
  kind: ModelKind;
  /** Name inside the kind's directory; defaults to the source file's base name. */
  name?: string;
  /** Hard-link instead of copying (same filesystem only). Later edits through the other link are caught at resolve. */
  link?: boolean;
  signal?: AbortSignal;
  onHashProgress?(bytesDone: number, total: number): void;
  /** Clock for verifiedAt; tests pin it. */
  now?: () => Date;
}

export interface ImportedModel {
  kind: ModelKind;
  name: string;
  path: string;
  size: number;
  sha256: string;
  family: string | null;
}

/** Pickle-based formats: loading one runs code its author chose. Named here so the refusal comes before any read. */
const PICKLE_EXTENSIONS: ReadonlySet<string> = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl', '.pickle']);

/** What checking a file before import found: its digest and, for checkpoints, its family. */
interface CheckedFile {
  sha256: string;
  family: string | null;
}

export async function importModel(store: ModelStore, sourceFile: string, options: ImportModelOptions): Promise<ImportedModel> {
  const { kind } = options;
  const name = options.name ?? path.basename(sourceFile);
  const key = toModelKey(kind, name);
  const destination = toAbsoluteModelPath(store.dir, key);
  const sourceReal = await realpath(sourceFile);
  if (!(await stat(sourceReal)).isFile()) throw new UnsupportedModelFileError(sourceFile, 'not a regular file');

  // 1. check and hash the source before writing anything
  const checked = await checkImportFile(store, kind, name, sourceFile, sourceReal, options);

  // 2. place it: a file already at the destination is accepted only if it is the source itself (in-place import)
  const inPlace = (await checkContainedFile(store.dir, destination)) !== null && (await realpath(destination)) === sourceReal;
  if (!inPlace) {
    if ((await readTrustManifest(store.dir)).models[key] !== undefined) throw new ModelExistsError(destination);
    await placeFile(store, sourceReal, destination, checked.sha256, options);
  }

  // 3. record it, and seed the hash cache so the first resolve does not hash again
  const stamp = await readFileStamp(destination);
  await store.hashCache.remember(key, stamp, checked.sha256);
  const size = Number(stamp.size);
  const source: ModelSource = 'local-import';
  await recordTrustEntry(store.dir, key, {
    kind,
    size,
    sha256: checked.sha256,
    source,
    verifiedAt: (options.now?.() ?? new Date()).toISOString(),
    ...(checked.family === null ? {} : { family: checked.family }),
  });
  return { kind, name, path: destination, size, sha256: checked.sha256, family: checked.family };
}

/** Format and content checks per kind, then the SHA-256 of the source. Nothing is written. */
async function checkImportFile(
  store: ModelStore,
  kind: ModelKind,
  name: string,
  sourceFile: string,
  sourceReal: string,
  options: ImportModelOptions,
): Promise<CheckedFile> {
  const hashOptions = { onProgress: options.onHashProgress, signal: options.signal };
  if (kind === 'tokenizers') {
    const pinned = KNOWN_TOKENIZER_ASSETS[name];
    if (pinned === undefined) {
      const known = Object.keys(KNOWN_TOKENIZER_ASSETS).join(', ');
      throw new UnsupportedModelFileError(sourceFile, `not a known tokenizer asset; the tokenizers kind accepts only ${known} (pinned SHA-256)`);
    }
    const sha256 = await store.hashFile(sourceReal, hashOptions);
    if (sha256 !== pinned.sha256) {
      throw new UnsupportedModelFileError(sourceFile, `SHA-256 is ${sha256}, but ${name} must be ${pinned.sha256} (${pinned.source})`);
    }
    return { sha256, family: null };
  }
  if (checkDescriberFile(kind, name, sourceFile) || checkDetectionVocabularyFile(kind, name, sourceFile)) return { sha256: await store.hashFile(sourceReal, hashOptions), family: null };
  if (ONNX_KINDS.has(kind) && [sourceFile, name].every((file) => path.extname(file).toLowerCase() === '.onnx')) {
    // A published ONNX graph (a foreground-mask model): checked as ONNX Runtime would be given it, before it is placed.
    checkOnnxFile(sourceFile);
    return { sha256: await store.hashFile(sourceReal, hashOptions), family: null };
  }
  for (const file of [sourceFile, name]) {
    const extension = path.extname(file).toLowerCase();
    if (PICKLE_EXTENSIONS.has(extension)) throw new PickleFormatError(file, 'extension');
    if (extension !== '.safetensors') throw new UnsupportedModelFileError(file, `only .safetensors files can be imported as ${kind}`);
  }
  // Also refuses pickle or PyTorch zip content behind a .safetensors name, with the engine's explanation.
  const header = await readSafetensorsHeader(sourceFile);
  checkModelLayout(kind, header, sourceFile);
  const family = kind === 'checkpoints' ? inspectHeader(header).architecture.family : null;
  return { sha256: await store.hashFile(sourceReal, hashOptions), family };
}

/** Copies or links to a temp name, proves the placed bytes hash as checked, then links it into place (no clobber). */
async function placeFile(store: ModelStore, sourceReal: string, destination: string, sha256: string, options: ImportModelOptions): Promise<void> {
  const dir = path.dirname(destination);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = createTempName(dir, 'import');
  try {
    let placed: string;
    if (options.link === true) {
      await link(sourceReal, temp);
      placed = await store.hashFile(temp, { onProgress: options.onHashProgress, signal: options.signal });
    } else {
      placed = await copyWithSha256(sourceReal, temp, options.signal);
    }
    if (placed !== sha256) throw new ModelChangedError(sourceReal, 'sha256', sha256, `${placed} (the source changed while it was imported)`);
    await link(temp, destination).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new ModelExistsError(destination) : err;
    });
  } finally {
    await unlink(temp).catch(() => rm(temp, { force: true }));
  }
}

/** Streams `from` into a new file `to` (refusing to overwrite) and returns the SHA-256 of exactly the bytes written. */
async function copyWithSha256(from: string, to: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(createReadStream(from, { highWaterMark: 1 << 20 }), tap, createWriteStream(to, { flags: 'wx', mode: 0o644 }), { signal });
  return hash.digest('hex');
}
