/**
 * Align Your Steps (Sabour, Fidler & Kreis 2024, "Align Your Steps: Optimizing Sampling Schedules in Diffusion
 * Models"): the published optimised 10-step noise levels for each model family, log-linearly interpolated to other
 * step counts, with the final level replaced by 0 (ComfyUI `AlignYourStepsScheduler`, `loglinear_interp`).
 */

export type AysFamily = 'sd15' | 'sdxl';

/** The published 11 noise levels of the 10-step schedules (NVIDIA's AYS how-to page, as ComfyUI ships them). */
export const AYS_NOISE_LEVELS: Readonly<Record<AysFamily, readonly number[]>> = {
  sd15: [
    14.6146412293, 6.4745760956, 3.8636745985, 2.694615152, 1.8841921177, 1.3943805092, 0.9642583904, 0.6523686016,
    0.3977456272, 0.1515232662, 0.0291671582,
  ],
  sdxl: [
    14.6146412293, 6.3184485287, 3.7681790315, 2.1811480769, 1.3405244945, 0.8620721141, 0.5550693289, 0.3798540708,
    0.2332364134, 0.1114188177, 0.0291671582,
  ],
};

/** numpy `linspace(0, 1, n)`: i * (1 / (n - 1)), with the last value exactly 1. */
function unitGrid(n: number): Float64Array {
  const out = new Float64Array(n);
  const step = 1 / (n - 1);
  for (let i = 0; i < n; i++) out[i] = i * step;
  out[n - 1] = 1;
  return out;
}

/** numpy `interp(x, xp, fp)` for increasing xp, clamped to the end values. */
function interpolateLinear(x: number, xp: Float64Array, fp: Float64Array): number {
  const last = xp.length - 1;
  if (x <= xp[0]!) return fp[0]!;
  if (x >= xp[last]!) return fp[last]!;
  let j = 0;
  while (xp[j + 1]! <= x) j++;
  if (xp[j] === x) return fp[j]!;
  const slope = (fp[j + 1]! - fp[j]!) / (xp[j + 1]! - xp[j]!);
  return slope * (x - xp[j]!) + fp[j]!;
}

/** Log-linear interpolation of a decreasing list of noise levels to `count` values (first and last kept). */
export function interpolateLogLinear(levels: readonly number[], count: number): Float64Array {
  const xs = unitGrid(levels.length);
  const ys = Float64Array.from(levels, (_, i) => Math.log(levels[levels.length - 1 - i]!));
  const newXs = unitGrid(count);
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) out[count - 1 - i] = Math.exp(interpolateLinear(newXs[i]!, xs, ys));
  return out;
}

/** The AYS schedule for `steps` steps: steps + 1 float32 values, the last 0. */
export function getAlignYourStepsSigmas(family: AysFamily, steps: number): Float64Array {
  const levels = AYS_NOISE_LEVELS[family];
  const sigmas = steps + 1 === levels.length ? Float64Array.from(levels) : interpolateLogLinear(levels, steps + 1);
  for (let i = 0; i < sigmas.length; i++) sigmas[i] = Math.fround(sigmas[i]!);
  sigmas[steps] = 0;
  return sigmas;
}
