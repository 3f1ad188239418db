import { timestepToSigma, type DiscreteSigmaTable } from '../sigma-table.ts';

/** SD-Turbo / SDXL-Turbo sample on at most this many timesteps. */
export const TURBO_MAX_STEPS = 10;

/**
 * The timesteps SD-Turbo / SDXL-Turbo were distilled on (Sauer et al. 2023, "Adversarial Diffusion Distillation"):
 * 999, 899, ..., 99 (ComfyUI `SDTurboScheduler`), the first `steps` of them mapped to sigmas, then 0. With more
 * than 10 steps there are still only 10 timesteps, exactly as in ComfyUI.
 */
export function getTurboSigmas(table: DiscreteSigmaTable, steps: number): Float64Array {
  const count = Math.min(steps, TURBO_MAX_STEPS);
  const out = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) out[i] = timestepToSigma(999 - 100 * i, table);
  return out;
}
