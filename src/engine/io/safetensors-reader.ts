import { constants, type FileHandle, open } from 'node:fs/promises';
import { extname } from 'node:path';
import { decodeAsFloat32 } from './dtype-decoding.ts';
import { InvalidSafetensorsError, MissingTensorError, PickleFormatError, type SafetensorsRule } from './safetensors-errors.ts';
import { SAFETENSORS_DTYPE_BYTES, type SafetensorsDtype, type SafetensorsHeader, type TensorInfo } from './safetensors-types.ts';
import { type JsonValue, parseStrictJson, StrictJsonError } from './strict-json.ts';

/** The reference implementation's cap; real SDXL headers are a few hundred kilobytes. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Diffusion checkpoints use rank <= 5; the cap keeps the size arithmetic trivially bounded. */
export const MAX_TENSOR_RANK = 8;
const METADATA_KEY = '__metadata__';
const ENTRY_FIELDS = ['dtype', 'shape', 'data_offsets'] as const;
const PICKLE_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.bin', '.pkl', '.pickle']);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** One read() call moves at most this much, below every platform's single-read limit. */
const MAX_READ_CHUNK = 1 << 30;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Validates a safetensors header held in memory. `prefix` holds the file's first 8 + header-length bytes (or the
 * whole file when it is shorter); `fileSize` is the full file's size. Every tensor must be well typed and the
 * tensors must tile the data buffer exactly, so no byte of the file goes unaccounted for. Work and memory are
 * bounded by `prefix.length`, never by sizes the file claims.
 */
export function parseSafetensorsHeader(prefix: Uint8Array, fileSize: number, file: string): SafetensorsHeader {
  if (!Number.isSafeInteger(fileSize) || fileSize < 0) throw new RangeError(`parseSafetensorsHeader: bad fileSize ${fileSize}`);
  if (fileSize < 8) fail(file, null, 'file-too-small', `${fileSize} bytes, fewer than the 8-byte header length`);
  const headerLength = checkHeaderLength(prefix, fileSize, file);
  const dataOffset = 8 + headerLength;
  if (prefix.length < dataOffset) {
    throw new RangeError(`parseSafetensorsHeader: prefix has ${prefix.length} bytes, the header needs ${dataOffset}`);
  }

  const json = parseHeaderJson(prefix.subarray(8, dataOffset), file);
  let metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, value] of json) {
    if (name === METADATA_KEY) metadata = validateMetadata(value, file);
    else tensors.push(validateTensorEntry(name, value, file));
  }
  return { file, fileSize, dataOffset, metadata, tensors: orderTensors(tensors, fileSize - dataOffset, file) };
}

/**
 * Reads and validates the header of the safetensors file at `path` (errors name the path as given). Pickle-based
 * checkpoints are refused by extension and by content, before any of their bytes are interpreted.
 */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  if (PICKLE_EXTENSIONS.has(extname(path).toLowerCase())) throw new PickleFormatError(path, 'extension');
  // O_NONBLOCK: opening a named pipe must not wait forever for a writer; it is then refused as not a regular file.
  const handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) fail(path, null, 'not-regular-file', 'not a regular file');
    const fileSize = stats.size;
    // Enough to recognise what a file that is not safetensors is (describeForeignFile), and the pickle checks.
    const start = await readFully(handle, 0, Math.min(fileSize, 32));
    if (isPickleOrTorchZip(start, fileSize)) throw new PickleFormatError(path, 'content');
    // Bounds-check the claimed length before allocating for it; the parser reports the precise rule if it fails.
    if (start.length < 8) return parseSafetensorsHeader(start, start.length, path);
    if (!headerLengthFits(start, fileSize)) return parseSafetensorsHeader(start, fileSize, path);
    const dataOffset = 8 + Number(readHeaderLength(start));
    const prefix = await readFully(handle, 0, dataOffset);
    // A file that shrank while we read it is judged by what is there now.
    return parseSafetensorsHeader(prefix, prefix.length < dataOffset ? prefix.length : fileSize, path);
  } finally {
    await handle.close();
  }
}

/**
 * Reads one tensor's bytes (and only those) and converts them to float32. Floats convert exactly or with
 * round-to-nearest; integer types convert by value.
 */
export async function readTensorAsFloat32(header: SafetensorsHeader, name: string): Promise<Float32Array> {
  const info = header.tensors.get(name);
  if (info === undefined) throw new MissingTensorError(header.file, name);
  const handle = await open(header.file, 'r');
  try {
    const { size } = await handle.stat();
    if (size !== header.fileSize) {
      fail(header.file, name, 'data-size-mismatch', `file is ${size} bytes now, ${header.fileSize} when its header was read`);
    }
    const length = info.end - info.begin;
    const bytes = await readFully(handle, header.dataOffset + info.begin, length);
    if (bytes.length < length) fail(header.file, name, 'data-size-mismatch', 'file shrank while the tensor was read');
    return decodeAsFloat32(info.dtype, bytes);
  } finally {
    await handle.close();
  }
}

function fail(file: string, tensor: string | null, rule: SafetensorsRule, detail: string): never {
  throw new InvalidSafetensorsError(file, tensor, rule, detail);
}

function readHeaderLength(prefix: Uint8Array): bigint {
  return new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
}

function headerLengthFits(prefix: Uint8Array, fileSize: number): boolean {
  const length = readHeaderLength(prefix);
  return length <= BigInt(MAX_HEADER_BYTES) && 8n + length <= BigInt(fileSize);
}

/** Returns the header length after checking it against the cap and the file size (both compared as u64). */
function checkHeaderLength(prefix: Uint8Array, fileSize: number, file: string): number {
  if (prefix.length < 8) throw new RangeError(`parseSafetensorsHeader: prefix has ${prefix.length} bytes, fewer than 8`);
  const length = readHeaderLength(prefix);
  const fits = length <= BigInt(MAX_HEADER_BYTES) && 8n + length <= BigInt(fileSize);
  // A length that cannot be right usually means another kind of file under a .safetensors name: say which.
  const foreign = fits ? null : describeForeignFile(prefix);
  if (foreign !== null) {
    fail(file, null, 'header-length-bounds', `not a safetensors file: it looks like ${foreign} (its first 8 bytes are no header length)`);
  }
  if (length > BigInt(MAX_HEADER_BYTES)) {
    fail(file, null, 'header-length-bounds', `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (8n + length > BigInt(fileSize)) {
    fail(file, null, 'header-length-bounds', `header length ${length} runs past the end of the ${fileSize}-byte file`);
  }
  return Number(length);
}

/**
 * What a file whose header length is impossible looks like, from its first bytes, or null when it is nothing
 * recognisable (then the length itself is reported). Pickle and PyTorch zip data never get here (refused earlier).
 */
export function describeForeignFile(start: Uint8Array): string | null {
  const ascii = String.fromCharCode(...start.subarray(0, 32));
  if (ascii.startsWith('GGUF')) return 'a GGUF model (the llama.cpp / stable-diffusion.cpp format), which is not supported';
  if (ascii.startsWith('PK\x03\x04')) return 'a zip archive';
  if (start[0] === 0x80 && start[1] !== undefined && start[1] >= 2 && start[1] <= 5) return 'a pickle (PyTorch checkpoint)';
  if (start[0] === 0x1f && start[1] === 0x8b) return 'gzip-compressed data';
  if (ascii.startsWith('version https:')) return 'a Git LFS pointer (text) rather than the model it points to';
  const printable = start.length > 0 && start.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80);
  if (printable) {
    const html = /^\s*<(!doctype|html|head|\?xml)/i.test(ascii);
    return `${html ? 'an HTML page (text)' : 'text'} starting ${JSON.stringify(ascii.slice(0, 8))}`;
  }
  return null;
}

/**
 * Pickle protocol 2-5 opens with PROTO (0x80, version); PyTorch's zip checkpoints with a zip local-file header.
 * Legacy torch files are protocol-2 pickles. A genuine safetensors header length can begin with the same bytes
 * (640 is 80 02 00 ...), so a file whose length fits and whose JSON opens with '{' is judged as safetensors.
 */
function isPickleOrTorchZip(start: Uint8Array, fileSize: number): boolean {
  const pickle = start[0] === 0x80 && start[1] !== undefined && start[1] >= 2 && start[1] <= 5;
  const zip = start[0] === 0x50 && start[1] === 0x4b && start[2] === 0x03 && start[3] === 0x04;
  if (!pickle && !zip) return false;
  return !(start.length >= 9 && start[8] === 0x7b && headerLengthFits(start, fileSize));
}

function parseHeaderJson(bytes: Uint8Array, file: string): Map<string, JsonValue> {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail(file, null, 'header-utf8', 'header is not valid UTF-8');
  }
  let json: JsonValue;
  try {
    json = parseStrictJson(text);
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    const outermost = err.path[0];
    const tensor = outermost === undefined || outermost === METADATA_KEY ? null : outermost;
    if (err.kind === 'duplicate-key') return fail(file, tensor, 'duplicate-key', `header JSON has a ${err.message}`);
    return fail(file, null, 'header-json', `header is not valid JSON: ${err.message}`);
  }
  if (!(json instanceof Map)) fail(file, null, 'header-not-object', `header JSON is ${describeJson(json)}, not an object`);
  // The format requires the JSON to start at the first byte; only trailing space padding is allowed.
  if (bytes[0] !== 0x7b) fail(file, null, 'header-json', "header JSON does not begin with '{'");
  return json;
}

function validateMetadata(value: JsonValue, file: string): Record<string, string> {
  if (!(value instanceof Map)) return fail(file, null, 'metadata-type', `${METADATA_KEY} is ${describeJson(value)}, not an object`);
  for (const [key, entry] of value) {
    if (typeof entry !== 'string') {
      fail(file, null, 'metadata-type', `${METADATA_KEY}[${JSON.stringify(key)}] is ${describeJson(entry)}, not a string`);
    }
  }
  // fromEntries defines own properties, so a key such as "__proto__" stays data.
  return Object.fromEntries(value as Map<string, string>);
}

function validateTensorEntry(name: string, value: JsonValue, file: string): TensorInfo {
  validateTensorName(name, file);
  if (!(value instanceof Map)) return fail(file, name, 'tensor-not-object', `entry is ${describeJson(value)}, not an object`);
  for (const key of value.keys()) {
    if (!(ENTRY_FIELDS as readonly string[]).includes(key)) fail(file, name, 'unknown-field', `unknown field ${JSON.stringify(key)}`);
  }
  for (const key of ENTRY_FIELDS) {
    if (!value.has(key)) fail(file, name, 'unknown-field', `missing field "${key}"`);
  }
  const dtype = validateDtype(value.get('dtype')!, name, file);
  const shape = validateShape(value.get('shape')!, name, file);
  const byteLength = shape.reduce((a, b) => a * BigInt(b), BigInt(SAFETENSORS_DTYPE_BYTES[dtype]));
  if (byteLength > MAX_SAFE) fail(file, name, 'size-overflow', `shape [${shape}] of ${dtype} is ${byteLength} bytes`);
  const [begin, end] = validateOffsets(value.get('data_offsets')!, name, file);
  if (BigInt(end - begin) !== byteLength) {
    fail(file, name, 'byte-length-mismatch', `data_offsets span ${end - begin} bytes, shape [${shape}] of ${dtype} needs ${byteLength}`);
  }
  return { name, dtype, shape, begin, end };
}

function validateTensorName(name: string, file: string): void {
  if (name.length === 0) fail(file, name, 'invalid-tensor-name', 'tensor name is empty');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    // C0, DEL and C1 controls: invisible in logs and error messages, never part of a real checkpoint key.
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      fail(file, name, 'invalid-tensor-name', `tensor name has control character U+${c.toString(16).padStart(4, '0')}`);
    }
  }
}

function validateDtype(value: JsonValue, name: string, file: string): SafetensorsDtype {
  if (typeof value === 'string' && Object.hasOwn(SAFETENSORS_DTYPE_BYTES, value)) return value as SafetensorsDtype;
  return fail(file, name, 'unknown-dtype', `dtype ${describeJson(value)} is not a safetensors dtype`);
}

function validateShape(value: JsonValue, name: string, file: string): number[] {
  if (!Array.isArray(value)) return fail(file, name, 'invalid-shape', `shape is ${describeJson(value)}, not an array`);
  if (value.length > MAX_TENSOR_RANK) fail(file, name, 'invalid-shape', `rank ${value.length} exceeds ${MAX_TENSOR_RANK}`);
  return value.map((dim, i) => {
    if (!isSafeCount(dim)) fail(file, name, 'invalid-shape', `dimension ${i} is ${describeJson(dim)}, not a non-negative safe integer`);
    return Number(dim);
  });
}

function validateOffsets(value: JsonValue, name: string, file: string): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) {
    return fail(file, name, 'invalid-offsets', `data_offsets is ${describeJson(value)}, not a [begin, end] pair`);
  }
  const [begin, end] = value;
  if (!isSafeCount(begin!) || !isSafeCount(end!)) {
    fail(file, name, 'invalid-offsets', 'data_offsets must be non-negative safe integers');
  }
  if (begin > end) fail(file, name, 'invalid-offsets', `data_offsets begin ${begin} is after end ${end}`);
  return [Number(begin), Number(end)];
}

/** Integer literals arrive as bigint, so `1.0`, `1e3` and `-0.5` are refused rather than coerced. */
function isSafeCount(value: JsonValue): value is bigint {
  return typeof value === 'bigint' && value >= 0n && value <= MAX_SAFE;
}

/**
 * Sorts tensors by position and checks that they tile the `dataSize`-byte data buffer exactly: the first starts at
 * 0, each starts where the previous ended, the last ends at the end of the file. Zero-byte tensors may share an
 * offset with a neighbour.
 */
function orderTensors(tensors: TensorInfo[], dataSize: number, file: string): Map<string, TensorInfo> {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const t of sorted) {
    if (t.begin < cursor) {
      fail(file, t.name, 'offsets-contiguous', `data_offsets [${t.begin}, ${t.end}] overlap the previous tensor (ends at ${cursor})`);
    }
    if (t.begin > cursor) {
      fail(file, t.name, 'offsets-contiguous', `data_offsets [${t.begin}, ${t.end}] leave ${t.begin - cursor} unused bytes before it`);
    }
    if (t.end > dataSize) {
      fail(file, t.name, 'data-size-mismatch', `data_offsets end at ${t.end} but the file holds only ${dataSize} data bytes (truncated?)`);
    }
    cursor = t.end;
  }
  if (cursor < dataSize) {
    fail(file, null, 'trailing-bytes', `${dataSize - cursor} bytes follow the last tensor; they could hold a second file`);
  }
  return new Map(sorted.map((t) => [t.name, t]));
}

function describeJson(value: JsonValue): string {
  if (value === null) return 'null';
  if (value instanceof Map) return 'an object';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}

/** Reads up to `length` bytes at `position` into a fresh, 8-byte-aligned buffer; shorter only at end of file. */
async function readFully(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, Math.min(length - done, MAX_READ_CHUNK), position + done);
    if (bytesRead === 0) return bytes.subarray(0, done);
    done += bytesRead;
  }
  return bytes;
}
