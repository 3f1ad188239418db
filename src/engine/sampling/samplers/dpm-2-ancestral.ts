import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination, toDerivative } from '../tensor-math.ts';
import { createTensor, type Tensor } from '../../tensor.ts';
import { stepDpmSolver2 } from './dpm-2.ts';
import { getAncestralStep } from './euler-ancestral.ts';

/**
 * Ancestral DPM-Solver-2 (k-diffusion `sample_dpm_2_ancestral`, eta = 1, s_noise = 1): a DPM-Solver-2 step down to
 * sigmaDown, then fresh noise of std sigmaUp. The final step to sigma 0 is a plain Euler step without noise, so N
 * steps cost 2N - 1 denoiser calls.
 */
export async function sampleDpm2Ancestral(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    const { sigmaDown, sigmaUp } = getAncestralStep(sigma, sigmas[i + 1]!);
    const d = toDerivative(x, denoised, sigma);
    if (sigmaDown === 0) {
      x = linearCombination([1, x], [sigmaDown - sigma, d]);
    } else {
      x = await stepDpmSolver2(denoise, x, d, sigma, sigmaDown, ctx.signal);
      x = linearCombination([1, x], [sigmaUp, createTensor(x.dims, ctx.noise(x.dims))]);
    }
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
