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

/** One box-blur pass along rows (`stride` 3, `step` 3) or columns, with clamped (edge-extended) borders. */
function blurLines(src: Float32Array, dst: Float32Array, lines: number, length: number, lineStride: number, step: number, radius: number): void {
  const window = 2 * radius + 1;
  for (let line = 0; line < lines; line++) {
    for (let c = 0; c < 3; c++) {
      const base = line * lineStride + c;
      const at = (i: number) => src[base + Math.min(length - 1, Math.max(0, i)) * step]!;
      let sum = 0;
      for (let i = -radius; i <= radius; i++) sum += at(i);
      for (let i = 0; i < length; i++) {
        dst[base + i * step] = sum / window;
        sum += at(i + radius + 1) - at(i - radius);
      }
    }
  }
}

/** Fills the masked area (mask > 127) of `image` from its surroundings; pixels outside the mask are unchanged. */
export function fillMaskedArea(image: RgbImage, mask: GreyMask): RgbImage {
  const { width, height } = image;
  const keep = Uint8Array.from(mask.data, (v) => (v > MASK_THRESHOLD ? 0 : 1));
  const current = Float32Array.from(image.rgb);
  const scratch = new Float32Array(current.length);
  for (const [radius, repeats] of FILL_PASSES) {
    for (let r = 0; r < repeats; r++) {
      blurLines(current, scratch, height, width, width * 3, 3, radius); // rows
      blurLines(scratch, current, width, height, 3, width * 3, radius); // columns
      for (let p = 0; p < keep.length; p++) {
        if (keep[p] === 1) for (let c = 0; c < 3; c++) current[p * 3 + c] = image.rgb[p * 3 + c]!;
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
