/**
 * Writes the tensors of a PyTorch checkpoint as a safetensors file, copying each tensor's bytes from the source in
 * bounded chunks (a 1.3 GB patch never sits in memory at once). The caller names the output path, normally a
 * temporary name it renames or links once this resolves; a failure removes what was written.
 */
import { open, rm } from 'node:fs/promises';
import { SAFETENSORS_DTYPE_BYTES } from '../safetensors-types.ts';
import { encodeSafetensorsHeader } from '../safetensors-writer.ts';
import type { ByteSource } from './byte-source.ts';
import type { TorchCheckpoint, TorchTensor } from './torch-checkpoint.ts';
import { TorchFileError } from './torch-file-error.ts';
import { readExact } from './zip-directory.ts';

const CHUNK_BYTES = 8 * 2 ** 20;

export interface WriteTorchTensorsOptions {
  metadata?: Record<string, string>;
  /** Bytes of tensor data written so far, and the total. */
  onProgress?(bytesDone: number, total: number): void;
  signal?: AbortSignal;
}

export async function writeTorchTensorsAsSafetensors(
  source: ByteSource,
  checkpoint: TorchCheckpoint,
  destination: string,
  file: string,
  options: WriteTorchTensorsOptions = {},
): Promise<void> {
  const { tensors } = checkpoint;
  const total = tensors.reduce((sum, t) => sum + t.byteLength, 0);
  const handle = await open(destination, 'wx', 0o644);
  try {
    await handle.write(encodeSafetensorsHeader(tensors, options.metadata));
    let done = 0;
    for (const tensor of tensors) {
      for (const chunk of readTensorChunks(source, tensor, file)) {
        options.signal?.throwIfAborted();
        await handle.write(chunk);
        done += chunk.length;
        options.onProgress?.(done, total);
      }
    }
    await handle.sync();
    await handle.close();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(destination, { force: true });
    throw err;
  }
}

/** The tensor's bytes in row-major order, in chunks of at most CHUNK_BYTES (a gathered view comes as one). */
function* readTensorChunks(source: ByteSource, tensor: TorchTensor, file: string): Generator<Uint8Array> {
  const from = tensor.source;
  if (from.kind === 'inline') {
    yield from.bytes;
    return;
  }
  const itemSize = SAFETENSORS_DTYPE_BYTES[tensor.dtype];
  if (from.contiguous) {
    const start = from.storageOffset + from.offset * itemSize;
    if (from.offset * itemSize + tensor.byteLength > from.storageBytes) {
      throw new TorchFileError(file, 'tensor-layout', `tensor ${JSON.stringify(tensor.name)} reaches past its storage`);
    }
    for (let at = 0; at < tensor.byteLength; at += CHUNK_BYTES) {
      yield readExact(source, start + at, Math.min(CHUNK_BYTES, tensor.byteLength - at), file);
    }
    return;
  }
  yield gatherStrided(source, tensor, from, itemSize, file);
}

/** Copies a strided view element by element, reading only the span of the storage it addresses. */
function gatherStrided(
  source: ByteSource,
  tensor: TorchTensor,
  from: Extract<TorchTensor['source'], { kind: 'storage' }>,
  itemSize: number,
  file: string,
): Uint8Array {
  const { shape } = tensor;
  const out = new Uint8Array(tensor.byteLength);
  if (out.length === 0) return out;
  let last = from.offset;
  for (let d = 0; d < shape.length; d++) last += (shape[d]! - 1) * from.stride[d]!;
  const spanBytes = (last - from.offset + 1) * itemSize;
  const span = readExact(source, from.storageOffset + from.offset * itemSize, spanBytes, file);
  const index = new Array<number>(shape.length).fill(0);
  for (let element = 0, at = 0; element * itemSize < out.length; element++) {
    out.set(span.subarray(at * itemSize, at * itemSize + itemSize), element * itemSize);
    // Odometer over the shape, innermost dimension fastest; `at` follows in storage elements.
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]!++;
      at += from.stride[d]!;
      if (index[d]! < shape[d]!) break;
      at -= index[d]! * from.stride[d]!;
      index[d] = 0;
    }
  }
  return out;
}
