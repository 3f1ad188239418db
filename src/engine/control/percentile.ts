/**
 * Percentiles and the percentile stretch of Fooocus's control preprocessors.
 */

/**
 * The p-th percentile with linear interpolation between the closest ranks, as NumPy's `percentile` (its default
 * `linear` method): virtual index (n - 1) * q with q = p / 100, and the same two-sided lerp NumPy uses so
 * the result matches it to the last bit in float64.
 */
export function percentileOf(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new Error('percentile of an empty set');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile ${p} is outside 0..100`);
  const q = p / 100;
  const virtual = (n - 1) * q;
  const below = Math.min(Math.max(Math.floor(virtual), 0), n - 1);
  const above = Math.min(below + 1, n - 1);
  const t = virtual - Math.floor(virtual);
  const a = sorted[below]!;
  const b = sorted[above]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/** Values sorted ascending into a new float64 array (the input is left as it is). */
export function sortAscending(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/**
 * Fooocus's `norm255` followed by `clip(0, 255).astype(uint8)`: the low percentile maps to 0, the high one to 255,
 * in float32 as NumPy computes it, then clipped and truncated. A flat map (both percentiles equal) gives zeros,
 * where NumPy would divide by zero.
 */
export function stretchToBytes(values: Float32Array, lowPercentile: number, highPercentile: number): Uint8Array {
  const sorted = sortAscending(values);
  // NumPy returns a float32 array's percentiles as float32
  const low = Math.fround(percentileOf(sorted, lowPercentile));
  const high = Math.fround(percentileOf(sorted, highPercentile));
  const out = new Uint8Array(values.length);
  const range = Math.fround(high - low);
  if (!(range > 0)) return out;
  for (let i = 0; i < values.length; i++) {
    const scaled = Math.fround(Math.fround(Math.fround(values[i]! - low) / range) * 255);
    out[i] = scaled <= 0 ? 0 : scaled >= 255 ? 255 : Math.trunc(scaled);
  }
  return out;
}
