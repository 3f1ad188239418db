import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination, toDerivative } from '../tensor-math.ts';
import { createTensor, type Tensor } from '../../tensor.ts';

export interface AncestralStep {
  /** The noise level the deterministic part of the step goes down to. */
  sigmaDown: number;
  /** The standard deviation of the fresh noise added afterwards; sigmaDown^2 + sigmaUp^2 = sigmaTo^2. */
  sigmaUp: number;
}

/**
 * Split a step sigmaFrom -> sigmaTo into a deterministic descent and fresh noise, as ancestral (DDPM-style, eta = 1)
 * sampling does (k-diffusion `get_ancestral_step`; eta = 0 gives the deterministic step).
 */
export function getAncestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): AncestralStep {
  if (eta === 0) return { sigmaDown: sigmaTo, sigmaUp: 0 };
  const sigmaUp = Math.min(sigmaTo, eta * Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2));
  return { sigmaDown: Math.sqrt(sigmaTo ** 2 - sigmaUp ** 2), sigmaUp };
}

/**
 * Ancestral Euler (k-diffusion `sample_euler_ancestral`, eta = 1, s_noise = 1): an Euler step down to sigmaDown, then
 * fresh noise of std sigmaUp; no noise on the final step to sigma 0. One denoiser call per step.
 */
export async function sampleEulerAncestral(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    const { sigmaDown, sigmaUp } = getAncestralStep(sigma, sigmaNext);
    x = linearCombination([1, x], [sigmaDown - sigma, toDerivative(x, denoised, sigma)]);
    if (sigmaNext > 0) x = linearCombination([1, x], [sigmaUp, createTensor(x.dims, ctx.noise(x.dims))]);
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
