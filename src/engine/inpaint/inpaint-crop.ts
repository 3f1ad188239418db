/**
 * Where Fooocus inpaints: the area around the mask, made square, enlarged, grown to the "respective field", and
 * the size that area is generated at. Boxes are half-open pixel ranges: rows [top, bottom), columns [left, right).
 */
import { roundHalfToEven } from '../guidance/round-half-to-even.ts';
import type { RgbImage } from '../rgb-image.ts';
import { resampleLanczos } from '../upscale/lanczos-resample.ts';
import { maskBounds } from './grey-mask.ts';
import type { GreyMask } from './inpaint-settings.ts';

export interface CropBox {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Fooocus enlarges the square around the mask by this factor before growing it to the respective field. */
export const CROP_ENLARGE = 1.15;

function clampBox(box: CropBox, width: number, height: number): CropBox {
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, v));
  return { top: clamp(box.top, height), bottom: clamp(box.bottom, height), left: clamp(box.left, width), right: clamp(box.right, width) };
}

/**
 * The crop for `mask` with respective field k: a square centred on the mask's bounding box, with half-side the
 * larger half-extent times 1.15 (truncated), clamped to the image; then grown one pixel on both ends of its shorter
 * side (or of the side that can still grow) until it spans at least k*H rows and k*W columns. k = 1 is the whole
 * image; an empty mask also gives the whole image.
 */
export function computeCropBox(mask: GreyMask, k: number): CropBox {
  const { width: W, height: H } = mask;
  const whole = { top: 0, bottom: H, left: 0, right: W };
  const bounds = maskBounds(mask);
  if (bounds === null || k >= 1) return whole;
  const midY = Math.floor((bounds.top + bounds.bottom) / 2);
  const midX = Math.floor((bounds.left + bounds.right) / 2);
  const half = Math.trunc(Math.max(Math.floor((bounds.bottom - bounds.top) / 2), Math.floor((bounds.right - bounds.left) / 2)) * CROP_ENLARGE);
  let box = clampBox({ top: midY - half, bottom: midY + half + 1, left: midX - half, right: midX + half + 1 }, W, H);
  for (;;) {
    const rows = box.bottom - box.top;
    const cols = box.right - box.left;
    if (rows >= H * k && cols >= W * k) return box;
    let growRows = rows < cols;
    let growCols = !growRows;
    if (rows === H) growCols = true;
    if (cols === W) growRows = true;
    box = clampBox(
      {
        top: box.top - (growRows ? 1 : 0),
        bottom: box.bottom + (growRows ? 1 : 0),
        left: box.left - (growCols ? 1 : 0),
        right: box.right + (growCols ? 1 : 0),
      },
      W,
      H,
    );
  }
}

/** Fooocus's "shape ceil": the side of a square of the same area, rounded up to a multiple of 64. */
function shapeCeil(width: number, height: number): number {
  return Math.ceil(Math.sqrt(width * height) / 64) * 64;
}

/**
 * The size a crop is generated at: Fooocus rescales it (keeping its aspect, sides multiples of 64) until its shape
 * ceil is `target` (1024 for SDXL). Fooocus keeps a crop that is already there at its own size; here every side
 * ends on a multiple of 64, so the VAE's 8-pixel grid always fits.
 */
export function computeWorkingSize(width: number, height: number, target: number): { width: number; height: number } {
  let w = width;
  let h = height;
  for (let i = 0; i < 256; i++) {
    const ceil = shapeCeil(w, h);
    if (Math.abs(ceil - target) < 0.1) break;
    const k = target / ceil;
    h = Math.max(64, roundHalfToEven((h * k) / 64) * 64);
    w = Math.max(64, roundHalfToEven((w * k) / 64) * 64);
  }
  return { width: Math.max(64, Math.round(w / 64) * 64), height: Math.max(64, Math.round(h / 64) * 64) };
}

export function cropRgb(image: RgbImage, box: CropBox): RgbImage {
  const width = box.right - box.left;
  const height = box.bottom - box.top;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((box.top + y) * image.width + box.left) * 3;
    rgb.set(image.rgb.subarray(from, from + width * 3), y * width * 3);
  }
  return { width, height, rgb };
}

export function cropMask(mask: GreyMask, box: CropBox): GreyMask {
  const width = box.right - box.left;
  const height = box.bottom - box.top;
  const data = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    const from = (box.top + y) * mask.width + box.left;
    data.set(mask.data.subarray(from, from + width), y * width);
  }
  return { width, height, data };
}

/** Lanczos resize of an RGB crop (Pillow's LANCZOS, as Fooocus resamples crops). */
export function resizeRgb(image: RgbImage, width: number, height: number): RgbImage {
  return image.width === width && image.height === height ? image : resampleLanczos(image, width, height);
}

/** The same resize for a mask: its grey level through the RGB resampler. */
export function resizeMask(mask: GreyMask, width: number, height: number): GreyMask {
  if (mask.width === width && mask.height === height) return mask;
  const rgb = new Uint8Array(mask.data.length * 3);
  for (let i = 0; i < mask.data.length; i++) rgb[i * 3] = rgb[i * 3 + 1] = rgb[i * 3 + 2] = mask.data[i]!;
  const resized = resampleLanczos({ width: mask.width, height: mask.height, rgb }, width, height);
  return { width, height, data: Uint8Array.from({ length: width * height }, (_, i) => resized.rgb[i * 3]!) };
}
