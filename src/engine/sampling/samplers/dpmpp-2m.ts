import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination } from '../tensor-math.ts';
import type { Tensor } from '../../tensor.ts';

/**
 * DPM-Solver++(2M), Lu et al. 2022 ("DPM-Solver++", Algorithm 2), in k-diffusion's form (`sample_dpmpp_2m`) with
 * lambda = -log(sigma): a first-order step on the first step and on the final step to sigma 0 (which lands exactly on
 * the denoised estimate), second-order multistep in between. One denoiser call per step.
 */
export async function sampleDpmpp2m(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  let oldDenoised: Tensor | undefined;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    if (sigmaNext === 0) {
      x = denoised;
    } else {
      const h = Math.log(sigma / sigmaNext);
      const decay = -Math.expm1(-h);
      if (oldDenoised === undefined) {
        x = linearCombination([sigmaNext / sigma, x], [decay, denoised]);
      } else {
        const r = Math.log(sigmas[i - 1]! / sigma) / h; // h_last / h
        x = linearCombination([sigmaNext / sigma, x], [decay * (1 + 1 / (2 * r)), denoised], [-decay / (2 * r), oldDenoised]);
      }
    }
    oldDenoised = denoised;
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
