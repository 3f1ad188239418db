import { deflateSync, inflateSync } from 'node:zlib';
import type { RgbImage } from '../rgb-image.ts';
import { InvalidImageError } from './image-errors.ts';
import { encodePngChunk, iteratePngChunks, PNG_SIGNATURE, type PngChunk } from './png-chunks.ts';
import { filterScanlines, unfilterScanlines } from './png-filters.ts';
import { encodePngTextChunk } from './png-text.ts';

export type { RgbImage };

export interface DecodeImageOptions {
  /** Refuse images with more pixels than this before allocating anything for them. Default 4096 x 4096. */
  maxPixels?: number;
}

export const DEFAULT_MAX_PIXELS = 4096 * 4096;
/** PNG spec 11.2.2: width and height are 1..2^31-1. */
const MAX_DIMENSION = 0x7fffffff;
/** Deflate cannot expand data by more than about 1032:1, so more promised bytes than this means truncated data. */
const MAX_DEFLATE_RATIO = 1032;

const COLOR_GRAY = 0;
const COLOR_RGB = 2;
const COLOR_PALETTE = 3;
const COLOR_GRAY_ALPHA = 4;
const COLOR_RGBA = 6;
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/**
 * An 8-bit RGB, non-interlaced PNG with the given text chunks (in insertion order, before the pixel data so readers
 * that stop early still see them).
 */
export function encodePng(rgb: Uint8Array, width: number, height: number, text: Record<string, string> = {}): Uint8Array {
  assertDimensions(width, height);
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`rgb must hold width x height x 3 = ${width * height * 3} bytes, got ${rgb.length}`);
  }
  const ihdr = new Uint8Array(13);
  const view = new DataView(ihdr.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  ihdr.set([8, COLOR_RGB, 0, 0, 0], 8); // bit depth, colour type, compression, filter method, interlace
  const parts: Uint8Array[] = [PNG_SIGNATURE, encodePngChunk('IHDR', ihdr)];
  for (const [keyword, value] of Object.entries(text)) parts.push(encodePngTextChunk(keyword, value));
  parts.push(encodePngChunk('IDAT', deflateSync(filterScanlines(rgb, width * 3, 3, height))));
  parts.push(encodePngChunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

interface PngHeader {
  width: number;
  height: number;
  colorType: number;
  channels: number;
}

/**
 * Decode an 8-bit, non-interlaced grayscale, gray+alpha, RGB, RGBA or palette PNG to RGB. Transparent pixels are
 * composited over white, as Fooocus's `HWC3` does for RGBA inputs; a tRNS colour key on a gray or RGB image is
 * ignored (those pixels stay opaque). Memory stays bounded: the pixel limit is checked from IHDR before inflating,
 * and inflation stops at exactly the bytes width x height need.
 */
export function decodePng(bytes: Uint8Array, options: DecodeImageOptions = {}): RgbImage {
  let header: PngHeader | null = null;
  let palette: Uint8Array | null = null;
  let alphaTable: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let idatEnded = false;
  for (const chunk of iteratePngChunks(bytes)) {
    if (chunk.type === 'IHDR') {
      if (header) throw new InvalidImageError('ihdr', 'PNG has more than one IHDR chunk');
      header = parseIhdr(chunk, options.maxPixels ?? DEFAULT_MAX_PIXELS);
    } else if (chunk.type === 'PLTE') {
      if (idat.length > 0) throw new InvalidImageError('chunk-order', 'PNG PLTE chunk comes after image data');
      if (chunk.data.length % 3 !== 0 || chunk.data.length === 0 || chunk.data.length > 768) {
        throw new InvalidImageError('palette', `PNG PLTE chunk has ${chunk.data.length} bytes, not 3 x 1..256 entries`);
      }
      palette = chunk.data;
    } else if (chunk.type === 'tRNS') {
      alphaTable = chunk.data;
    } else if (chunk.type === 'IDAT') {
      if (idatEnded) throw new InvalidImageError('chunk-order', 'PNG IDAT chunks are not consecutive');
      idat.push(chunk.data);
    } else {
      if (idat.length > 0) idatEnded = true;
      const critical = (chunk.type.charCodeAt(0) & 0x20) === 0;
      if (critical && chunk.type !== 'IEND') {
        throw new InvalidImageError('unsupported', `PNG has unknown critical chunk ${chunk.type}`);
      }
    }
  }
  if (!header) throw new InvalidImageError('ihdr', 'PNG has no IHDR chunk');
  if (idat.length === 0) throw new InvalidImageError('truncated', 'PNG has no IDAT (pixel data) chunk');
  if (header.colorType === COLOR_PALETTE && !palette) throw new InvalidImageError('palette', 'palette PNG has no PLTE chunk');
  const rowBytes = header.width * header.channels;
  const pixels = unfilterScanlines(inflatePixels(Buffer.concat(idat), header), rowBytes, header.channels, header.height);
  return { width: header.width, height: header.height, rgb: toRgb(pixels, header, palette, alphaTable) };
}

function parseIhdr(chunk: PngChunk, maxPixels: number): PngHeader {
  if (chunk.data.length !== 13) throw new InvalidImageError('ihdr', `PNG IHDR has ${chunk.data.length} bytes instead of 13`);
  const view = new DataView(chunk.data.buffer, chunk.data.byteOffset, 13);
  const width = view.getUint32(0);
  const height = view.getUint32(4);
  const [bitDepth, colorType, compression, filter, interlace] = chunk.data.subarray(8);
  if (width === 0 || height === 0 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new InvalidImageError('ihdr', `PNG size ${width}x${height} is outside 1..2^31-1`);
  }
  const channels = CHANNELS[colorType!];
  if (channels === undefined || compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) {
    throw new InvalidImageError('ihdr', `PNG IHDR has invalid colour type ${colorType}, compression, filter or interlace method`);
  }
  if (bitDepth !== 8) throw new InvalidImageError('unsupported', `PNG bit depth ${bitDepth} is not supported (only 8-bit)`);
  if (interlace === 1) throw new InvalidImageError('unsupported', 'interlaced (Adam7) PNGs are not supported');
  if (width * height > maxPixels) {
    throw new InvalidImageError('too-large', `PNG is ${width}x${height}, over the limit of ${maxPixels} pixels`);
  }
  return { width, height, colorType: colorType!, channels };
}

function inflatePixels(compressed: Uint8Array, header: PngHeader): Uint8Array {
  const expected = header.height * (1 + header.width * header.channels);
  if (expected > compressed.length * MAX_DEFLATE_RATIO + 1024) {
    throw new InvalidImageError('truncated', `PNG pixel data is too short for ${header.width}x${header.height}`);
  }
  let raw: Uint8Array;
  try {
    raw = inflateSync(compressed, { maxOutputLength: expected });
  } catch (error) {
    if (error instanceof RangeError) {
      throw new InvalidImageError('pixel-data', `PNG pixel data inflates past the ${expected} bytes ${header.width}x${header.height} need`);
    }
    throw new InvalidImageError('pixel-data', 'PNG pixel data is not a valid zlib stream (corrupt or truncated)');
  }
  if (raw.length !== expected) {
    throw new InvalidImageError('truncated', `PNG pixel data holds ${raw.length} bytes, ${expected} expected`);
  }
  return raw;
}

function toRgb(pixels: Uint8Array, header: PngHeader, palette: Uint8Array | null, alphaTable: Uint8Array | null): Uint8Array {
  const count = header.width * header.height;
  const rgb = new Uint8Array(count * 3);
  const paletteSize = palette ? palette.length / 3 : 0;
  for (let i = 0; i < count; i++) {
    let r: number, g: number, b: number;
    let alpha = 255;
    switch (header.colorType) {
      case COLOR_GRAY:
      case COLOR_GRAY_ALPHA: {
        const at = i * header.channels;
        r = g = b = pixels[at]!;
        if (header.colorType === COLOR_GRAY_ALPHA) alpha = pixels[at + 1]!;
        break;
      }
      case COLOR_PALETTE: {
        const index = pixels[i]!;
        if (index >= paletteSize) throw new InvalidImageError('palette', `PNG pixel ${i} uses palette index ${index} of ${paletteSize}`);
        [r, g, b] = [palette![index * 3]!, palette![index * 3 + 1]!, palette![index * 3 + 2]!];
        if (alphaTable && index < alphaTable.length) alpha = alphaTable[index]!;
        break;
      }
      default: {
        const at = i * header.channels;
        [r, g, b] = [pixels[at]!, pixels[at + 1]!, pixels[at + 2]!];
        if (header.colorType === COLOR_RGBA) alpha = pixels[at + 3]!;
      }
    }
    rgb[i * 3] = compositeOverWhite(r, alpha);
    rgb[i * 3 + 1] = compositeOverWhite(g, alpha);
    rgb[i * 3 + 2] = compositeOverWhite(b, alpha);
  }
  return rgb;
}

function compositeOverWhite(value: number, alpha: number): number {
  if (alpha === 255) return value;
  return Math.round((value * alpha + 255 * (255 - alpha)) / 255);
}

function assertDimensions(width: number, height: number): void {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || width > MAX_DIMENSION || height > MAX_DIMENSION) {
    throw new RangeError(`PNG size must be integers in 1..2^31-1, got ${width}x${height}`);
  }
}
