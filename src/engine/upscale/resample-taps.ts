/**
 * Separable resampling weights the way Pillow's `Image.resize` computes them (`precompute_coeffs`): output pixel i
 * is centred at (i + 0.5) * scale in the source; on a downscale the kernel widens by the scale factor, so every
 * source pixel contributes (an antialiasing low-pass), and on an upscale it keeps its own width. Each output's
 * weights are normalized to sum to 1, so a flat image stays flat whatever the kernel.
 */

/** A resampling kernel and the distance (in source pixels, before widening) beyond which it is zero. */
export interface ResampleFilter {
  kernel: (x: number) => number;
  support: number;
}

/** Triangle kernel, Pillow's `BILINEAR`. */
export const BILINEAR_FILTER: ResampleFilter = { support: 1, kernel: (x) => Math.max(0, 1 - Math.abs(x)) };

/** Cubic convolution with a = -0.5 (Keys 1981), Pillow's `BICUBIC`. */
export const BICUBIC_FILTER: ResampleFilter = {
  support: 2,
  kernel: (x) => {
    const a = -0.5;
    const t = Math.abs(x);
    if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
    if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
    return 0;
  },
};

const LOBES = 3;

/** Windowed sinc with three lobes (Duchon 1979), Pillow's `LANCZOS`. */
export const LANCZOS_FILTER: ResampleFilter = {
  support: LOBES,
  kernel: (x) => {
    if (x === 0) return 1;
    if (x <= -LOBES || x >= LOBES) return 0;
    const px = Math.PI * x;
    return (LOBES * Math.sin(px) * Math.sin(px / LOBES)) / (px * px);
  },
};

/**
 * Per output index along one axis: the first source index it reads (`start`), how many it reads (`count`) and
 * their normalized weights at `weights[i * stride + k]` for k < count.
 */
export interface ResampleTaps<W extends Float32Array | Float64Array = Float64Array> {
  start: Int32Array;
  count: Int32Array;
  weights: W;
  stride: number;
}

/**
 * How the weights are stored: 'float32' rounds each raw weight to float32 and normalizes it there, as the Lanczos
 * resize always has (float64 weights move some of its rounded pixels by one level).
 */
export type TapPrecision = 'float32' | 'float64';

/** Taps for resizing `inSize` source pixels to `outSize` with `filter` (a size of 0 reads or writes nothing). */
export function computeResampleTaps(inSize: number, outSize: number, filter: ResampleFilter, precision?: 'float64'): ResampleTaps;
export function computeResampleTaps(inSize: number, outSize: number, filter: ResampleFilter, precision: 'float32'): ResampleTaps<Float32Array>;
export function computeResampleTaps(inSize: number, outSize: number, filter: ResampleFilter, precision: TapPrecision = 'float64'): ResampleTaps<Float32Array | Float64Array> {
  if (!Number.isInteger(inSize) || !Number.isInteger(outSize) || inSize < 0 || outSize < 0) throw new RangeError(`cannot resample ${inSize} pixels to ${outSize}`);
  const allocate = (length: number): Float32Array | Float64Array => (precision === 'float32' ? new Float32Array(length) : new Float64Array(length));
  if (inSize === 0 || outSize === 0) return { start: new Int32Array(outSize), count: new Int32Array(outSize), weights: allocate(0), stride: 0 };
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filter.support * filterScale;
  // The widest window is 2 * support rounded up, plus one where it straddles a pixel boundary.
  const stride = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = allocate(outSize * stride);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(inSize, Math.floor(centre + support + 0.5));
    // The total sums the unrounded weights; each stored weight is divided in the array's own precision.
    let total = 0;
    for (let j = lo; j < hi; j++) {
      const w = filter.kernel((j + 0.5 - centre) / filterScale);
      weights[i * stride + j - lo] = w;
      total += w;
    }
    if (total === 0) total = 1;
    for (let j = lo; j < hi; j++) weights[i * stride + j - lo]! /= total;
    start[i] = lo;
    count[i] = hi - lo;
  }
  return { start, count, weights, stride };
}
