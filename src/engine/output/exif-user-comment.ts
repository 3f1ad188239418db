import { InvalidImageError } from './image-errors.ts';

/**
 * The few EXIF fields Fooocus (`meta_parser.get_exif`) stores in JPEG and WebP files: the generation parameters in
 * UserComment, the metadata scheme (`fooocus` or `a1111`) in MakerNote, and the writing program in Software.
 */
export interface ExifTextFields {
  userComment?: string;
  makerNote?: string;
  software?: string;
}

const TAG_SOFTWARE = 0x0131;
const TAG_EXIF_IFD = 0x8769;
const TAG_USER_COMMENT = 0x9286;
const TAG_MAKER_NOTE = 0x927c;
const TYPE_ASCII = 2;
const TYPE_LONG = 4;
const TYPE_UNDEFINED = 7;
const TYPE_SIZES: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8 };
/** Exif 2.3 table 9: the 8-byte character code that starts a UserComment. */
const UNICODE_PREFIX = 'UNICODE\0';
const ASCII_PREFIX = 'ASCII\0\0\0';
const UNDEFINED_PREFIX = '\0\0\0\0\0\0\0\0';

interface IfdEntry {
  tag: number;
  type: number;
  bytes: Uint8Array;
}

/**
 * A big-endian TIFF/EXIF block as piexif writes it for A1111: UserComment is "UNICODE\0" then UTF-16BE, so any
 * character survives (libvips, behind sharp's `withExif`, writes UserComment as ASCII and turns the rest into `?`).
 */
export function encodeExifTextFields(fields: ExifTextFields): Uint8Array {
  const ifd0: IfdEntry[] = [];
  const exifIfd: IfdEntry[] = [];
  if (fields.software !== undefined) ifd0.push({ tag: TAG_SOFTWARE, type: TYPE_ASCII, bytes: Buffer.from(`${fields.software}\0`, 'latin1') });
  if (fields.userComment !== undefined) {
    const utf16be = Buffer.from(fields.userComment, 'utf16le').swap16();
    exifIfd.push({ tag: TAG_USER_COMMENT, type: TYPE_UNDEFINED, bytes: Buffer.concat([Buffer.from(UNICODE_PREFIX, 'latin1'), utf16be]) });
  }
  if (fields.makerNote !== undefined) exifIfd.push({ tag: TAG_MAKER_NOTE, type: TYPE_UNDEFINED, bytes: Buffer.from(fields.makerNote, 'utf8') });

  const ifd0Size = ifdSize(ifd0.length + (exifIfd.length > 0 ? 1 : 0));
  const ifd0Data = ifd0.reduce((n, e) => n + paddedDataSize(e), 0);
  const exifOffset = 8 + ifd0Size + ifd0Data;
  if (exifIfd.length > 0) ifd0.push({ tag: TAG_EXIF_IFD, type: TYPE_LONG, bytes: uint32be(exifOffset) });
  const total = exifOffset + (exifIfd.length > 0 ? ifdSize(exifIfd.length) + exifIfd.reduce((n, e) => n + paddedDataSize(e), 0) : 0);
  const out = new Uint8Array(total);
  out.set([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]); // "MM", 42, IFD0 at 8
  writeIfd(out, 8, ifd0);
  if (exifIfd.length > 0) writeIfd(out, exifOffset, exifIfd);
  return out;
}

/**
 * Read UserComment, MakerNote and Software from an EXIF block (with or without the `Exif\0\0` APP1 prefix). Every
 * offset is bounds-checked and each IFD is visited once, so hostile EXIF cannot loop or read outside the block.
 */
export function readExifTextFields(exif: Uint8Array): ExifTextFields {
  const tiff = startsWith(exif, 'Exif\0\0') ? exif.subarray(6) : exif;
  if (tiff.length < 8) throw new InvalidImageError('exif', 'EXIF block is shorter than its 8-byte TIFF header');
  const little = startsWith(tiff, 'II');
  if (!little && !startsWith(tiff, 'MM')) throw new InvalidImageError('exif', 'EXIF block has no II/MM byte-order mark');
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const fields: ExifTextFields = {};
  const ifd0 = readIfd(tiff, view, view.getUint32(4, little), little);
  const software = ifd0.get(TAG_SOFTWARE);
  if (software) fields.software = Buffer.from(software).toString('latin1').replace(/\0+$/, '');
  const pointer = ifd0.get(TAG_EXIF_IFD);
  if (pointer && pointer.length === 4) {
    const exifIfd = readIfd(tiff, view, new DataView(pointer.buffer, pointer.byteOffset, 4).getUint32(0, little), little);
    const comment = exifIfd.get(TAG_USER_COMMENT);
    if (comment) fields.userComment = decodeUserComment(comment, little);
    const note = exifIfd.get(TAG_MAKER_NOTE);
    if (note) fields.makerNote = Buffer.from(note).toString('utf8').replace(/\0+$/, '');
  }
  return fields;
}

function decodeUserComment(bytes: Uint8Array, little: boolean): string {
  const prefix = Buffer.from(bytes.subarray(0, 8)).toString('latin1');
  const body = Buffer.from(bytes.subarray(8));
  if (prefix === UNICODE_PREFIX) {
    if (body.length % 2 !== 0) throw new InvalidImageError('exif', 'EXIF UserComment UNICODE text has an odd byte count');
    // piexif (A1111) writes UTF-16BE whatever the TIFF byte order; a BOM or a little-endian TIFF says otherwise.
    const bom = body.length >= 2 ? body.readUInt16BE(0) : 0;
    const le = bom === 0xfffe || (bom !== 0xfeff && little);
    const text = le ? body : Buffer.from(body).swap16();
    return text.toString('utf16le').replace(/^\ufeff/, '').replace(/\0+$/, '');
  }
  if (prefix === ASCII_PREFIX) return body.toString('latin1').replace(/\0+$/, '');
  if (prefix === UNDEFINED_PREFIX) return body.toString('utf8').replace(/\0+$/, '');
  if (prefix.startsWith('JIS')) throw new InvalidImageError('exif', 'EXIF UserComment in JIS encoding is not supported');
  return Buffer.from(bytes).toString('utf8').replace(/\0+$/, '');
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

function writeIfd(out: Uint8Array, offset: number, entries: IfdEntry[]): void {
  entries.sort((a, b) => a.tag - b.tag);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  view.setUint16(offset, entries.length);
  let dataAt = offset + ifdSize(entries.length);
  entries.forEach((entry, i) => {
    const at = offset + 2 + i * 12;
    view.setUint16(at, entry.tag);
    view.setUint16(at + 2, entry.type);
    view.setUint32(at + 4, entry.type === TYPE_LONG ? entry.bytes.length / 4 : entry.bytes.length);
    if (entry.bytes.length <= 4) {
      out.set(entry.bytes, at + 8);
    } else {
      view.setUint32(at + 8, dataAt);
      out.set(entry.bytes, dataAt);
      dataAt += paddedDataSize(entry);
    }
  });
  view.setUint32(offset + 2 + entries.length * 12, 0); // no next IFD
}

/** Entry count, 12 bytes per entry, next-IFD offset. */
function ifdSize(count: number): number {
  return 2 + count * 12 + 4;
}

/** Values over 4 bytes live outside the entry, word-aligned as TIFF 6.0 asks. */
function paddedDataSize(entry: IfdEntry): number {
  return entry.bytes.length <= 4 ? 0 : entry.bytes.length + (entry.bytes.length % 2);
}

function uint32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value);
  return out;
}

function startsWith(bytes: Uint8Array, ascii: string): boolean {
  for (let i = 0; i < ascii.length; i++) if (bytes[i] !== ascii.charCodeAt(i)) return false;
  return bytes.length >= ascii.length;
}
