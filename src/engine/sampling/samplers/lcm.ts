import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination } from '../tensor-math.ts';
import { createTensor, type Tensor } from '../../tensor.ts';

/**
 * Latent Consistency Model multistep sampling (Luo et al. 2023, Algorithm 1; ComfyUI `sample_lcm`): jump to the
 * denoised estimate, then re-noise it to the next sigma with fresh noise (an epsilon model's noise scaling
 * x0 + sigma * noise); the final step returns the estimate. One denoiser call per step.
 */
export async function sampleLcm(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigmas[i]!, ctx.signal);
    x = sigmaNext > 0 ? linearCombination([1, denoised], [sigmaNext, createTensor(x.dims, ctx.noise(x.dims))]) : denoised;
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
