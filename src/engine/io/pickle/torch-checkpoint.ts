/**
 * Reads a PyTorch checkpoint written by torch.save: the zip format (PyTorch 1.6 and later), whose
 * `<name>/data.pkl` is interpreted by the restricted pickle interpreter and whose storages are the
 * `<name>/data/<key>` entries, or the legacy stream format (legacy-torch-checkpoint.ts). The result is a list of
 * named tensors (flattened by the converted-pickle convention) that say where their bytes are. No tensor data is
 * read here; the bytes are copied by writeTorchTensorsAsSafetensors.
 */
import type { ByteSource } from './byte-source.ts';
import { readLegacyTorchCheckpoint } from './legacy-torch-checkpoint.ts';
import { interpretPickle } from './pickle-machine.ts';
import { flattenStateDict } from './state-dict-flattening.ts';
import { TorchFileError } from './torch-file-error.ts';
import { MAX_PICKLE_BYTES, toTorchTensor, type TorchCheckpoint } from './torch-tensors.ts';
import { looksLikeZip, readExact, readZipDirectory, type ZipEntry } from './zip-directory.ts';

export { MAX_GATHER_ELEMENTS, MAX_PICKLE_BYTES, type TensorSource, type TorchCheckpoint, type TorchTensor } from './torch-tensors.ts';

/** Reads the structure of a torch.save checkpoint. Every refusal is a TorchFileError naming `file`. */
export function readTorchCheckpoint(source: ByteSource, file: string): TorchCheckpoint {
  const start = readExact(source, 0, Math.min(source.size, 512), file);
  if (start[0] === 0x80) return readLegacyTorchCheckpoint(source, file);
  if (!looksLikeZip(start)) refuseNonZip(start, file);
  const entries = readZipDirectory(source, file);
  const pickles = [...entries.values()].filter((e) => /^[^/]+\/data\.pkl$/.test(e.name));
  if (pickles.length !== 1) {
    throw new TorchFileError(file, 'no-data-pkl', `the archive has ${pickles.length} <name>/data.pkl entries (torch.save writes exactly one)`);
  }
  const pickle = pickles[0]!;
  const prefix = pickle.name.slice(0, -'data.pkl'.length);
  checkByteOrder(source, entries.get(`${prefix}byteorder`), file);
  if (pickle.size > MAX_PICKLE_BYTES) throw new TorchFileError(file, 'limit', `data.pkl is ${pickle.size} bytes (at most ${MAX_PICKLE_BYTES} are read)`);

  const root = interpretPickle(readExact(source, pickle.dataOffset, pickle.size, file), file);
  const { leaves, skipped } = flattenStateDict(root, file);
  if (leaves.length === 0) throw new TorchFileError(file, 'no-tensors', 'the checkpoint holds no tensors');
  const tensors = leaves.map((leaf) => toTorchTensor(leaf, (key) => entries.get(`${prefix}data/${key}`), file));
  return { tensors, skipped };
}

function refuseNonZip(start: Uint8Array, file: string): never {
  const tar = start.length >= 262 && String.fromCharCode(...start.subarray(257, 262)) === 'ustar';
  if (tar) {
    throw new TorchFileError(
      file,
      'legacy-format',
      'this is the tar-based PyTorch format of the 0.x releases, which is not read; the zip format (PyTorch 1.6 and ' +
        'later) and the pickle-stream format that preceded it can be converted',
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
