import { crc32 } from 'node:zlib';
import { InvalidImageError } from './image-errors.ts';

/** PNG spec 5.2: the 8 bytes every PNG starts with. */
export const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** PNG spec 5.3: a chunk length is at most 2^31-1, whatever the file size. */
const MAX_CHUNK_LENGTH = 0x7fffffff;
/** length (4) + type (4) + CRC (4). */
const CHUNK_OVERHEAD = 12;

export interface PngChunk {
  /** Four ASCII letters, e.g. `IHDR`. */
  type: string;
  /** A view into the file's bytes: reading chunks copies nothing. */
  data: Uint8Array;
  /** Byte offset of the chunk's length field, for error messages. */
  offset: number;
}

/** One chunk: big-endian length, type, data, CRC-32 over type and data (PNG spec 5.3). */
export function encodePngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(CHUNK_OVERHEAD + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

export function hasPngSignature(bytes: Uint8Array): boolean {
  if (bytes.length < PNG_SIGNATURE.length) return false;
  return PNG_SIGNATURE.every((b, i) => bytes[i] === b);
}

/**
 * Walk a PNG's chunks up to and including IEND, checking every length and CRC before yielding. IHDR must come
 * first. Each step advances by at least 12 bytes, so the walk ends in time linear in the file size whatever the bytes.
 */
export function* iteratePngChunks(bytes: Uint8Array): Generator<PngChunk> {
  if (!hasPngSignature(bytes)) throw new InvalidImageError('signature', 'not a PNG file: the 8-byte PNG signature is missing');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = PNG_SIGNATURE.length;
  let first = true;
  for (;;) {
    if (bytes.length - offset < CHUNK_OVERHEAD) {
      throw new InvalidImageError('truncated', `PNG ends at byte ${bytes.length} before its IEND chunk`);
    }
    const length = view.getUint32(offset);
    if (length > MAX_CHUNK_LENGTH || length > bytes.length - offset - CHUNK_OVERHEAD) {
      throw new InvalidImageError(
        'chunk-length',
        `PNG chunk at byte ${offset} claims ${length} data bytes but only ${Math.max(0, bytes.length - offset - CHUNK_OVERHEAD)} remain`,
      );
    }
    const type = readChunkType(bytes, offset + 4);
    const data = bytes.subarray(offset + 8, offset + 8 + length);
    const storedCrc = view.getUint32(offset + 8 + length);
    if (crc32(bytes.subarray(offset + 4, offset + 8 + length)) !== storedCrc) {
      throw new InvalidImageError('crc', `PNG chunk ${type} at byte ${offset} fails its CRC check (corrupt or edited file)`);
    }
    if (first && type !== 'IHDR') throw new InvalidImageError('ihdr', `PNG starts with a ${type} chunk instead of IHDR`);
    first = false;
    yield { type, data, offset };
    if (type === 'IEND') return;
    offset += CHUNK_OVERHEAD + length;
  }
}

function readChunkType(bytes: Uint8Array, at: number): string {
  let type = '';
  for (let i = 0; i < 4; i++) {
    const c = bytes[at + i]!;
    const isLetter = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!isLetter) throw new InvalidImageError('chunk-type', `PNG chunk type at byte ${at} is not four ASCII letters`);
    type += String.fromCharCode(c);
  }
  return type;
}
