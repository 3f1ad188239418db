/**
 * Turning the bytes of an image's metadata into text, the same way on the server and in the browser (no node:
 * imports: Buffer is absent from the page). Writers disagree on encodings, so each decoder here says which
 * evidence it trusts: the PNG spec's Latin-1 for tEXt is overruled by valid UTF-8, and the byte order of EXIF
 * UTF-16 text is read from the text itself rather than from the TIFF header.
 */
import { InvalidImageError } from './image-errors.ts';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Latin-1 (ISO 8859-1): each byte is the code point of the same value. */
export function decodeLatin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** UTF-8 text, or null when the bytes are not valid UTF-8. */
export function decodeUtf8OrNull(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A PNG tEXt body. The spec says Latin-1, but Stability Matrix and other writers put UTF-8 there. Bytes that hold a
 * non-ASCII byte and decode as valid UTF-8 are UTF-8 (Latin-1 prose practically never forms valid multi-byte
 * sequences); anything else is Latin-1, as the spec says.
 */
export function decodePngLatin1Text(bytes: Uint8Array): string {
  if (!bytes.some((b) => b >= 0x80)) return decodeLatin1(bytes);
  return decodeUtf8OrNull(bytes) ?? decodeLatin1(bytes);
}

/**
 * UTF-16 text whose byte order the container does not settle: a byte-order mark decides; otherwise the order in
 * which more code units look like text (ASCII printable or whitespace, or a letter outside the control and
 * surrogate ranges) wins, and `hintLittle` (the TIFF header's order) breaks a tie. piexif, behind A1111 and Civitai,
 * writes big-endian whatever the TIFF order, so the header alone misreads little-endian files.
 */
export function decodeUtf16(bytes: Uint8Array, hintLittle: boolean): string {
  if (bytes.length % 2 !== 0) throw new InvalidImageError('exif', 'UTF-16 text has an odd byte count');
  let body = bytes;
  let little: boolean | null = null;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) little = false;
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) little = true;
  if (little !== null) body = bytes.subarray(2);
  else {
    const big = scoreUtf16(bytes, false);
    const small = scoreUtf16(bytes, true);
    little = small === big ? hintLittle : small > big;
  }
  let out = '';
  const units = new Uint16Array(Math.min(body.length / 2, 8192));
  for (let at = 0; at < body.length; at += units.length * 2) {
    const count = Math.min(units.length, (body.length - at) / 2);
    for (let i = 0; i < count; i++) {
      const a = body[at + i * 2]!;
      const b = body[at + i * 2 + 1]!;
      units[i] = little ? a | (b << 8) : (a << 8) | b;
    }
    out += String.fromCharCode(...units.subarray(0, count));
  }
  return out;
}

/** How many of the first code units read in this order look like text; a sample is enough to tell. */
function scoreUtf16(bytes: Uint8Array, little: boolean): number {
  let score = 0;
  const end = Math.min(bytes.length, 4096);
  for (let i = 0; i + 1 < end; i += 2) {
    const unit = little ? bytes[i]! | (bytes[i + 1]! << 8) : (bytes[i]! << 8) | bytes[i + 1]!;
    if ((unit >= 0x20 && unit < 0x7f) || unit === 0x0a || unit === 0x0d || unit === 0x09) score += 2;
    else if (unit >= 0xa0 && (unit < 0xd800 || unit > 0xdfff) && unit !== 0xfffe) score += 1;
  }
  return score;
}

/**
 * Inflate zlib (`deflate`) or gzip data with the platform's DecompressionStream (Node and browsers alike), giving
 * up as soon as the output passes `maxBytes`: a small file cannot make the reader allocate without bound.
 */
export async function inflateCapped(data: Uint8Array | readonly Uint8Array[], format: 'deflate' | 'gzip', maxBytes: number, what: string): Promise<Uint8Array> {
  return inflateUpTo(data, format, maxBytes, what, true);
}

/** The first `maxBytes` bytes data inflates to (fewer when it is shorter); the rest is never produced. */
export async function inflatePrefix(data: Uint8Array | readonly Uint8Array[], format: 'deflate' | 'gzip', maxBytes: number, what: string): Promise<Uint8Array> {
  return inflateUpTo(data, format, maxBytes, what, false);
}

/** Compressed input goes in by slices, so stopping early also stops reading (and copying) the rest of it. */
const FEED_BYTES = 64 * 1024;

async function inflateUpTo(data: Uint8Array | readonly Uint8Array[], format: 'deflate' | 'gzip', maxBytes: number, what: string, refuseMore: boolean): Promise<Uint8Array> {
  const inputs = data instanceof Uint8Array ? [data] : data;
  const stream = new DecompressionStream(format);
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let stopped = false;
  const feeding = (async () => {
    for (const input of inputs) {
      for (let at = 0; at < input.length && !stopped; at += FEED_BYTES) await writer.write(input.slice(at, at + FEED_BYTES));
    }
    if (!stopped) await writer.close();
  })().catch(() => undefined); // a broken stream is reported by the reading side
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (total + value.length > maxBytes) {
        if (refuseMore) throw new InvalidImageError('text-too-large', `${what} inflates past ${maxBytes} bytes`);
        parts.push(value.subarray(0, maxBytes - total));
        total = maxBytes;
        break;
      }
      total += value.length;
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof InvalidImageError) throw error;
    throw new InvalidImageError('text-chunk', `${what} is not a valid ${format === 'gzip' ? 'gzip' : 'zlib'} stream`);
  } finally {
    stopped = true;
    await reader.cancel().catch(() => undefined);
    await feeding;
  }
  return concatParts(parts, total);
}

export function concatParts(parts: readonly Uint8Array[], total = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
