/**
 * Fooocus "sharpness" (`modules/patch.py` `patched_sampling_function`): the positive branch's eps is blended with
 * an edge-preserving blur of itself, guided by the positive x0, so CFG pushes less along the high-frequency noise
 * the blur removes. The blend weight grows with the diffusion progress.
 */
import { createTensor, type Tensor } from '../tensor.ts';
import { adaptiveAnisotropicFilter } from './anisotropic-filter.ts';

/** Fooocus's scale from the UI sharpness (0..30, default 2) to the blend weight: alpha = 0.001 * sharpness * progress. */
export const SHARPNESS_ALPHA_SCALE = 0.001;

/** eps = x - x0 (k-diffusion denoisers return x0; Fooocus works on eps-like differences). */
export function computeEps(x: Tensor, x0: Tensor): Tensor {
  if (x.data.length !== x0.data.length) throw new Error(`computeEps: x [${x.dims.join(', ')}] and x0 [${x0.dims.join(', ')}] differ`);
  const eps = createTensor(x.dims); // [B, 4, h, w]
  for (let i = 0; i < eps.data.length; i++) eps.data[i] = x.data[i]! - x0.data[i]!;
  return eps;
}

/**
 * The positive eps as Fooocus weights it: eps = x - x0; alpha = 0.001 * sharpness * progress;
 * degraded = adaptive_anisotropic_filter(eps, guided by x0); result = degraded * alpha + eps * (1 - alpha).
 * `progress` is the diffusion progress of this step (see `computeDiffusionProgress`). When alpha is 0 the result
 * is exactly eps, so the filter is skipped.
 */
export function applySharpness(x: Tensor, positiveX0: Tensor, sharpness: number, progress: number): Tensor {
  const eps = computeEps(x, positiveX0); // [B, 4, h, w]
  const alpha = SHARPNESS_ALPHA_SCALE * sharpness * progress;
  if (alpha === 0) return eps;
  const degraded = adaptiveAnisotropicFilter(eps, positiveX0); // [B, 4, h, w]
  const weighted = createTensor(eps.dims);
  for (let i = 0; i < eps.data.length; i++) weighted.data[i] = degraded.data[i]! * alpha + eps.data[i]! * (1 - alpha);
  return weighted;
}
