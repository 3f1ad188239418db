import type { Tensor } from '../tensor.ts';

/**
 * A denoiser in the k-diffusion convention (Karras et al. 2022): given a noisy latent x at noise level sigma,
 * return the model's estimate of the clean latent (x0), same shape as x. CFG, sharpness, ADM scaling and the
 * refiner switch live inside the denoiser the pipeline builds, never in the samplers.
 */
export type Denoiser = (x: Tensor, sigma: number, signal?: AbortSignal) => Promise<Tensor>; // x: [B, 4, H/8, W/8]

export interface SampleContext {
  /** Fresh standard-normal noise of the given shape from the run's seeded generator (stochastic samplers). */
  noise: (dims: readonly number[]) => Float32Array;
  /** Called after each step with the step index (0-based), the step count, the new x and the denoised estimate. */
  onStep?: (step: number, total: number, x: Tensor, denoised: Tensor) => void;
  signal?: AbortSignal;
}

/** A sampler: a short, stateless function over a denoiser and a decreasing sigma schedule ending in 0. */
export type Sampler = (denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext) => Promise<Tensor>;
