import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination, toDerivative } from '../tensor-math.ts';
import type { Tensor } from '../../tensor.ts';

/**
 * Euler's method on the probability-flow ODE (Karras et al. 2022, Algorithm 2 without churn; k-diffusion
 * `sample_euler` with s_churn = 0, as Fooocus and ComfyUI run it). One denoiser call per step.
 */
export async function sampleEuler(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    x = linearCombination([1, x], [sigmas[i + 1]! - sigma, toDerivative(x, denoised, sigma)]);
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
