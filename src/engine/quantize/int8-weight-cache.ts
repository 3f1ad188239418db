/**
 * The int8 weights of a checkpoint, quantized once and kept in a .safetensors file beside the checkpoint store,
 * so that later loads read them instead of quantizing again. The file is named by the checkpoint's SHA-256, the
 * scheme and its version; its own SHA-256 sits in a sidecar and is checked on every read. A file that fails any
 * check (digest, scheme, a missing or mis-shaped tensor) is deleted and rebuilt, never used.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic, writeFileStreamAtomic } from '../io/atomic-write.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../io/safetensors-reader.ts';
import { encodeSafetensorsHeader, type TensorHeaderEntry } from '../io/safetensors-writer.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { sha256File } from '../io/sha256.ts';
import { quantizeWeightInt8 } from './int8-quantization.ts';

export const INT8_SCHEME = 'int8-per-channel-symmetric';
/** Bump when the codes or their layout change: older files then no longer match and are rebuilt. */
export const INT8_SCHEME_VERSION = '1';

/** Tensor names of one weight's codes [K, N] and scales [N] in the int8 file. */
export function int8TensorNames(key: string): { codes: string; scales: string } {
  return { codes: `${key}#int8`, scales: `${key}#scale` };
}

export interface Int8WeightFile {
  /** The verified file's header; its tensors are `int8TensorNames(key)` for every key. */
  header: SafetensorsHeader;
  keys: ReadonlySet<string>;
  /** How this call got the file. */
  origin: 'cache' | 'built' | 'rebuilt';
  seconds: number;
}

export interface Int8WeightOptions {
  /** Directory of the cache files (created when missing). */
  dir: string;
  /** SHA-256 of the checkpoint file, lowercase hex: the cache key. */
  sourceSha256: string;
  signal?: AbortSignal;
}

/** Path of the cache file for a checkpoint digest. */
export function int8CacheFile(dir: string, sourceSha256: string): string {
  if (!/^[0-9a-f]{64}$/.test(sourceSha256)) throw new Error(`int8 weight cache: "${sourceSha256}" is not a lowercase SHA-256`);
  return path.join(dir, `${sourceSha256}.${INT8_SCHEME}-v${INT8_SCHEME_VERSION}.safetensors`);
}

/** Returns the verified int8 weights of `keys` from `source`, building (or rebuilding) the cache file when needed. */
export async function ensureInt8Weights(source: SafetensorsHeader, keys: readonly string[], options: Int8WeightOptions): Promise<Int8WeightFile> {
  const started = performance.now();
  const file = int8CacheFile(options.dir, options.sourceSha256);
  const expected = expectedEntries(source, keys);
  const existing = await readVerified(file, expected, options.sourceSha256);
  const done = (header: SafetensorsHeader, origin: Int8WeightFile['origin']): Int8WeightFile => ({ header, keys: new Set(keys), origin, seconds: (performance.now() - started) / 1000 });
  if (existing === 'valid') return done(await readSafetensorsHeader(file), 'cache');
  if (existing === 'invalid') await rm(file, { force: true });
  await rm(`${file}.sha256`, { force: true });
  await mkdir(options.dir, { recursive: true });
  await writeInt8File(source, keys, expected, file, options);
  return done(await readSafetensorsHeader(file), existing === 'absent' ? 'built' : 'rebuilt');
}

function expectedEntries(source: SafetensorsHeader, keys: readonly string[]): TensorHeaderEntry[] {
  const entries: TensorHeaderEntry[] = [];
  for (const key of keys) {
    const info = source.tensors.get(key);
    if (info === undefined) throw new Error(`${path.basename(source.file)}: tensor "${key}" to quantize is missing`);
    if (info.shape.length !== 2 && info.shape.length !== 4) throw new Error(`${path.basename(source.file)}: tensor "${key}" [${info.shape}] is no linear or conv weight`);
    const columns = info.shape[0]!;
    const rows = info.shape.slice(1).reduce((a, b) => a * b, 1);
    const names = int8TensorNames(key);
    entries.push({ name: names.codes, dtype: 'I8', shape: [rows, columns] }, { name: names.scales, dtype: 'F32', shape: [columns] });
  }
  return entries;
}

/** `valid` only when the digest, the scheme metadata and every expected tensor check out. */
async function readVerified(file: string, expected: readonly TensorHeaderEntry[], sourceSha256: string): Promise<'valid' | 'invalid' | 'absent'> {
  const recorded = await readFile(`${file}.sha256`, 'utf8').catch(() => null);
  let header: SafetensorsHeader;
  try {
    header = await readSafetensorsHeader(file);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'absent' : 'invalid';
  }
  if (recorded === null || recorded.trim() !== (await sha256File(file))) return 'invalid';
  const meta = header.metadata;
  if (meta.scheme !== INT8_SCHEME || meta.version !== INT8_SCHEME_VERSION || meta.source_sha256 !== sourceSha256) return 'invalid';
  for (const e of expected) {
    const info = header.tensors.get(e.name);
    if (info === undefined || info.dtype !== e.dtype || info.shape.join() !== e.shape.join()) return 'invalid';
  }
  return 'valid';
}

/** Quantizes one weight at a time (peak memory: one weight), hashing as it writes; renames into place when complete. */
async function writeInt8File(source: SafetensorsHeader, keys: readonly string[], entries: readonly TensorHeaderEntry[], file: string, options: Int8WeightOptions): Promise<void> {
  const metadata = { scheme: INT8_SCHEME, version: INT8_SCHEME_VERSION, source_sha256: options.sourceSha256 };
  const hash = createHash('sha256');
  await writeFileStreamAtomic(file, async (writeChunk) => {
    const write = async (bytes: Uint8Array): Promise<void> => {
      hash.update(bytes);
      await writeChunk(bytes);
    };
    await write(encodeSafetensorsHeader(entries, metadata));
    for (const key of keys) {
      options.signal?.throwIfAborted();
      const shape = source.tensors.get(key)!.shape;
      const q = quantizeWeightInt8(await readTensorAsFloat32(source, key), shape);
      await write(new Uint8Array(q.codes.buffer, q.codes.byteOffset, q.codes.byteLength));
      await write(new Uint8Array(q.scales.buffer, q.scales.byteOffset, q.scales.byteLength));
    }
  });
  // The digest goes last: a crash before this line leaves a file without one, which the next read rebuilds.
  await writeFileAtomic(`${file}.sha256`, `${hash.digest('hex')}\n`);
}

