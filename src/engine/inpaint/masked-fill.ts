/**
 * Pixel preparation of the inpaint pipeline: Fooocus's fill of the masked area before encoding (used when the
 * whole area is re-noised anyway, strength > 0.99), and outpaint's edge padding.
 */
import type { RgbImage } from '../rgb-image.ts';
import { MASK_THRESHOLD } from './grey-mask.ts';
import type { GreyMask, OutpaintPadding } from './inpaint-settings.ts';

/**
 * Fooocus's blur fill, radius and passes: coarse to fine, each pass a box blur (Pillow's BoxBlur: radius r, a
 * (2r+1)-pixel window, edges extended) after which the pixels outside the mask are put back, so colours flow in
 * from the surroundings at every scale.
 */
export const FILL_PASSES: readonly (readonly [radius: number, repeats: number])[] = [
  [512, 2],
  [256, 2],
  [128, 4],
  [64, 4],
  [33, 8],
  [15, 8],
  [5, 16],
  [3, 16],
];

/**
 * One box-blur pass along the rows of `src` (`lines` rows of `length` RGB pixels), written transposed into `dst`
 * (so calling it twice blurs rows, then columns, and restores the layout). Borders repeat the edge pixel.
 */
function blurRowsTransposed(src: Float32Array, dst: Float32Array, lines: number, length: number, radius: number): void {
  const window = 2 * radius + 1;
  const last = length - 1;
  for (let line = 0; line < lines; line++) {
    const row = line * length * 3;
    let r = 0;
    let g = 0;
    let b = 0;
    for (let i = -radius; i <= radius; i++) {
      const at = row + Math.min(last, Math.max(0, i)) * 3;
      r += src[at]!;
      g += src[at + 1]!;
      b += src[at + 2]!;
    }
    for (let i = 0; i < length; i++) {
      const out = (i * lines + line) * 3;
      dst[out] = r / window;
      dst[out + 1] = g / window;
      dst[out + 2] = b / window;
      const add = row + Math.min(last, i + radius + 1) * 3;
      const drop = row + Math.max(0, i - radius) * 3;
      r += src[add]! - src[drop]!;
      g += src[add + 1]! - src[drop + 1]!;
      b += src[add + 2]! - src[drop + 2]!;
    }
  }
}

/** Fills the masked area (mask > 127) of `image` from its surroundings; pixels outside the mask are unchanged. */
export function fillMaskedArea(image: RgbImage, mask: GreyMask): RgbImage {
  const { width, height } = image;
  const kept: number[] = [];
  for (let p = 0; p < mask.data.length; p++) if (mask.data[p]! <= MASK_THRESHOLD) kept.push(p * 3);
  const current = Float32Array.from(image.rgb);
  const transposed = new Float32Array(current.length);
  for (const [radius, repeats] of FILL_PASSES) {
    for (let r = 0; r < repeats; r++) {
      blurRowsTransposed(current, transposed, height, width, radius); // rows, into [width][height]
      blurRowsTransposed(transposed, current, width, height, radius); // columns, back to [height][width]
      for (const at of kept) {
        current[at] = image.rgb[at]!;
        current[at + 1] = image.rgb[at + 1]!;
        current[at + 2] = image.rgb[at + 2]!;
      }
    }
  }
  return { width, height, rgb: Uint8Array.from(current, (v) => Math.min(255, Math.max(0, Math.round(v)))) };
}

/**
 * Outpaint: the image extended by `padding` with copies of its edge pixels (corners from the corner pixel), and
 * its mask extended with white, so exactly the new area (plus the mask given, if any) is generated.
 */
export function padForOutpaint(image: RgbImage, mask: GreyMask | null, padding: OutpaintPadding): { image: RgbImage; mask: GreyMask } {
  const width = image.width + padding.left + padding.right;
  const height = image.height + padding.top + padding.bottom;
  const rgb = new Uint8Array(width * height * 3);
  const data = new Uint8Array(width * height).fill(255);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, y - padding.top));
    const inside = y >= padding.top && y < padding.top + image.height;
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, x - padding.left));
      const p = y * width + x;
      rgb.set(image.rgb.subarray((sy * image.width + sx) * 3, (sy * image.width + sx) * 3 + 3), p * 3);
      if (inside && x >= padding.left && x < padding.left + image.width) data[p] = mask === null ? 0 : mask.data[sy * image.width + sx]!;
    }
  }
  return { image: { width, height, rgb }, mask: { width, height, data } };
}
