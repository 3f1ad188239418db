import { readFile } from 'node:fs/promises';
import type sharpDefault from 'sharp';
import { insertJpegExif, insertWebpExif } from './exif-container.ts';
import { encodeExifTextFields, type ExifTextFields } from './exif-user-comment.ts';
import { readImageTextFields } from './image-text-fields.ts';
import { InvalidImageError } from './image-errors.ts';
import { decodePng, DEFAULT_MAX_PIXELS, encodePng, type DecodeImageOptions, type RgbImage } from './png.ts';
import { hasPngSignature } from './png-chunks.ts';
import { readPngTextChunks } from './png-text.ts';

export type ImageFormat = 'png' | 'jpeg' | 'webp';

export interface EncodeImageOptions {
  format: ImageFormat;
  /** JPEG/WebP quality 1..100; default 95, as Fooocus saves. Ignored for PNG. */
  quality?: number;
  /**
   * PNG: one text chunk per entry (Fooocus writes `parameters` and `fooocus_scheme`). JPEG/WebP: EXIF, the way
   * Fooocus maps them: `parameters` to UserComment, `fooocus_scheme` to MakerNote, `Software` to Software; any other
   * key has no EXIF home and is refused rather than dropped.
   */
  metadata?: Record<string, string>;
}

export const DEFAULT_QUALITY = 95;
const EXIF_KEYS: Record<string, keyof ExifTextFields> = { parameters: 'userComment', fooocus_scheme: 'makerNote', Software: 'software' };

/** Encode RGB pixels (row-major, 3 bytes per pixel) with metadata. PNG is pure TypeScript; JPEG and WebP use sharp. */
export async function encodeImage(rgb: Uint8Array, width: number, height: number, options: EncodeImageOptions): Promise<Uint8Array> {
  const metadata = options.metadata ?? {};
  if (options.format === 'png') return encodePng(rgb, width, height, metadata);
  const quality = options.quality ?? DEFAULT_QUALITY;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw new RangeError(`quality must be an integer in 1..100, got ${quality}`);
  if (rgb.length !== width * height * 3) throw new RangeError(`rgb must hold width x height x 3 = ${width * height * 3} bytes, got ${rgb.length}`);
  const exif = toExifFields(metadata);
  const sharp = await loadSharp();
  const image = sharp(rgb, { raw: { width, height, channels: 3 } });
  const encoded =
    options.format === 'jpeg' ? await image.jpeg({ quality, mozjpeg: true }).toBuffer() : await image.webp({ quality }).toBuffer();
  if (Object.keys(exif).length === 0) return encoded;
  const tiff = encodeExifTextFields(exif);
  return options.format === 'jpeg' ? insertJpegExif(encoded, tiff) : insertWebpExif(encoded, tiff, width, height);
}

/** Which of the formats this project writes the bytes are, from their signature; null for anything else. */
export function detectImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (hasPngSignature(bytes)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const riff = Buffer.from(bytes.subarray(0, 12)).toString('latin1');
  if (riff.startsWith('RIFF') && riff.endsWith('WEBP')) return 'webp';
  return null;
}

/**
 * The metadata `encodeImage` stores, read back: PNG text chunks, or the EXIF fields of a JPEG/WebP under the same
 * keys (`parameters`, `fooocus_scheme`, `Software`). The result has no prototype, so any key is plain data.
 */
export async function readImageMetadata(bytes: Uint8Array): Promise<Record<string, string>> {
  const format = requireFormat(bytes);
  if (format === 'png') return readPngTextChunks(bytes);
  // The EXIF of a JPEG or WebP is read by the same pure reader the page and the metadata route use.
  const { texts } = await readImageTextFields(bytes);
  const result: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const key of Object.keys(EXIF_KEYS)) if (Object.hasOwn(texts, key)) result[key] = texts[key]!;
  return result;
}

/**
 * Decode a PNG, JPEG or WebP to RGB (transparency composited over white, as Fooocus's `HWC3` does). PNG uses the
 * pure decoder; JPEG and WebP use sharp with the same pixel limit, checked before decoding.
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeImageOptions = {}): Promise<RgbImage> {
  const format = requireFormat(bytes);
  if (format === 'png') return decodePng(bytes, options);
  const sharp = await loadSharp();
  const { data, info } = await runSharp(format, () =>
    sharp(bytes, { limitInputPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS, failOn: 'error' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true }),
  );
  if (info.channels !== 3) throw new InvalidImageError('unsupported', `${format} decoded to ${info.channels} channels instead of 3`);
  return { width: info.width, height: info.height, rgb: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export interface ReadImageFileOptions extends DecodeImageOptions {
  /** What asked for the file (`--input`, `input.image`), named in the error with the file. */
  source?: string;
}

/**
 * Reads and decodes an image file. A file that is not an image this project reads is refused with an
 * InvalidImageError naming the source and the file (`--input notes.txt: not a PNG, JPEG or WebP file`).
 */
export async function readImageFile(file: string, options: ReadImageFileOptions = {}): Promise<RgbImage> {
  const { source, ...decodeOptions } = options;
  const bytes = new Uint8Array(await readFile(file));
  try {
    return await decodeImage(bytes, decodeOptions);
  } catch (err) {
    if (err instanceof InvalidImageError) err.message = `${source === undefined ? '' : `${source} `}${file}: ${err.message}`;
    throw err;
  }
}

function toExifFields(metadata: Record<string, string>): ExifTextFields {
  const fields: ExifTextFields = {};
  for (const [key, value] of Object.entries(metadata)) {
    const field = Object.hasOwn(EXIF_KEYS, key) ? EXIF_KEYS[key] : undefined;
    if (field === undefined) {
      throw new RangeError(`metadata key ${JSON.stringify(key)} has no EXIF field in JPEG/WebP (use parameters, fooocus_scheme or Software)`);
    }
    fields[field] = value;
  }
  return fields;
}

export function requireFormat(bytes: Uint8Array): ImageFormat {
  const format = detectImageFormat(bytes);
  if (!format) throw new InvalidImageError('signature', 'not a PNG, JPEG or WebP file');
  return format;
}

/** sharp's errors come from libvips; wrap them so callers see one typed error for every unreadable image. */
export async function runSharp<T>(format: ImageFormat, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    const problem = /pixel limit/i.test(detail) ? 'too-large' : 'pixel-data';
    throw new InvalidImageError(problem, `${format} image could not be decoded: ${detail}`);
  }
}

/** Loaded on first use so importing the engine does not load a native library. */
export async function loadSharp(): Promise<typeof sharpDefault> {
  const module = await import('sharp');
  return module.default;
}
