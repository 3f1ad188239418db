import type { ExifTextFields } from './exif-text-reader.ts';

/**
 * Fooocus (`meta_parser.get_exif`) stores the generation parameters of JPEG and WebP files in UserComment, the
 * metadata scheme (`fooocus` or `a1111`) in MakerNote, and the writing program in Software. Reading is the pure
 * exif-text-reader.ts (the page runs it too).
 */
export { readExifTextFields, type ExifTextFields } from './exif-text-reader.ts';

const TAG_SOFTWARE = 0x0131;
const TAG_EXIF_IFD = 0x8769;
const TAG_USER_COMMENT = 0x9286;
const TAG_MAKER_NOTE = 0x927c;
const TYPE_ASCII = 2;
const TYPE_LONG = 4;
const TYPE_UNDEFINED = 7;
/** Exif 2.3 table 9: the 8-byte character code that starts a UserComment. */
const UNICODE_PREFIX = 'UNICODE\0';

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
