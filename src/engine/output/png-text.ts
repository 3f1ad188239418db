import { inflateSync } from 'node:zlib';
import { InvalidImageError } from './image-errors.ts';
import { encodePngChunk, iteratePngChunks } from './png-chunks.ts';
import { decodePngLatin1Text } from './text-bytes.ts';

/** PNG spec 11.3.4.2: keywords are 1-79 Latin-1 bytes. */
const MAX_KEYWORD_LENGTH = 79;
const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/**
 * A text chunk the way Pillow's `PngInfo.add_text` (used by Fooocus and A1111) writes it: `tEXt` when the text is
 * Latin-1, otherwise an uncompressed `iTXt` holding UTF-8. Both stay uncompressed so any tool can grep them.
 */
export function encodePngTextChunk(keyword: string, text: string): Uint8Array {
  assertValidKeyword(keyword);
  if (text.includes('\0')) throw new RangeError(`PNG text for ${JSON.stringify(keyword)} must not contain NUL`);
  if (isLatin1(text)) {
    return encodePngChunk('tEXt', concatBytes([Buffer.from(keyword, 'latin1'), [0], Buffer.from(text, 'latin1')]));
  }
  // keyword NUL, compression flag 0, method 0, empty language tag NUL, empty translated keyword NUL, text.
  return encodePngChunk('iTXt', concatBytes([Buffer.from(keyword, 'latin1'), [0, 0, 0, 0, 0], Buffer.from(text, 'utf8')]));
}

/**
 * Every tEXt, zTXt and iTXt entry of a PNG, keyword to text. The whole file is validated on the way (lengths, CRCs,
 * IHDR first, IEND present), so a truncated download is an error rather than silently missing metadata. A keyword
 * seen twice keeps its last text, as Pillow (which Fooocus and A1111 read with) does. Compressed text may inflate to
 * at most the file's own size. The result has no prototype, so a `__proto__` keyword is plain data.
 */
export function readPngTextChunks(bytes: Uint8Array): Record<string, string> {
  const texts: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const chunk of iteratePngChunks(bytes)) {
    if (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt') continue;
    const where = `${chunk.type} chunk at byte ${chunk.offset}`;
    const [keyword, rest] = splitKeyword(chunk.data, where);
    texts[keyword] = decodeTextBody(chunk.type, rest, where, bytes.length);
  }
  return texts;
}

function decodeTextBody(type: string, body: Uint8Array, where: string, fileSize: number): string {
  // Latin-1 by the spec; valid UTF-8 (which some writers put there) is read as UTF-8.
  if (type === 'tEXt') return decodePngLatin1Text(body);
  if (type === 'zTXt') {
    if (body[0] !== 0) throw new InvalidImageError('text-chunk', `${where}: unknown compression method ${body[0]}`);
    return decodePngLatin1Text(inflateText(body.subarray(1), where, fileSize));
  }
  const compressed = body[0];
  if (body.length < 2 || (compressed !== 0 && compressed !== 1) || body[1] !== 0) {
    throw new InvalidImageError('text-chunk', `${where}: bad compression flag or method`);
  }
  const language = body.indexOf(0, 2);
  const translated = language < 0 ? -1 : body.indexOf(0, language + 1);
  if (translated < 0) throw new InvalidImageError('text-chunk', `${where}: language tag or translated keyword not terminated`);
  const raw = body.subarray(translated + 1);
  const text = compressed === 1 ? inflateText(raw, where, fileSize) : raw;
  try {
    return utf8.decode(text);
  } catch {
    throw new InvalidImageError('text-chunk', `${where}: text is not valid UTF-8`);
  }
}

function inflateText(data: Uint8Array, where: string, fileSize: number): Uint8Array {
  try {
    return inflateSync(data, { maxOutputLength: Math.max(1, fileSize) });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new InvalidImageError('text-too-large', `${where}: compressed text inflates past the file size (${fileSize} bytes)`);
    }
    throw new InvalidImageError('text-chunk', `${where}: compressed text is not a valid zlib stream`);
  }
}

function splitKeyword(data: Uint8Array, where: string): [string, Uint8Array] {
  const end = data.indexOf(0);
  if (end < 1 || end > MAX_KEYWORD_LENGTH) {
    throw new InvalidImageError('text-chunk', `${where}: keyword missing, unterminated or over ${MAX_KEYWORD_LENGTH} bytes`);
  }
  return [latin1.decode(data.subarray(0, end)), data.subarray(end + 1)];
}

function assertValidKeyword(keyword: string): void {
  const printable = /^[\x20-\x7e\xa1-\xff]+$/.test(keyword);
  const spacing = !/^ | $| {2}/.test(keyword);
  if (!printable || !spacing || keyword.length > MAX_KEYWORD_LENGTH) {
    throw new RangeError(
      `PNG text keyword ${JSON.stringify(keyword)} must be 1-79 printable Latin-1 characters without leading, trailing or double spaces`,
    );
  }
}

function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

function concatBytes(parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}
