/**
 * Every text field an image file carries, whatever wrote it: PNG tEXt/zTXt/iTXt chunks (and stealth info in the
 * pixels' low bits when there are none), JPEG APP1 EXIF and COM segments, WebP EXIF chunks. Pure TypeScript on
 * DataViews, so the page reads a dropped file with the same code the server and the CLI use. Nothing is decoded
 * beyond what the metadata needs, and every size is capped before it is allocated.
 */
import { readExifTextFields, type ExifTextFields } from './exif-text-reader.ts';
import { InvalidImageError } from './image-errors.ts';
import { readStealthInfo } from './png-stealth-info.ts';
import { decodeLatin1, decodePngLatin1Text, decodeUtf8OrNull, inflateCapped } from './text-bytes.ts';

export type MetadataImageFormat = 'png' | 'jpeg' | 'webp';

export interface ImageTextFields {
  format: MetadataImageFormat;
  /**
   * Field name to text, no prototype. PNG keywords as written; EXIF fields under the names Fooocus reads them by
   * (`parameters` for UserComment, `fooocus_scheme` for a MakerNote naming a scheme) or their EXIF names
   * (`Software`, `ImageDescription`, `MakerNote`, `XPComment`); a JPEG comment as `Comment`; stealth info as
   * `parameters`.
   */
  texts: Record<string, string>;
  /** Where `parameters` came from when it was hidden in the pixels. */
  stealth?: 'alpha' | 'rgb';
}

export interface TextFieldLimits {
  /** Largest text of one field, after inflating; real parameters are a few KiB, ComfyUI graphs up to a few hundred. */
  maxTextBytes: number;
  /** Most text fields read from one file. */
  maxFields: number;
}

export const DEFAULT_TEXT_FIELD_LIMITS: TextFieldLimits = { maxTextBytes: 2 * 1024 * 1024, maxFields: 64 };

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_KEYWORD = 79;

/** The format of the bytes from their signature, or null when they are not a PNG, JPEG or WebP file. */
export function detectMetadataImageFormat(bytes: Uint8Array): MetadataImageFormat | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 12 && decodeLatin1(bytes.subarray(0, 4)) === 'RIFF' && decodeLatin1(bytes.subarray(8, 12)) === 'WEBP') return 'webp';
  return null;
}

export async function readImageTextFields(bytes: Uint8Array, limits: TextFieldLimits = DEFAULT_TEXT_FIELD_LIMITS): Promise<ImageTextFields> {
  const format = detectMetadataImageFormat(bytes);
  if (format === null) throw new InvalidImageError('signature', 'not a PNG, JPEG or WebP file');
  const fields = new TextFields(limits);
  if (format === 'png') return readPng(bytes, fields);
  if (format === 'jpeg') readJpeg(bytes, fields);
  else readWebp(bytes, fields);
  return { format, texts: fields.texts };
}

/** Collects fields under the caps; a keyword seen twice keeps its last text, as Pillow does. */
class TextFields {
  readonly texts: Record<string, string> = Object.create(null) as Record<string, string>;
  private count = 0;

  constructor(readonly limits: TextFieldLimits) {}

  add(key: string, text: string): void {
    if (++this.count > this.limits.maxFields) throw new InvalidImageError('text-chunk', `more than ${this.limits.maxFields} text fields`);
    this.texts[key] = text;
  }

  checkSize(key: string, size: number): void {
    if (size > this.limits.maxTextBytes) {
      throw new InvalidImageError('text-too-large', `text field ${JSON.stringify(key)} holds ${size} bytes, over the ${this.limits.maxTextBytes}-byte limit`);
    }
  }

  addExif(exif: Uint8Array): void {
    this.checkSize('EXIF', exif.length);
    const fields: ExifTextFields = readExifTextFields(exif);
    if (fields.userComment !== undefined) this.add('parameters', fields.userComment);
    if (fields.makerNote !== undefined) this.add(fields.makerNote === 'fooocus' || fields.makerNote === 'a1111' ? 'fooocus_scheme' : 'MakerNote', fields.makerNote);
    if (fields.software !== undefined) this.add('Software', fields.software);
    if (fields.imageDescription !== undefined) this.add('ImageDescription', fields.imageDescription);
    if (fields.xpComment !== undefined) this.add('XPComment', fields.xpComment);
  }
}

async function readPng(bytes: Uint8Array, fields: TextFields): Promise<ImageTextFields> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = PNG_SIGNATURE.length;
  let header: { width: number; height: number; channels: 3 | 4 | null; plain: boolean } | null = null;
  const idat: Uint8Array[] = [];
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const type = decodeLatin1(bytes.subarray(at + 4, at + 8));
    if (length > bytes.length - at - 12) throw new InvalidImageError('chunk-length', `PNG chunk ${type} at byte ${at} runs past the end of the file`);
    const data = bytes.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR' && length === 13) {
      const colour = data[9];
      header = { width: view.getUint32(at + 8), height: view.getUint32(at + 12), channels: colour === 6 ? 4 : colour === 2 ? 3 : null, plain: data[8] === 8 && data[12] === 0 };
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'tEXt' || type === 'zTXt' || type === 'iTXt') await readTextChunk(type, data, at, fields);
    else if (type === 'eXIf') fields.addExif(data);
    else if (type === 'IEND') break;
    at += 12 + length;
  }
  if (header === null) throw new InvalidImageError('ihdr', 'PNG has no IHDR chunk');
  // The extension reads the pixels only when the file has no parameters text, and so does this reader.
  if (fields.texts.parameters === undefined && header.channels !== null && header.plain && idat.length > 0) {
    const stealth = await readStealthInfo({ width: header.width, height: header.height, channels: header.channels, compressed: idat }, fields.limits.maxTextBytes);
    if (stealth !== null) {
      fields.add('parameters', stealth.text);
      return { format: 'png', texts: fields.texts, stealth: stealth.mode };
    }
  }
  return { format: 'png', texts: fields.texts };
}

async function readTextChunk(type: string, data: Uint8Array, offset: number, fields: TextFields): Promise<void> {
  const where = `PNG ${type} chunk at byte ${offset}`;
  const end = data.indexOf(0);
  if (end < 1 || end > MAX_KEYWORD) throw new InvalidImageError('text-chunk', `${where}: keyword missing, unterminated or over ${MAX_KEYWORD} bytes`);
  const keyword = decodeLatin1(data.subarray(0, end));
  const body = data.subarray(end + 1);
  const max = fields.limits.maxTextBytes;
  if (type === 'tEXt') {
    fields.checkSize(keyword, body.length);
    fields.add(keyword, decodePngLatin1Text(body));
  } else if (type === 'zTXt') {
    if (body[0] !== 0) throw new InvalidImageError('text-chunk', `${where}: unknown compression method ${body[0]}`);
    fields.add(keyword, decodePngLatin1Text(await inflateCapped(body.subarray(1), 'deflate', max, `${where} (${keyword})`)));
  } else {
    const compressed = body[0];
    if (body.length < 2 || (compressed !== 0 && compressed !== 1) || body[1] !== 0) throw new InvalidImageError('text-chunk', `${where}: bad compression flag or method`);
    const language = body.indexOf(0, 2);
    const translated = language < 0 ? -1 : body.indexOf(0, language + 1);
    if (translated < 0) throw new InvalidImageError('text-chunk', `${where}: language tag or translated keyword not terminated`);
    const raw = body.subarray(translated + 1);
    if (compressed === 0) fields.checkSize(keyword, raw.length);
    const text = decodeUtf8OrNull(compressed === 1 ? await inflateCapped(raw, 'deflate', max, `${where} (${keyword})`) : raw);
    if (text === null) throw new InvalidImageError('text-chunk', `${where} (${keyword}): text is not valid UTF-8`);
    fields.add(keyword, text);
  }
}

/** JPEG segments up to the start of the scan: APP1 with an `Exif\0\0` identifier, and COM. */
function readJpeg(bytes: Uint8Array, fields: TextFields): void {
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) throw new InvalidImageError('truncated', `JPEG has no segment marker at byte ${at}`);
    const marker = bytes[at + 1]!;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return; // end of image, start of scan: no metadata follows
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    const length = (bytes[at + 2]! << 8) | bytes[at + 3]!;
    if (length < 2 || at + 2 + length > bytes.length) throw new InvalidImageError('truncated', `JPEG segment at byte ${at} runs past the end of the file`);
    const body = bytes.subarray(at + 4, at + 2 + length);
    if (marker === 0xe1 && decodeLatin1(body.subarray(0, 6)) === 'Exif\0\0') fields.addExif(body);
    else if (marker === 0xfe) fields.add('Comment', decodeUtf8OrNull(body) ?? decodeLatin1(body));
    at += 2 + length;
  }
}

/** RIFF chunks of a WebP file; metadata lives in `EXIF` (with or without the `Exif\0\0` prefix some writers add). */
function readWebp(bytes: Uint8Array, fields: TextFields): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = Math.min(bytes.length, 8 + view.getUint32(4, true));
  let at = 12;
  while (at + 8 <= end) {
    const type = decodeLatin1(bytes.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    if (size > end - at - 8) throw new InvalidImageError('truncated', `WebP chunk ${type} at byte ${at} runs past the end of the file`);
    if (type === 'EXIF') fields.addExif(bytes.subarray(at + 8, at + 8 + size));
    at += 8 + size + (size % 2);
  }
}
