/**
 * Noise schedules by their ComfyUI / Fooocus ids. Each returns the sigmas a sampler walks, noisiest first and
 * ending in 0; every sampler works with every schedule.
 */
import { getAlignYourStepsSigmas, type AysFamily } from './schedules/align-your-steps.ts';
import { getDdimUniformSigmas } from './schedules/ddim-uniform.ts';
import { getExponentialSigmas } from './schedules/exponential.ts';
import { getKarrasSigmas } from './schedules/karras.ts';
import { getSimpleSigmas } from './schedules/simple.ts';
import { getTurboSigmas, TURBO_MAX_STEPS } from './schedules/turbo.ts';
import { getUniformTimestepSigmas } from './schedules/uniform-timesteps.ts';
import { getLcmSigmaTable, getSdSigmaTable, getSigmaMax, getSigmaMin } from './sigma-table.ts';
import { MAX_STEPS } from '../request-limits.ts';

export const SCHEDULER_NAMES = [
  'normal',
  'karras',
  'exponential',
  'sgm_uniform',
  'simple',
  'ddim_uniform',
  'align_your_steps',
  'turbo',
  'lcm',
  'tcd',
] as const;

export type SchedulerName = (typeof SCHEDULER_NAMES)[number];

export { MAX_STEPS };

export interface SigmaOptions {
  /** img2img strength in (0, 1]: the schedule is built for floor(steps / denoise) steps and its tail kept. */
  denoise?: number;
  /** Lowest noise level for `karras` and `exponential` (default: the model table's sigma_min). */
  sigmaMin?: number;
  /** Highest noise level for `karras` and `exponential` (default: the model table's sigma_max). */
  sigmaMax?: number;
  /** Model family, choosing the `align_your_steps` list (default `sdxl`). */
  family?: AysFamily;
}

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}

function validateOptions(schedule: SchedulerName, steps: number, opts: SigmaOptions): void {
  if (!Number.isInteger(steps) || steps < 1 || steps > MAX_STEPS) {
    throw new RangeError(`steps must be an integer in 1..${MAX_STEPS}, got ${steps}`);
  }
  if (schedule === 'turbo' && steps > TURBO_MAX_STEPS) {
    throw new RangeError(`steps must be at most ${TURBO_MAX_STEPS} for the turbo schedule, got ${steps}`);
  }
  const { denoise } = opts;
  if (denoise !== undefined && !(Number.isFinite(denoise) && denoise > 0 && denoise <= 1)) {
    throw new RangeError(`denoise must be a number in (0, 1], got ${denoise}`);
  }
  if (opts.family !== undefined && opts.family !== 'sd15' && opts.family !== 'sdxl') {
    throw new RangeError(`family must be 'sd15' or 'sdxl', got ${String(opts.family)}`);
  }
  for (const field of ['sigmaMin', 'sigmaMax'] as const) {
    const value = opts[field];
    if (value === undefined) continue;
    if (schedule !== 'karras' && schedule !== 'exponential') {
      throw new RangeError(`${field} applies only to the karras and exponential schedules, not ${schedule}`);
    }
    if (!(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`${field} must be a positive number, got ${value}`);
    }
  }
  const table = getSdSigmaTable();
  if ((opts.sigmaMin ?? getSigmaMin(table)) >= (opts.sigmaMax ?? getSigmaMax(table))) {
    throw new RangeError('sigmaMin must be below sigmaMax');
  }
}

/** The full schedule for `steps` steps, before any img2img truncation. */
function computeSchedule(schedule: SchedulerName, steps: number, opts: SigmaOptions): Float64Array {
  const table = getSdSigmaTable();
  const sigmaMin = opts.sigmaMin ?? getSigmaMin(table);
  const sigmaMax = opts.sigmaMax ?? getSigmaMax(table);
  switch (schedule) {
    case 'normal':
      return getUniformTimestepSigmas(table, steps, false);
    case 'sgm_uniform':
      return getUniformTimestepSigmas(table, steps, true);
    case 'karras':
      return getKarrasSigmas(steps, sigmaMin, sigmaMax);
    case 'exponential':
      return getExponentialSigmas(steps, sigmaMin, sigmaMax);
    case 'simple':
      return getSimpleSigmas(table, steps);
    case 'ddim_uniform':
      return getDdimUniformSigmas(table, steps);
    case 'align_your_steps':
      return getAlignYourStepsSigmas(opts.family ?? 'sdxl', steps);
    case 'turbo':
      return getTurboSigmas(table, steps);
    case 'lcm':
    case 'tcd':
      // Fooocus: sgm_uniform on the distilled 50-entry table (the UNet wrapper applies LCM/TCD's own scalings).
      return getUniformTimestepSigmas(getLcmSigmaTable(), steps, true);
  }
}

/**
 * Sigmas for `steps` sampling steps: steps + 1 values, decreasing, ending in 0 (`ddim_uniform` may return more,
 * as in ComfyUI). With `denoise` < 1 (img2img) the schedule is computed for floor(steps / denoise) steps and its
 * last steps + 1 values are kept, as ComfyUI's and Fooocus's `KSampler.set_steps` do; denoise above 0.9999
 * counts as 1.
 */
export function getSigmas(schedule: string, steps: number, opts: SigmaOptions = {}): Float64Array {
  if (!isSchedulerName(schedule)) {
    throw new RangeError(`schedule must be one of ${SCHEDULER_NAMES.join(', ')}; got '${schedule}'`);
  }
  validateOptions(schedule, steps, opts);
  const denoise = opts.denoise ?? 1;
  if (denoise > 0.9999) return computeSchedule(schedule, steps, opts);
  const full = computeSchedule(schedule, Math.floor(steps / denoise), opts);
  return full.slice(Math.max(0, full.length - (steps + 1)));
}
