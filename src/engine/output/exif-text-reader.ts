/**
 * Reading the text fields of an EXIF (TIFF) block, pure TypeScript so the page runs it too. Every offset is
 * bounds-checked and each IFD is visited once, so hostile EXIF cannot loop or read outside the block.
 */
import { InvalidImageError } from './image-errors.ts';
import { decodeLatin1, decodeUtf16, decodeUtf8OrNull } from './text-bytes.ts';

/**
 * The EXIF fields image generators store text in: UserComment (A1111, Fooocus, Civitai, SwarmUI), MakerNote
 * (Fooocus's scheme name), Software, ImageDescription, and Windows' XPComment.
 */
export interface ExifTextFields {
  userComment?: string;
  makerNote?: string;
  software?: string;
  imageDescription?: string;
  xpComment?: string;
}

const TAG_IMAGE_DESCRIPTION = 0x010e;
const TAG_SOFTWARE = 0x0131;
const TAG_EXIF_IFD = 0x8769;
const TAG_USER_COMMENT = 0x9286;
const TAG_MAKER_NOTE = 0x927c;
const TAG_XP_COMMENT = 0x9c9c;
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };

/** Read the text fields of an EXIF block, with or without the `Exif\0\0` prefix JPEG APP1 and some WebP files carry. */
export function readExifTextFields(exif: Uint8Array): ExifTextFields {
  const tiff = startsWith(exif, 'Exif\0\0') ? exif.subarray(6) : exif;
  if (tiff.length < 8) throw new InvalidImageError('exif', 'EXIF block is shorter than its 8-byte TIFF header');
  const little = startsWith(tiff, 'II');
  if (!little && !startsWith(tiff, 'MM')) throw new InvalidImageError('exif', 'EXIF block has no II/MM byte-order mark');
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const fields: ExifTextFields = {};
  const ifd0 = readIfd(tiff, view, view.getUint32(4, little), little);
  const software = ifd0.get(TAG_SOFTWARE);
  if (software) fields.software = trimNul(decodeAscii(software));
  const description = ifd0.get(TAG_IMAGE_DESCRIPTION);
  if (description) fields.imageDescription = trimNul(decodeAscii(description));
  const xpComment = ifd0.get(TAG_XP_COMMENT);
  // Windows writes XP tags as UTF-16LE in a BYTE array, whatever the TIFF order.
  if (xpComment && xpComment.length % 2 === 0) fields.xpComment = trimNul(decodeUtf16(xpComment, true));
  const pointer = ifd0.get(TAG_EXIF_IFD);
  if (pointer && pointer.length === 4) {
    const exifIfd = readIfd(tiff, view, new DataView(pointer.buffer, pointer.byteOffset, 4).getUint32(0, little), little);
    const comment = exifIfd.get(TAG_USER_COMMENT);
    if (comment) fields.userComment = decodeUserComment(comment, little);
    const note = exifIfd.get(TAG_MAKER_NOTE);
    if (note) fields.makerNote = trimNul(decodeUtf8OrNull(note) ?? decodeLatin1(note));
  }
  return fields;
}

/**
 * Exif 2.3 table 9: an 8-byte character code, then the text. "UNICODE" text is UTF-16 whose byte order is read from
 * the text (see decodeUtf16); "ASCII" is read as UTF-8 when valid (writers put UTF-8 there), and an undefined or
 * missing code as UTF-8 too.
 */
function decodeUserComment(bytes: Uint8Array, little: boolean): string {
  const prefix = decodeLatin1(bytes.subarray(0, 8));
  const body = bytes.subarray(8);
  if (prefix === 'UNICODE\0') {
    if (body.length % 2 !== 0) throw new InvalidImageError('exif', 'EXIF UserComment UNICODE text has an odd byte count');
    return trimNul(decodeUtf16(body, little));
  }
  if (prefix === 'ASCII\0\0\0' || prefix === '\0\0\0\0\0\0\0\0') return trimNul(decodeUtf8OrNull(body) ?? decodeLatin1(body));
  if (prefix.startsWith('JIS')) throw new InvalidImageError('exif', 'EXIF UserComment in JIS encoding is not supported');
  return trimNul(decodeUtf8OrNull(bytes) ?? decodeLatin1(bytes));
}

function decodeAscii(bytes: Uint8Array): string {
  return decodeUtf8OrNull(bytes) ?? decodeLatin1(bytes);
}

function readIfd(tiff: Uint8Array, view: DataView, offset: number, little: boolean): Map<number, Uint8Array> {
  if (offset < 8 || offset + 2 > tiff.length) throw new InvalidImageError('exif', `EXIF IFD offset ${offset} is outside the block`);
  const count = view.getUint16(offset, little);
  if (offset + 2 + count * 12 > tiff.length) throw new InvalidImageError('exif', `EXIF IFD at ${offset} runs past the block`);
  const entries = new Map<number, Uint8Array>();
  for (let i = 0; i < count; i++) {
    const at = offset + 2 + i * 12;
    const tag = view.getUint16(at, little);
    const typeSize = TYPE_SIZES[view.getUint16(at + 2, little)];
    if (typeSize === undefined) continue;
    const size = view.getUint32(at + 4, little) * typeSize;
    const dataAt = size <= 4 ? at + 8 : view.getUint32(at + 8, little);
    if (dataAt + size > tiff.length) throw new InvalidImageError('exif', `EXIF tag 0x${tag.toString(16)} value runs past the block`);
    entries.set(tag, tiff.subarray(dataAt, dataAt + size));
  }
  return entries;
}

function trimNul(text: string): string {
  return text.replace(/^\ufeff/, '').replace(/\0+$/, '');
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  if (bytes.length < ascii.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return true;
}
