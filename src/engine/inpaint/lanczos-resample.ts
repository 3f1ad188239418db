/**
 * Lanczos-3 resampling of 8-bit images (Pillow's LANCZOS, which Fooocus resamples inpaint crops with): separable,
 * the kernel widened by the scale when shrinking so every source pixel contributes, weights normalised per output
 * pixel, results rounded and clamped to 0..255.
 */
import type { RgbImage } from '../rgb-image.ts';
import type { GreyMask } from './inpaint-settings.ts';

const LOBES = 3;

function lanczos(x: number): number {
  if (x === 0) return 1;
  if (x <= -LOBES || x >= LOBES) return 0;
  const px = Math.PI * x;
  return (LOBES * Math.sin(px) * Math.sin(px / LOBES)) / (px * px);
}

interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float64Array[];
}

/** Source pixels and weights for each of `outSize` pixels resampled from `inSize`. */
function computeTaps(inSize: number, outSize: number): Taps {
  const scale = inSize / outSize;
  const stretch = Math.max(scale, 1);
  const support = LOBES * stretch;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const w = new Float64Array(hi - lo);
    let sum = 0;
    for (let k = 0; k < w.length; k++) sum += w[k] = lanczos((lo + k - center + 0.5) / stretch);
    if (sum !== 0) for (let k = 0; k < w.length; k++) w[k]! /= sum;
    start[i] = lo;
    count[i] = w.length;
    weights.push(w);
  }
  return { start, count, weights };
}

/** Resamples interleaved 8-bit pixels with `channels` per pixel. */
function resamplePlanes(src: Uint8Array, width: number, height: number, channels: number, outW: number, outH: number): Uint8Array {
  if (width === outW && height === outH) return src.slice();
  const horizontal = computeTaps(width, outW);
  const vertical = computeTaps(height, outH);
  // Horizontal pass into floats (no rounding between passes), then vertical to bytes.
  const mid = new Float32Array(outW * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < outW; x++) {
      const s = horizontal.start[x]!;
      const w = horizontal.weights[x]!;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * src[((y * width) + s + k) * channels + c]!;
        mid[(y * outW + x) * channels + c] = acc;
      }
    }
  }
  const out = new Uint8Array(outW * outH * channels);
  for (let y = 0; y < outH; y++) {
    const s = vertical.start[y]!;
    const w = vertical.weights[y]!;
    for (let x = 0; x < outW; x++) {
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < w.length; k++) acc += w[k]! * mid[((s + k) * outW + x) * channels + c]!;
        out[(y * outW + x) * channels + c] = Math.min(255, Math.max(0, Math.round(acc)));
      }
    }
  }
  return out;
}

export function resizeRgb(image: RgbImage, width: number, height: number): RgbImage {
  return { width, height, rgb: resamplePlanes(image.rgb, image.width, image.height, 3, width, height) };
}

export function resizeMask(mask: GreyMask, width: number, height: number): GreyMask {
  return { width, height, data: resamplePlanes(mask.data, mask.width, mask.height, 1, width, height) };
}
