import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination, toDerivative } from '../tensor-math.ts';
import type { Tensor } from '../../tensor.ts';

/**
 * Heun's second-order method on the probability-flow ODE (Karras et al. 2022, Algorithm 1; k-diffusion `sample_heun`
 * with s_churn = 0). The final step to sigma 0 is a plain Euler step, so N steps cost 2N - 1 denoiser calls.
 */
export async function sampleHeun(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    const dt = sigmaNext - sigma;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    const d = toDerivative(x, denoised, sigma);
    if (sigmaNext === 0) {
      x = linearCombination([1, x], [dt, d]);
    } else {
      const x2 = linearCombination([1, x], [dt, d]);
      ctx.signal?.throwIfAborted();
      const denoised2 = await denoise(x2, sigmaNext, ctx.signal);
      x = linearCombination([1, x], [dt / 2, d], [dt / 2, toDerivative(x2, denoised2, sigmaNext)]);
    }
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
