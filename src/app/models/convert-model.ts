/**
 * `fooocus models convert`: the explicit act of turning a PyTorch checkpoint (upscalers, Fooocus's inpaint head and
 * patch) into a .safetensors in the verified store. The source is hashed, then read by the engine's restricted
 * pickle reader (nothing in it is executed; unknown globals are refused by name), the kind is detected from the
 * tensors, and the tensors are written to a hidden temp name in the store, checked as safetensors, hashed, linked
 * into place without clobbering and recorded in trust.json as "converted from <sha256 of the source>". The pickle
 * itself never enters the store; checkpoint loading keeps refusing pickle.
 */
import { link, mkdir, realpath, rm, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import {
  detectConvertedModelRole,
  openFileSource,
  readSafetensorsHeader,
  readTorchCheckpoint,
  writeTorchTensorsAsSafetensors,
  type ConvertedModelRole,
  type TorchCheckpoint,
} from '../../engine/index.ts';
import { createTempName } from './atomic-file.ts';
import { readFileStamp, sameStamp } from './hash-cache.ts';
import { ModelChangedError, ModelExistsError, UnsupportedModelFileError } from './model-errors.ts';
import type { ModelKind } from './model-kinds.ts';
import { checkModelLayout } from './model-layout.ts';
import { checkContainedFile, toAbsoluteModelPath, toModelKey } from './model-path.ts';
import type { ModelStore } from './model-store.ts';
import { readTrustManifest, recordTrustEntry, type ModelSource } from './trust-manifest.ts';

/** The store kinds a conversion can produce, and the roles (detected from the tensors) each accepts. */
export const CONVERTIBLE_KINDS = {
  upscalers: ['upscaler'],
  inpaint: ['inpaint-head', 'inpaint-patch'],
  controlnet: ['face-detector', 'ip-adapter'],
} as const satisfies Partial<Record<ModelKind, readonly ConvertedModelRole[]>>;

export type ConvertibleKind = keyof typeof CONVERTIBLE_KINDS;

export function isConvertibleKind(kind: string): kind is ConvertibleKind {
  return Object.hasOwn(CONVERTIBLE_KINDS, kind);
}

export type ConvertPhase = 'hashing' | 'converting' | 'verifying';

export interface ConvertModelOptions {
  /** The store kind; detected from the tensors when left out. */
  kind?: ConvertibleKind;
  /** Name inside the kind's directory; defaults to the source's base name with its extension(s) replaced by .safetensors. */
  name?: string;
  /** What trust.json records as the source (a catalog pull passes its entry and URL). */
  source?: ModelSource;
  /** The source's name as trust.json records it; defaults to its base name (a pull passes the published name). */
  sourceName?: string;
  signal?: AbortSignal;
  onProgress?(phase: ConvertPhase, bytesDone: number, total: number): void;
  now?: () => Date;
}

export interface ConvertedModel {
  kind: ConvertibleKind;
  role: ConvertedModelRole;
  name: string;
  path: string;
  size: number;
  sha256: string;
  /** SHA-256 of the PyTorch file. */
  sourceSha256: string;
  tensorCount: number;
  /** Values with no tensor form (strings, None, booleans) that were left out. */
  skipped: string[];
}

export async function convertModel(store: ModelStore, sourceFile: string, options: ConvertModelOptions = {}): Promise<ConvertedModel> {
  const sourceReal = await realpath(sourceFile);
  if (!(await stat(sourceReal)).isFile()) throw new UnsupportedModelFileError(sourceFile, 'not a regular file');
  const name = options.name ?? defaultConvertedName(sourceFile);
  if (path.extname(name).toLowerCase() !== '.safetensors') throw new UnsupportedModelFileError(name, 'the converted file is a .safetensors; give --name a name ending in .safetensors');

  // 1. hash the source, then read its structure (refusals happen here, before anything is written)
  const before = await readFileStamp(sourceReal);
  const sourceSha256 = await store.hashFile(sourceReal, { signal: options.signal, onProgress: (d, t) => options.onProgress?.('hashing', d, t) });
  const source = openFileSource(sourceReal);
  try {
    const checkpoint = readTorchCheckpoint(source, sourceFile);
    const { kind, role } = chooseKind(checkpoint, options.kind, sourceFile);
    const key = toModelKey(kind, name);
    const destination = toAbsoluteModelPath(store.dir, key);
    if ((await readTrustManifest(store.dir)).models[key] !== undefined || (await checkContainedFile(store.dir, destination)) !== null) {
      throw new ModelExistsError(destination);
    }

    // 2. write, check and hash under a temp name, then link into place (no clobber)
    const placed = await placeConverted(store, { kind, checkpoint, source, sourceFile, sourceSha256, destination, options });
    const after = await readFileStamp(sourceReal);
    if (!sameStamp(before, after)) {
      await unlink(destination).catch(() => undefined);
      throw new ModelChangedError(sourceReal, 'sha256', sourceSha256, 'unknown (the source changed while it was converted)');
    }

    // 3. record it, and seed the hash cache so the first resolve does not hash again
    const stamp = await readFileStamp(destination);
    await store.hashCache.remember(key, stamp, placed.sha256);
    const size = Number(stamp.size);
    await recordTrustEntry(store.dir, key, {
      kind,
      size,
      sha256: placed.sha256,
      source: options.source ?? 'local-import',
      verifiedAt: (options.now?.() ?? new Date()).toISOString(),
      convertedFrom: { sha256: sourceSha256, fileName: (options.sourceName ?? path.basename(sourceFile)).slice(0, 255) },
    });
    return { kind, role, name, path: destination, size, sha256: placed.sha256, sourceSha256, tensorCount: checkpoint.tensors.length, skipped: checkpoint.skipped };
  } finally {
    source.close();
  }
}

/** `fooocus_inpaint_head.pth` -> `fooocus_inpaint_head.safetensors`; `inpaint_v26.fooocus.patch` -> `inpaint_v26.fooocus.safetensors`. */
export function defaultConvertedName(sourceFile: string): string {
  const base = path.basename(sourceFile);
  const extension = path.extname(base);
  return `${extension === '' ? base : base.slice(0, -extension.length)}.safetensors`;
}

function chooseKind(checkpoint: TorchCheckpoint, requested: ConvertibleKind | undefined, file: string): { kind: ConvertibleKind; role: ConvertedModelRole } {
  const role = detectConvertedModelRole(checkpoint.tensors);
  const kinds = Object.keys(CONVERTIBLE_KINDS) as ConvertibleKind[];
  const detected = role === null ? undefined : kinds.find((k) => (CONVERTIBLE_KINDS[k] as readonly string[]).includes(role));
  if (requested === undefined) {
    if (role === null || detected === undefined) {
      throw new UnsupportedModelFileError(
        file,
        `the kind of model is unknown: its ${checkpoint.tensors.length} tensors match no known upscaler or inpaint layout; pass --kind ${kinds.join('|')} if you know it`,
      );
    }
    return { kind: detected, role };
  }
  if (detected !== undefined && detected !== requested) {
    throw new UnsupportedModelFileError(file, `--kind ${requested} was given, but the tensors are a model of role ${role} (kind ${detected})`);
  }
  // An undetected layout under an explicit kind is checked against the kind's layout once written (placeConverted).
  return { kind: requested, role: role ?? CONVERTIBLE_KINDS[requested][0] };
}

interface PlaceInput {
  kind: ConvertibleKind;
  checkpoint: TorchCheckpoint;
  source: ReturnType<typeof openFileSource>;
  sourceFile: string;
  sourceSha256: string;
  destination: string;
  options: ConvertModelOptions;
}

async function placeConverted(store: ModelStore, input: PlaceInput): Promise<{ sha256: string }> {
  const { checkpoint, source, sourceFile, sourceSha256, destination, options } = input;
  const dir = path.dirname(destination);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = createTempName(dir, 'convert');
  try {
    await writeTorchTensorsAsSafetensors(source, checkpoint, temp, sourceFile, {
      metadata: { format: 'pt', converted_from_sha256: sourceSha256 },
      signal: options.signal,
      onProgress: (d, t) => options.onProgress?.('converting', d, t),
    });
    // The output must read back as a valid safetensors file of its kind's layout before it gets a name.
    checkModelLayout(input.kind, await readSafetensorsHeader(temp), options.sourceName ?? sourceFile);
    const sha256 = await store.hashFile(temp, { signal: options.signal, onProgress: (d, t) => options.onProgress?.('verifying', d, t) });
    await link(temp, destination).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new ModelExistsError(destination) : err;
    });
    return { sha256 };
  } finally {
    await unlink(temp).catch(() => rm(temp, { force: true }));
  }
}
