/**
 * The central directory of a zip archive as torch.save writes it (PKWARE APPNOTE 6.3: end of central directory,
 * zip64 records when sizes or offsets pass 4 GiB, stored entries only). Every offset and size read from the file
 * is checked against the file's real size before it is used, so a malformed archive is an error, never a huge
 * allocation or a read past the end.
 */
import type { ByteSource } from './byte-source.ts';
import { TorchFileError } from './torch-file-error.ts';

export interface ZipEntry {
  name: string;
  /** Absolute offset of the entry's first data byte. */
  dataOffset: number;
  size: number;
}

/** More entries than any checkpoint has (one per storage plus a few records). */
export const MAX_ZIP_ENTRIES = 1_000_000;
/** The central directory of a million entries with 100-byte names fits well inside this. */
const MAX_DIRECTORY_BYTES = 256 * 2 ** 20;
const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the bytes start like a zip archive (a local file header). */
export function looksLikeZip(start: Uint8Array): boolean {
  return start.length >= 4 && start[0] === 0x50 && start[1] === 0x4b && start[2] === 0x03 && start[3] === 0x04;
}

/** Reads the central directory; entries keep their archive order and their names are unique. */
export function readZipDirectory(source: ByteSource, file: string): Map<string, ZipEntry> {
  const { offset, count, size } = findDirectory(source, file);
  const directory = readExact(source, offset, size, file);
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directory.length || view.getUint32(at, true) !== CENTRAL_SIGNATURE) fail(file, `central directory entry ${i} is malformed`);
    const method = view.getUint16(at + 10, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const end = at + 46 + nameLength + extraLength + commentLength;
    if (end > directory.length) fail(file, `central directory entry ${i} runs past the directory`);
    const name = decodeName(directory.subarray(at + 46, at + 46 + nameLength), file);
    const sizes = readSizes(view, at, directory.subarray(at + 46 + nameLength, at + 46 + nameLength + extraLength), file, name);
    if (method !== 0 || sizes.compressed !== sizes.size) {
      throw new TorchFileError(file, 'zip-compressed', `zip entry ${JSON.stringify(name)} is compressed (method ${method}); torch.save stores entries uncompressed`);
    }
    if (entries.has(name)) fail(file, `zip entry ${JSON.stringify(name)} is listed twice`);
    entries.set(name, { name, size: sizes.size, dataOffset: locateData(source, sizes.localOffset, sizes.size, file, name) });
    at = end;
  }
  return entries;
}

interface DirectoryLocation {
  offset: number;
  count: number;
  size: number;
}

function findDirectory(source: ByteSource, file: string): DirectoryLocation {
  if (source.size < EOCD_SIZE) fail(file, `${source.size} bytes is too short for a zip archive`);
  const tailLength = Math.min(source.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = source.size - tailLength;
  const tail = readExact(source, tailStart, tailLength, file);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE && i + EOCD_SIZE + view.getUint16(i + 20, true) === tail.length) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) fail(file, 'no end-of-central-directory record');
  let count = view.getUint16(eocd + 10, true);
  let size = view.getUint32(eocd + 12, true);
  let offset = view.getUint32(eocd + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    ({ count, size, offset } = readZip64End(source, tailStart + eocd, file));
  }
  if (count > MAX_ZIP_ENTRIES) throw new TorchFileError(file, 'limit', `the archive lists ${count} entries (at most ${MAX_ZIP_ENTRIES} are read)`);
  if (size > MAX_DIRECTORY_BYTES) throw new TorchFileError(file, 'limit', `the central directory is ${size} bytes (at most ${MAX_DIRECTORY_BYTES})`);
  if (offset + size > source.size) fail(file, `the central directory (${size} bytes at ${offset}) runs past the end of the file`);
  return { offset, count, size };
}

function readZip64End(source: ByteSource, eocdOffset: number, file: string): DirectoryLocation {
  if (eocdOffset < 20) fail(file, 'zip64 sizes are announced but there is no zip64 locator');
  const locator = readExact(source, eocdOffset - 20, 20, file);
  const lv = new DataView(locator.buffer, locator.byteOffset, 20);
  if (lv.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) fail(file, 'zip64 sizes are announced but there is no zip64 locator');
  const recordOffset = toSafe(lv.getBigUint64(8, true), file, 'zip64 record offset');
  if (recordOffset + 56 > eocdOffset) fail(file, 'the zip64 end record lies outside the file');
  const record = readExact(source, recordOffset, 56, file);
  const rv = new DataView(record.buffer, record.byteOffset, 56);
  if (rv.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) fail(file, 'the zip64 end record is malformed');
  return {
    count: toSafe(rv.getBigUint64(32, true), file, 'zip64 entry count'),
    size: toSafe(rv.getBigUint64(40, true), file, 'zip64 directory size'),
    offset: toSafe(rv.getBigUint64(48, true), file, 'zip64 directory offset'),
  };
}

interface EntrySizes {
  compressed: number;
  size: number;
  localOffset: number;
}

/** The three 32-bit fields, with any 0xffffffff replaced from the zip64 extra field in the APPNOTE's order. */
function readSizes(view: DataView, at: number, extra: Uint8Array, file: string, name: string): EntrySizes {
  let size = view.getUint32(at + 24, true);
  let compressed = view.getUint32(at + 20, true);
  let localOffset = view.getUint32(at + 42, true);
  const needed = [size, compressed, localOffset].filter((v) => v === 0xffffffff).length;
  if (needed === 0) return { compressed, size, localOffset };
  const ev = new DataView(extra.buffer, extra.byteOffset, extra.byteLength);
  for (let p = 0; p + 4 <= extra.length; ) {
    const id = ev.getUint16(p, true);
    const length = ev.getUint16(p + 2, true);
    if (p + 4 + length > extra.length) break;
    if (id === 0x0001) {
      if (length < needed * 8) break;
      let q = p + 4;
      const next = (): number => {
        const v = toSafe(ev.getBigUint64(q, true), file, `zip64 size of ${JSON.stringify(name)}`);
        q += 8;
        return v;
      };
      if (size === 0xffffffff) size = next();
      if (compressed === 0xffffffff) compressed = next();
      if (localOffset === 0xffffffff) localOffset = next();
      return { compressed, size, localOffset };
    }
    p += 4 + length;
  }
  return fail(file, `zip entry ${JSON.stringify(name)} announces zip64 sizes without a usable zip64 field`);
}

/** Follows the local header to the first data byte and checks the data lies inside the file. */
function locateData(source: ByteSource, localOffset: number, size: number, file: string, name: string): number {
  if (localOffset + 30 > source.size) fail(file, `zip entry ${JSON.stringify(name)} has its header past the end of the file`);
  const header = readExact(source, localOffset, 30, file);
  const hv = new DataView(header.buffer, header.byteOffset, 30);
  if (hv.getUint32(0, true) !== LOCAL_SIGNATURE) fail(file, `zip entry ${JSON.stringify(name)} has no local header at ${localOffset}`);
  const dataOffset = localOffset + 30 + hv.getUint16(26, true) + hv.getUint16(28, true);
  if (dataOffset + size > source.size) fail(file, `zip entry ${JSON.stringify(name)} (${size} bytes) runs past the end of the file`);
  return dataOffset;
}

function decodeName(bytes: Uint8Array, file: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    return fail(file, 'a zip entry name is not UTF-8');
  }
}

/** Reads a range the caller has bounds-checked; a file that shrank meanwhile is reported, not misread. */
export function readExact(source: ByteSource, offset: number, length: number, file: string): Uint8Array {
  if (offset < 0 || length < 0 || offset + length > source.size) fail(file, `${length} bytes at ${offset} lie outside the file`);
  const bytes = source.read(offset, length);
  if (bytes.length !== length) fail(file, 'the file became shorter while it was read');
  return bytes;
}

function toSafe(value: bigint, file: string, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(file, `${what} ${value} is too large`);
  return Number(value);
}

function fail(file: string, detail: string): never {
  throw new TorchFileError(file, 'zip-structure', detail);
}
