/**
 * The discrete noise levels of Stable Diffusion 1.x / XL (DDPM, Ho et al. 2020, with the "scaled linear" beta
 * schedule of Rombach et al. 2022): betas = linspace(sqrt(0.00085), sqrt(0.012), 1000)^2,
 * alphas_cumprod = cumprod(1 - betas), sigma_t = sqrt((1 - alphas_cumprod_t) / alphas_cumprod_t).
 *
 * Values follow ComfyUI's `ModelSamplingDiscrete` (which Fooocus vendors): the table is computed in float64 and
 * stored as float32, log-sigmas are float32, and conversions between sigma and timestep run in float32.
 */
import { linspaceFloat64 } from './torch-linspace.ts';

export interface DiscreteSigmaTable {
  /** Noise level per table index, ascending (index 0 is the least noisy), float32 values. */
  readonly sigmas: Float64Array;
  /** `log(sigma)` per table index, float32 values. */
  readonly logSigmas: Float64Array;
  /**
   * Model timesteps per table index: 1 for the full 1000-step table; 20 for the 50-entry table that LCM and TCD
   * models were distilled on, whose index k is model timestep 20k + 19.
   */
  readonly skipSteps: number;
}

export interface ScaledLinearOptions {
  linearStart?: number;
  linearEnd?: number;
  timesteps?: number;
}

/** Build the DDPM scaled-linear sigma table (defaults: SD1.x/SDXL's 0.00085 .. 0.012 over 1000 steps). */
export function buildScaledLinearSigmaTable(opts: ScaledLinearOptions = {}): DiscreteSigmaTable {
  const { linearStart = 0.00085, linearEnd = 0.012, timesteps = 1000 } = opts;
  const roots = linspaceFloat64(Math.sqrt(linearStart), Math.sqrt(linearEnd), timesteps);
  const sigmas = new Float64Array(timesteps);
  const logSigmas = new Float64Array(timesteps);
  let alphasCumprod = 1;
  for (let t = 0; t < timesteps; t++) {
    const beta = roots[t]! * roots[t]!;
    alphasCumprod *= 1 - beta;
    const sigma = Math.sqrt((1 - alphasCumprod) / alphasCumprod);
    sigmas[t] = Math.fround(sigma);
    logSigmas[t] = Math.fround(Math.log(sigma));
  }
  return { sigmas, logSigmas, skipSteps: 1 };
}

/**
 * The table an LCM/TCD-distilled model samples on (ComfyUI `ModelSamplingDiscreteDistilled`): every
 * (timesteps / originalTimesteps)-th entry of the full table, ending at its last.
 */
export function buildDistilledSigmaTable(full: DiscreteSigmaTable, originalTimesteps = 50): DiscreteSigmaTable {
  const skipSteps = Math.floor(full.sigmas.length / originalTimesteps);
  const sigmas = new Float64Array(originalTimesteps);
  const logSigmas = new Float64Array(originalTimesteps);
  for (let k = 0; k < originalTimesteps; k++) {
    const sigma = full.sigmas[full.sigmas.length - 1 - (originalTimesteps - 1 - k) * skipSteps]!;
    sigmas[k] = sigma;
    logSigmas[k] = Math.fround(Math.log(sigma));
  }
  return { sigmas, logSigmas, skipSteps };
}

let sdTable: DiscreteSigmaTable | undefined;
let lcmTable: DiscreteSigmaTable | undefined;

/** The SD1.x / SDXL table (built once, on first use). Treat it as read-only: it is shared. */
export function getSdSigmaTable(): DiscreteSigmaTable {
  sdTable ??= buildScaledLinearSigmaTable();
  return sdTable;
}

/** The 50-entry table of LCM/TCD-distilled SD models (built once, on first use). Read-only, shared. */
export function getLcmSigmaTable(): DiscreteSigmaTable {
  lcmTable ??= buildDistilledSigmaTable(getSdSigmaTable());
  return lcmTable;
}

/** The table's smallest noise level (`sigma_min`, 0.0291675 for SD). */
export function getSigmaMin(table: DiscreteSigmaTable = getSdSigmaTable()): number {
  return table.sigmas[0]!;
}

/** The table's largest noise level (`sigma_max`, 14.6146 for SD). */
export function getSigmaMax(table: DiscreteSigmaTable = getSdSigmaTable()): number {
  return table.sigmas[table.sigmas.length - 1]!;
}

/**
 * The model timestep for a noise level, as ComfyUI/Fooocus feed it to the UNet (`ModelSamplingDiscrete.timestep`):
 * the table index whose log-sigma is nearest, an integer (mapped through `skipSteps` for distilled tables).
 */
export function sigmaToTimestep(sigma: number, table: DiscreteSigmaTable = getSdSigmaTable()): number {
  const logSigma = Math.fround(Math.log(sigma));
  let best = 0;
  let bestDistance = Infinity;
  table.logSigmas.forEach((ls, i) => {
    const distance = Math.abs(logSigma - ls);
    if (distance < bestDistance) {
      bestDistance = distance;
      best = i;
    }
  });
  return best * table.skipSteps + (table.skipSteps - 1);
}

/**
 * The fractional timestep for a noise level by linear interpolation in log-sigma between the two bracketing
 * table entries, clamped to the table (k-diffusion `DiscreteSchedule.sigma_to_t` with quantize=False).
 */
export function sigmaToContinuousTimestep(sigma: number, table: DiscreteSigmaTable = getSdSigmaTable()): number {
  const ls = table.logSigmas;
  const logSigma = Math.log(sigma);
  let low = 0;
  for (let i = 0; i < ls.length - 1; i++) if (logSigma >= ls[i]!) low = i;
  const w = Math.min(1, Math.max(0, (ls[low]! - logSigma) / (ls[low]! - ls[low + 1]!)));
  const index = low + w;
  return index * table.skipSteps + (table.skipSteps - 1);
}

/**
 * The noise level at a (possibly fractional) model timestep (`ModelSamplingDiscrete.sigma`): linear interpolation
 * of log-sigma between the neighbouring table entries, in float32 like ComfyUI.
 */
export function timestepToSigma(timestep: number, table: DiscreteSigmaTable = getSdSigmaTable()): number {
  const f = Math.fround;
  const last = table.logSigmas.length - 1;
  const scaled = table.skipSteps === 1 ? f(timestep) : f(f(f(timestep) - (table.skipSteps - 1)) / table.skipSteps);
  const t = Math.min(last, Math.max(0, scaled));
  const low = Math.floor(t);
  const high = Math.ceil(t);
  const w = f(t - Math.trunc(t));
  const logSigma = f(f(f(1 - w) * table.logSigmas[low]!) + f(w * table.logSigmas[high]!));
  return f(Math.exp(logSigma));
}
