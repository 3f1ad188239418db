/**
 * Reads a PyTorch checkpoint written by torch.save (the zip format, PyTorch 1.6 and later): the archive's
 * `<name>/data.pkl` is interpreted by the restricted pickle interpreter, storages are matched to their
 * `<name>/data/<key>` entries, and the result is a list of named tensors (flattened by the converted-pickle
 * convention) that say where their bytes are. No tensor data is read here; the bytes are copied by
 * writeTorchTensorsAsSafetensors.
 */
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype } from '../safetensors-types.ts';
import type { ByteSource } from './byte-source.ts';
import { interpretPickle } from './pickle-machine.ts';
import type { TensorRef } from './pickle-values.ts';
import { flattenStateDict, type FlatLeaf } from './state-dict-flattening.ts';
import { TorchFileError } from './torch-file-error.ts';
import { looksLikeZip, readExact, readZipDirectory, type ZipEntry } from './zip-directory.ts';

/** data.pkl of a state dict with tens of thousands of tensors is a few megabytes. */
export const MAX_DATA_PKL_BYTES = 256 * 2 ** 20;
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

/** Reads the structure of a torch.save zip checkpoint. Every refusal is a TorchFileError naming `file`. */
export function readTorchCheckpoint(source: ByteSource, file: string): TorchCheckpoint {
  const start = readExact(source, 0, Math.min(source.size, 512), file);
  if (!looksLikeZip(start)) refuseNonZip(start, file);
  const entries = readZipDirectory(source, file);
  const pickles = [...entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length !== 1) {
    throw new TorchFileError(file, 'no-data-pkl', `the archive has ${pickles.length} <name>/data.pkl entries (torch.save writes exactly one)`);
  }
  const pickle = pickles[0]!;
  const prefix = pickle.name.slice(0, -'data.pkl'.length);
  checkByteOrder(source, entries.get(`${prefix}byteorder`), file);
  if (pickle.size > MAX_DATA_PKL_BYTES) throw new TorchFileError(file, 'limit', `data.pkl is ${pickle.size} bytes (at most ${MAX_DATA_PKL_BYTES} are read)`);

  const root = interpretPickle(readExact(source, pickle.dataOffset, pickle.size, file), file);
  const { leaves, skipped } = flattenStateDict(root, file);
  if (leaves.length === 0) throw new TorchFileError(file, 'no-tensors', 'the checkpoint holds no tensors');
  const tensors = leaves.map((leaf) => toTorchTensor(leaf, (key) => entries.get(`${prefix}data/${key}`), file));
  return { tensors, skipped };
}

function refuseNonZip(start: Uint8Array, file: string): never {
  const tar = start.length >= 262 && String.fromCharCode(...start.subarray(257, 262)) === 'ustar';
  if (start[0] === 0x80 || tar) {
    throw new TorchFileError(
      file,
      'legacy-format',
      'this is the legacy PyTorch format (before 1.6: a bare pickle stream or a tar archive), which is not read; ' +
        'only the zip format that torch.save has written since PyTorch 1.6 can be converted',
    );
  }
  throw new TorchFileError(file, 'not-zip', 'not a PyTorch checkpoint: it is not a zip archive (torch.save writes one)');
}

/** Newer archives record the byte order of their storages; everything is read as little-endian. */
function checkByteOrder(source: ByteSource, entry: ZipEntry | undefined, file: string): void {
  if (entry === undefined) return;
  const text = entry.size <= 16 ? new TextDecoder().decode(readExact(source, entry.dataOffset, entry.size, file)).trim() : '';
  if (text !== 'little') throw new TorchFileError(file, 'byte-order', `the archive's storages are ${JSON.stringify(text.slice(0, 16))}-endian; only little-endian is read`);
}

function toTorchTensor(leaf: FlatLeaf, findStorage: (key: string) => ZipEntry | undefined, file: string): TorchTensor {
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

function fromStorage(name: string, tensor: TensorRef, findStorage: (key: string) => ZipEntry | undefined, file: string): TorchTensor {
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
