/**
 * Resizes an 8-bit RGB image with a Lanczos-3 filter, separably (rows, then columns), as Pillow's
 * `Image.resize(..., LANCZOS)` that Fooocus resamples with: on a downscale the kernel widens by the scale factor so
 * every source pixel contributes (an antialiasing low-pass); on an upscale it is the plain 3-lobe kernel.
 * Intermediate values stay float; the result is rounded and clamped once.
 */
import type { RgbImage } from '../rgb-image.ts';
import { computeResampleTaps, LANCZOS_FILTER } from './resample-taps.ts';

/** Lanczos-3 resize to `width` x `height` (each >= 1). */
export function resampleLanczos(image: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`cannot resize to ${width}x${height}`);
  if (width === image.width && height === image.height) return { width, height, rgb: image.rgb.slice() };
  const cols = computeResampleTaps(image.width, width, LANCZOS_FILTER, 'float32');
  const rows = computeResampleTaps(image.height, height, LANCZOS_FILTER, 'float32');
  // 1. horizontal pass: [image.height, width, 3] floats
  const mid = new Float32Array(image.height * width * 3);
  for (let y = 0; y < image.height; y++) {
    const row = y * image.width * 3;
    for (let x = 0; x < width; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const lo = cols.start[x]!;
      for (let k = 0; k < cols.count[x]!; k++) {
        const w = cols.weights[x * cols.stride + k]!;
        const p = row + (lo + k) * 3;
        r += w * image.rgb[p]!;
        g += w * image.rgb[p + 1]!;
        b += w * image.rgb[p + 2]!;
      }
      const o = (y * width + x) * 3;
      mid[o] = r;
      mid[o + 1] = g;
      mid[o + 2] = b;
    }
  }
  // 2. vertical pass, rounded to 8 bits
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const lo = rows.start[y]!;
    for (let x = 0; x < width * 3; x++) {
      let v = 0;
      for (let k = 0; k < rows.count[y]!; k++) v += rows.weights[y * rows.stride + k]! * mid[(lo + k) * width * 3 + x]!;
      rgb[y * width * 3 + x] = Math.min(255, Math.max(0, Math.round(v)));
    }
  }
  return { width, height, rgb };
}
