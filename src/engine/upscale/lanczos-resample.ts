/**
 * Resizes an 8-bit RGB image with a Lanczos-3 filter, separably (rows, then columns), as Pillow's
 * `Image.resize(..., LANCZOS)` that Fooocus resamples with: on a downscale the kernel widens by the scale factor so
 * every source pixel contributes (an antialiasing low-pass); on an upscale it is the plain 3-lobe kernel.
 * Intermediate values stay float; the result is rounded and clamped once.
 */
import type { RgbImage } from '../rgb-image.ts';

const LOBES = 3;

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -LOBES || x >= LOBES) return 0;
  const px = Math.PI * x;
  return (LOBES * Math.sin(px) * Math.sin(px / LOBES)) / (px * px);
}

/** Per output index: the first source index and the normalized weights of the source pixels it reads. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

function computeTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = LOBES * filterScale;
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(inSize, Math.floor(centre + support + 0.5));
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = lanczos((j + 0.5 - centre) / filterScale);
      weights[i * stride + j - lo] = w;
      total += w;
    }
    for (let j = lo; j < hi; j++) weights[i * stride + j - lo]! /= total === 0 ? 1 : total;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, stride };
}

/** Lanczos-3 resize to `width` x `height` (each >= 1). */
export function resampleLanczos(image: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`cannot resize to ${width}x${height}`);
  if (width === image.width && height === image.height) return { width, height, rgb: image.rgb.slice() };
  const cols = computeTaps(image.width, width);
  const rows = computeTaps(image.height, height);
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
