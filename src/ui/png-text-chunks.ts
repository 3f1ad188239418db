/**
 * Reads the text chunks of a PNG in the browser (PNG spec 11.3.4): `tEXt` (Latin-1), `zTXt` (zlib, Latin-1) and
 * `iTXt` (UTF-8, optionally zlib). Chunk walking uses a DataView over the bytes; zlib goes through the platform's
 * DecompressionStream('deflate'), with a cap on the inflated size so a small file cannot expand without bound.
 */
const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Longest text kept from one chunk, inflated: generation parameters are a few kilobytes. */
export const MAX_TEXT_BYTES = 1 << 20;

export class PngReadError extends Error {
  override readonly name = 'PngReadError';
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= SIGNATURE.length && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Keyword -> text for every readable text chunk; the first chunk of a keyword wins. */
export async function readPngTextChunks(bytes: Uint8Array): Promise<Map<string, string>> {
  if (!isPng(bytes)) throw new PngReadError('This file is not a PNG image.');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const texts = new Map<string, string>();
  let at = SIGNATURE.length;
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = String.fromCharCode(bytes[at + 4]!, bytes[at + 5]!, bytes[at + 6]!, bytes[at + 7]!);
    const start = at + 8;
    const end = start + length;
    if (end + 4 > bytes.length) throw new PngReadError(`The PNG is cut short inside its ${type} chunk.`);
    const data = bytes.subarray(start, end);
    const entry = await readTextChunk(type, data);
    if (entry !== null && !texts.has(entry[0])) texts.set(entry[0], entry[1]);
    if (type === 'IEND') break;
    at = end + 4; // CRC
  }
  return texts;
}

async function readTextChunk(type: string, data: Uint8Array): Promise<[string, string] | null> {
  if (type !== 'tEXt' && type !== 'zTXt' && type !== 'iTXt') return null;
  const nul = data.indexOf(0);
  if (nul < 1 || nul > 79) return null;
  const keyword = latin1(data.subarray(0, nul));
  const rest = data.subarray(nul + 1);
  if (type === 'tEXt') return [keyword, latin1(capped(rest))];
  if (type === 'zTXt') {
    if (rest[0] !== 0) return null;
    return [keyword, latin1(await inflate(rest.subarray(1)))];
  }
  // iTXt: compression flag, method, language tag NUL, translated keyword NUL, text.
  const compressed = rest[0] === 1;
  if (rest.length < 2 || (compressed && rest[1] !== 0)) return null;
  const languageEnd = rest.indexOf(0, 2);
  const translatedEnd = languageEnd < 0 ? -1 : rest.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return null;
  const body = rest.subarray(translatedEnd + 1);
  const raw = compressed ? await inflate(body) : capped(body);
  return [keyword, new TextDecoder('utf-8', { fatal: false }).decode(raw)];
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

function capped(bytes: Uint8Array): Uint8Array {
  if (bytes.length > MAX_TEXT_BYTES) throw new PngReadError('A text chunk in this PNG is too large to be generation parameters.');
  return bytes;
}

/** zlib-wrapped deflate (RFC 1950), read chunk by chunk and abandoned past MAX_TEXT_BYTES. */
async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([new Uint8Array(bytes)]).stream().pipeThrough(new DecompressionStream('deflate'));
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > MAX_TEXT_BYTES) {
        await reader.cancel();
        throw new PngReadError('A compressed text chunk in this PNG inflates past the size limit.');
      }
      parts.push(value);
    }
  } catch (error) {
    if (error instanceof PngReadError) throw error;
    throw new PngReadError('A compressed text chunk in this PNG is damaged.');
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
