/**
 * Classifier-free guidance (Ho & Salimans 2022) with Fooocus's "CFG mimicking from TSNR" (`modules/patch.py`
 * `compute_cfg`): above the adaptive scale, the result fades from the guidance an `adaptiveCfg` scale would give
 * (at pure noise) to the real scale (at the clean end), which keeps high CFG scales from burning the image early.
 */
import { createTensor, type Tensor } from '../tensor.ts';

/** Fooocus's default adaptive CFG (`PatchSettings.adaptive_cfg`, UI "CFG Mimicking from TSNR"). */
export const DEFAULT_ADAPTIVE_CFG = 7.0;

/**
 * real = u + cfg * (c - u). When cfgScale > adaptiveCfg (strictly): mimicked = u + adaptiveCfg * (c - u) and the
 * result is real * t + mimicked * (1 - t); otherwise real. Fooocus passes t = the global diffusion progress
 * (1 - timestep / 999, see `computeDiffusionProgress`), not a step fraction. Inputs are eps (x - x0), not x0.
 */
export function combineCfg(uncondEps: Tensor, condEps: Tensor, cfgScale: number, adaptiveCfg: number, t: number): Tensor {
  if (uncondEps.data.length !== condEps.data.length) {
    throw new Error(`combineCfg: uncond [${uncondEps.dims.join(', ')}] and cond [${condEps.dims.join(', ')}] differ`);
  }
  const out = createTensor(condEps.dims); // [B, 4, h, w]
  const mimic = cfgScale > adaptiveCfg;
  for (let i = 0; i < out.data.length; i++) {
    const u = uncondEps.data[i]!;
    const delta = condEps.data[i]! - u;
    const real = u + cfgScale * delta;
    out.data[i] = mimic ? real * t + (u + adaptiveCfg * delta) * (1 - t) : real;
  }
  return out;
}
