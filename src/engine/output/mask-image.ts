/**
 * A mask as a user gives it, decoded to one grey channel (255 = repaint). A painted layer on transparency (what a
 * canvas exports, or a PNG cut-out) carries the mask in its alpha channel; an opaque image carries it in its
 * luminance (white strokes on black, as Fooocus's mask upload takes it). So: alpha when any pixel is less than
 * fully opaque, else luminance (ITU-R BT.601 weights, as PIL's `convert('L')`).
 */
import { readFile } from 'node:fs/promises';
import { DEFAULT_MAX_PIXELS, type DecodeImageOptions } from './png.ts';
import { InvalidImageError } from './image-errors.ts';
import { loadSharp, requireFormat, runSharp } from './image-encoding.ts';
import type { GreyMask } from '../inpaint/inpaint-settings.ts';

/** One 8-bit channel, row-major: [height, width]; the inpaint engine's mask type. */
export type GreyImage = GreyMask;

/** Decodes a PNG, JPEG or WebP mask (the pixel limit checked on the header first); see the module comment. */
export async function decodeMaskImage(bytes: Uint8Array, options: DecodeImageOptions = {}): Promise<GreyImage> {
  const format = requireFormat(bytes);
  const sharp = await loadSharp();
  const { data, info } = await runSharp(format, () =>
    sharp(bytes, { limitInputPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS, failOn: 'error' }).toColourspace('srgb').ensureAlpha().raw().toBuffer({ resolveWithObject: true }),
  );
  return greyFromRgba(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), info.width, info.height);
}

/** The mask of RGBA pixels: alpha when the image has any transparency, else luminance. */
export function greyFromRgba(rgba: Uint8Array, width: number, height: number): GreyImage {
  const count = width * height;
  const data = new Uint8Array(count);
  let transparent = false;
  for (let i = 0; i < count && !transparent; i++) transparent = rgba[i * 4 + 3]! < 255;
  for (let i = 0; i < count; i++) {
    const at = i * 4;
    data[i] = transparent ? rgba[at + 3]! : Math.round((rgba[at]! * 299 + rgba[at + 1]! * 587 + rgba[at + 2]! * 114) / 1000);
  }
  return { width, height, data };
}

/** The luminance of RGB pixels as a mask (a stored mask keeps its grey in all three channels). */
export function greyFromRgb(rgb: Uint8Array, width: number, height: number): GreyImage {
  const data = new Uint8Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = Math.round((rgb[i * 3]! * 299 + rgb[i * 3 + 1]! * 587 + rgb[i * 3 + 2]! * 114) / 1000);
  return { width, height, data };
}

/** Grey as RGB (each value in all three channels), for the PNG writer, which writes RGB. */
export function rgbFromGrey(mask: GreyImage): Uint8Array {
  const rgb = new Uint8Array(mask.data.length * 3);
  for (let i = 0; i < mask.data.length; i++) rgb.fill(mask.data[i]!, i * 3, i * 3 + 3);
  return rgb;
}

/**
 * Reads and decodes a mask file (see decodeMaskImage); a file that is not an image is refused naming `source` (the
 * option or field that named it) and the file, as readImageFile does for input images.
 */
export async function readMaskFile(file: string, options: DecodeImageOptions & { source?: string } = {}): Promise<GreyImage> {
  const { source, ...decodeOptions } = options;
  const bytes = new Uint8Array(await readFile(file));
  try {
    return await decodeMaskImage(bytes, decodeOptions);
  } catch (err) {
    if (err instanceof InvalidImageError) err.message = `${source === undefined ? '' : `${source} `}${file}: ${err.message}`;
    throw err;
  }
}
