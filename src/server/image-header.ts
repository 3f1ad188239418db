/**
 * Image type and size read from the first bytes of a PNG, JPEG or WebP file, without decoding. Uploads are
 * refused on these numbers before any decoder sees them (a 100000 x 100000 PNG can be a few kilobytes), and a
 * served file must really be the type it is served as.
 */
import type { ImageContentType } from './studio-port.ts';
import { checkUploadSize } from '../app/uploads/upload-size.ts';
import { RequestRefusal } from './request-refusal.ts';

export interface ImageHeader {
  contentType: ImageContentType;
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Null when the bytes are none of the three types or the header is cut short or malformed. */
export function readImageHeader(bytes: Buffer): ImageHeader | null {
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return readPng(bytes);
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return readJpeg(bytes);
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return readWebp(bytes);
  return null;
}

/**
 * The header of an image request body, refused (400 naming the rule) when it is unreadable or not the type the
 * `content-type` header declares, and (413) when its size is past the pixel quota: every route that takes an image
 * body runs this before any decoder sees the bytes.
 */
export function checkImageBody(bytes: Buffer, contentTypeHeader: string | undefined, maxPixels: number): ImageHeader {
  const header = readImageHeader(bytes);
  const declared = contentTypeHeader?.split(';', 1)[0]?.trim().toLowerCase();
  if (header === null) throw new RequestRefusal(400, 'invalid_request', 'the body is not a readable image header', { field: 'body', rule: 'image' });
  if (header.contentType !== declared) {
    throw new RequestRefusal(400, 'invalid_request', `the body is ${header.contentType}, not ${declared}`, { field: 'content-type', rule: 'matchesBody' });
  }
  checkUploadSize(header.width, header.height, maxPixels);
  return header;
}

/** The type the leading bytes announce, for files too large to read whole. */
export function sniffImageType(bytes: Buffer): ImageContentType | null {
  if (bytes.subarray(0, 8).equals(PNG_SIGNATURE)) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  if (bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WEBP') return 'image/webp';
  return null;
}

function readPng(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 24 || bytes.toString('latin1', 12, 16) !== 'IHDR') return null;
  return sized('image/png', bytes.readUInt32BE(16), bytes.readUInt32BE(20));
}

/** Walks the marker segments up to the first start-of-frame (SOF0-SOF15 less DHT, JPG and DAC). */
function readJpeg(bytes: Buffer): ImageHeader | null {
  let offset = 2;
  while (offset + 4 <= bytes.length) {
    if (bytes[offset] !== 0xff) return null;
    const marker = bytes[offset + 1] ?? 0;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return null;
    const length = bytes.readUInt16BE(offset + 2);
    if (length < 2) return null;
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (offset + 9 > bytes.length) return null;
      return sized('image/jpeg', bytes.readUInt16BE(offset + 7), bytes.readUInt16BE(offset + 5));
    }
    offset += 2 + length;
  }
  return null;
}

function readWebp(bytes: Buffer): ImageHeader | null {
  if (bytes.length < 30) return null;
  const chunk = bytes.toString('latin1', 12, 16);
  if (chunk === 'VP8 ') {
    if (bytes[23] !== 0x9d || bytes[24] !== 0x01 || bytes[25] !== 0x2a) return null;
    return sized('image/webp', bytes.readUInt16LE(26) & 0x3fff, bytes.readUInt16LE(28) & 0x3fff);
  }
  if (chunk === 'VP8L') {
    if (bytes[20] !== 0x2f) return null;
    const bits = bytes.readUInt32LE(21);
    return sized('image/webp', (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  if (chunk === 'VP8X') return sized('image/webp', bytes.readUIntLE(24, 3) + 1, bytes.readUIntLE(27, 3) + 1);
  return null;
}

function sized(contentType: ImageContentType, width: number, height: number): ImageHeader | null {
  return width > 0 && height > 0 ? { contentType, width, height } : null;
}
