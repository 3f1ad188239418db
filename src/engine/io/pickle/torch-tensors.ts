/**
 * The tensors of a PyTorch checkpoint as the converter needs them: name, element type, shape, and where the bytes
 * are (a strided view into a storage of the file, or a Python number held in memory). Built from the flattened
 * pickle by both the zip and the legacy readers.
 */
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from '../safetensors-types.ts';
import type { TensorRef } from './pickle-values.ts';
import type { FlatLeaf } from './state-dict-flattening.ts';
import { TorchFileError } from './torch-file-error.ts';

/** Where a storage's bytes are in the file. */
export interface StorageLocation {
  /** Absolute offset of the first byte. */
  dataOffset: number;
  size: number;
}

/** A pickle of a state dict with tens of thousands of tensors is a few megabytes. */
export const MAX_PICKLE_BYTES = 256 * 2 ** 20;
/** A non-contiguous tensor is gathered in memory; state dicts rarely hold one, and never a large one. */
export const MAX_GATHER_ELEMENTS = 64 * 2 ** 20;

/** Where a tensor's bytes are: a strided view into a storage entry, or a value held in memory (a Python number). */
export type TensorSource =
  | {
      kind: 'storage';
      /** Absolute offset of the storage's first byte in the file. */
      storageOffset: number;
      /** The storage's size in bytes. */
      storageBytes: number;
      /** In elements. */
      offset: number;
      stride: number[];
      /** Row-major and dense: the bytes are one range of the storage. */
      contiguous: boolean;
    }
  | { kind: 'inline'; bytes: Uint8Array };

export interface TorchTensor {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  byteLength: number;
  source: TensorSource;
}

export interface TorchCheckpoint {
  /** In the order the pickle lists them. */
  tensors: TorchTensor[];
  /** Names of values with no tensor form (None, str, bool), left out of the conversion. */
  skipped: string[];
}

export function toTorchTensor(leaf: FlatLeaf, findStorage: (key: string) => StorageLocation | undefined, file: string): TorchTensor {
  if (leaf.kind === 'float') {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, leaf.value, true);
    return { name: leaf.name, dtype: 'F32', shape: [], byteLength: 4, source: { kind: 'inline', bytes } };
  }
  if (leaf.kind === 'int') {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigInt64(0, leaf.value, true);
    return { name: leaf.name, dtype: 'I64', shape: [], byteLength: 8, source: { kind: 'inline', bytes } };
  }
  return fromStorage(leaf.name, leaf.tensor, findStorage, file);
}

function fromStorage(name: string, tensor: TensorRef, findStorage: (key: string) => StorageLocation | undefined, file: string): TorchTensor {
  const { storage, shape, stride, offset } = tensor;
  const itemSize = SAFETENSORS_DTYPE_BYTES[storage.dtype];
  const entry = findStorage(storage.key);
  if (entry === undefined) throw new TorchFileError(file, 'storage-missing', `tensor ${JSON.stringify(name)}: storage ${storage.key} is not in the archive`);
  if (entry.size !== storage.numel * itemSize) {
    throw new TorchFileError(file, 'storage-missing', `storage ${storage.key} holds ${entry.size} bytes, but the pickle declares ${storage.numel} ${storage.dtype} elements`);
  }
  const numel = shape.reduce((a, b) => a * b, 1);
  const contiguous = isContiguous(shape, stride);
  // A strided view (stride 0 broadcasts) can address few storage bytes yet claim a huge shape: bound what is gathered.
  if (!Number.isSafeInteger(numel) || (!contiguous && numel > MAX_GATHER_ELEMENTS)) {
    throw new TorchFileError(file, 'tensor-layout', `tensor ${JSON.stringify(name)}: a non-contiguous view of shape [${shape}] is larger than the ${MAX_GATHER_ELEMENTS} elements the converter gathers`);
  }
  return {
    name,
    dtype: storage.dtype,
    shape,
    byteLength: numel * itemSize,
    source: { kind: 'storage', storageOffset: entry.dataOffset, storageBytes: entry.size, offset, stride, contiguous },
  };
}

/** Row-major dense strides; a dimension of size 1 may carry any stride (PyTorch does not normalise them). */
function isContiguous(shape: number[], stride: number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expected) return shape[i] === 0;
    expected *= shape[i]!;
  }
  return true;
}
