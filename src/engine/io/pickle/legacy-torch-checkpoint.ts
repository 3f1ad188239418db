/**
 * The legacy PyTorch format (torch.save before 1.6, or with `_use_new_zipfile_serialization=False`), which many
 * older ESRGAN files use: five pickles back to back (a magic number, the protocol version 1001, a dict of system
 * facts, the object itself, and the list of storage keys in the order their bytes follow), then each storage as an
 * 8-byte little-endian element count and its raw bytes. Every pickle goes through the same restricted interpreter
 * as the zip format's data.pkl; the storage walk checks each count against the pickle's and the file's size.
 */
import { SAFETENSORS_DTYPE_BYTES } from '../safetensors-types.ts';
import type { ByteSource } from './byte-source.ts';
import { interpretPickleAt } from './pickle-machine.ts';
import { describeValue, type PickleValue, type StorageRef } from './pickle-values.ts';
import { flattenStateDict } from './state-dict-flattening.ts';
import { TorchFileError } from './torch-file-error.ts';
import { MAX_PICKLE_BYTES, toTorchTensor, type StorageLocation, type TorchCheckpoint } from './torch-tensors.ts';
import { readExact } from './zip-directory.ts';

/** torch.serialization's MAGIC_NUMBER, the first pickle of every legacy file. */
const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
const LEGACY_PROTOCOL = 1001n;

export function readLegacyTorchCheckpoint(source: ByteSource, file: string): TorchCheckpoint {
  // The pickles come first and are small; read at most MAX_PICKLE_BYTES of them.
  const head = readExact(source, 0, Math.min(source.size, MAX_PICKLE_BYTES), file);
  const magic = interpretPickleAt(head, 0, file);
  if (magic.value !== LEGACY_MAGIC) {
    throw new TorchFileError(file, 'not-zip', `not a PyTorch checkpoint: a pickle stream that does not start with PyTorch's magic number (${describeValue(magic.value)})`);
  }
  const protocol = interpretPickleAt(head, magic.end, file);
  if (protocol.value !== LEGACY_PROTOCOL) throw new TorchFileError(file, 'legacy-format', `legacy PyTorch protocol ${describeValue(protocol.value)} (1001 is read)`);
  const sysInfo = interpretPickleAt(head, protocol.end, file);
  checkLittleEndian(sysInfo.value, file);
  const object = interpretPickleAt(head, sysInfo.end, file);
  const keys = interpretPickleAt(head, object.end, file);

  const { leaves, skipped } = flattenStateDict(object.value, file);
  if (leaves.length === 0) throw new TorchFileError(file, 'no-tensors', 'the checkpoint holds no tensors');
  const storages = new Map<string, StorageRef>();
  for (const leaf of leaves) if (leaf.kind === 'tensor') storages.set(leaf.tensor.storage.key, leaf.tensor.storage);
  const locations = locateStorages(source, keys.value, keys.end, storages, file);
  return { tensors: leaves.map((leaf) => toTorchTensor(leaf, (key) => locations.get(key), file)), skipped };
}

function checkLittleEndian(sysInfo: PickleValue, file: string): void {
  const littleEndian = typeof sysInfo === 'object' && sysInfo !== null && sysInfo.kind === 'dict' ? sysInfo.entries.get('little_endian') : undefined;
  if (littleEndian !== true) throw new TorchFileError(file, 'byte-order', 'the legacy file does not record little-endian storages; only little-endian is read');
}

/** Walks the storages in the order the key list gives: an 8-byte element count, then the bytes. */
function locateStorages(source: ByteSource, keyList: PickleValue, start: number, storages: Map<string, StorageRef>, file: string): Map<string, StorageLocation> {
  if (typeof keyList !== 'object' || keyList === null || keyList.kind !== 'list') {
    throw new TorchFileError(file, 'pickle-structure', `the storage key list is ${describeValue(keyList)}, not a list`);
  }
  const locations = new Map<string, StorageLocation>();
  let at = start;
  for (const key of keyList.items) {
    if (typeof key !== 'string') throw new TorchFileError(file, 'pickle-structure', `a storage key is ${describeValue(key)}, not a string`);
    const storage = storages.get(key);
    if (storage === undefined || locations.has(key)) throw new TorchFileError(file, 'storage-missing', `storage ${key} is listed but no tensor uses it, or it is listed twice`);
    const countBytes = readExact(source, at, 8, file);
    const count = new DataView(countBytes.buffer, countBytes.byteOffset, 8).getBigUint64(0, true);
    const size = storage.numel * SAFETENSORS_DTYPE_BYTES[storage.dtype];
    if (count !== BigInt(storage.numel) || at + 8 + size > source.size) {
      throw new TorchFileError(file, 'storage-missing', `storage ${key} records ${count} elements where the pickle declares ${storage.numel}, or runs past the end of the file`);
    }
    locations.set(key, { dataOffset: at + 8, size });
    at += 8 + size;
  }
  return locations;
}
