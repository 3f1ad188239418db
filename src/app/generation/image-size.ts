import type { RgbImage } from '../../engine/index.ts';

/**
 * Image sizes from an aspect ratio, the way Fooocus's resolution list is built: keep the family's native pixel
 * area (1024^2 for SDXL, 512^2 for SD1.5) and round both sides to multiples of 64.
 */
export function sizeForAspect(aspect: string, nativeSide: number): { width: number; height: number } {
  const m = /^(\d+(?:\.\d+)?)[:x*/](\d+(?:\.\d+)?)$/.exec(aspect.trim());
  if (m === null) throw new RangeError(`aspect must look like 9:7 or 16:9, got "${aspect}"`);
  const ratio = Number(m[1]) / Number(m[2]);
  if (!(ratio >= 0.25 && ratio <= 4)) throw new RangeError(`aspect must be between 1:4 and 4:1, got "${aspect}"`);
  const area = nativeSide * nativeSide;
  const width = Math.max(64, Math.round(Math.sqrt(area * ratio) / 64) * 64);
  const height = Math.max(64, Math.round(area / Math.sqrt(area * ratio) / 64) * 64);
  return { width, height };
}

/** Parses `1152x896` (also `1152*896`, Fooocus's notation). */
export function parseSize(size: string): { width: number; height: number } {
  const m = /^(\d{2,5})[x*](\d{2,5})$/.exec(size.trim());
  if (m === null) throw new RangeError(`size must look like 1152x896, got "${size}"`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

/** Centre-crops an input image to multiples of 8 (the latent grid). */
export function cropToGrid(img: RgbImage): RgbImage {
  const width = img.width - (img.width % 8);
  const height = img.height - (img.height % 8);
  if (width === img.width && height === img.height) return img;
  const x0 = Math.floor((img.width - width) / 2);
  const y0 = Math.floor((img.height - height) / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) rgb.set(img.rgb.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + width) * 3), y * width * 3);
  return { width, height, rgb };
}
