import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination } from '../tensor-math.ts';
import { createTensor, type Tensor } from '../../tensor.ts';
import { getAncestralStep } from './euler-ancestral.ts';

/**
 * DPM-Solver++ SDE: the stochastic second-order singlestep solver of Lu et al. 2022 ("DPM-Solver++") as k-diffusion's
 * `sample_dpmpp_sde` (eta = 1, s_noise = 1, r = 1/2): an ancestral first-order substep to the log-midpoint
 * sigma_s = sqrt(sigma * sigmaNext), a second denoiser call there, and an ancestral step to sigmaNext that uses it.
 * The final step to sigma 0 is a plain Euler step, so N steps cost 2N - 1 denoiser calls.
 *
 * k-diffusion draws the noise from a Brownian-tree noise sampler (Brownian motion in sigma); we draw two seeded
 * Gaussians per step from ctx.noise and build the step's increment from the substep's, with the correlation the two
 * nested Brownian increments have. Increments of different steps are independent for a Brownian motion too, so the
 * noise has the tree's joint distribution: a faithful discretization, reproducible per seed, but not bit-identical to
 * ComfyUI. (Independent substep and step noise would bias the sampled variance low: ~4% at 30 steps.)
 */
export async function sampleDpmppSde(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    if (sigmaNext === 0) {
      x = denoised; // Euler to sigma 0: x + (x - denoised) / sigma * (0 - sigma)
    } else {
      // With lambda = -log(sigma), a first-order DPM-Solver++ step from sigma to s is x * s / sigma + (1 - s / sigma) * D.
      const sigmaS = Math.sqrt(sigma * sigmaNext);
      const sub = getAncestralStep(sigma, sigmaS);
      const substepNoise = createTensor(x.dims, ctx.noise(x.dims));
      let x2 = linearCombination([sub.sigmaDown / sigma, x], [1 - sub.sigmaDown / sigma, denoised]);
      x2 = linearCombination([1, x2], [sub.sigmaUp, substepNoise]);
      ctx.signal?.throwIfAborted();
      const denoised2 = await denoise(x2, sigmaS, ctx.signal);
      // r = 1/2 makes the blend (1 - 1/(2r)) * denoised + 1/(2r) * denoised2 equal to denoised2.
      const full = getAncestralStep(sigma, sigmaNext);
      x = linearCombination([full.sigmaDown / sigma, x], [1 - full.sigmaDown / sigma, denoised2]);
      // The step's Brownian increment contains the substep's: corr = sqrt((sigma - sigmaS) / (sigma - sigmaNext)).
      const c = Math.sqrt((sigma - sigmaS) / (sigma - sigmaNext));
      const fresh = createTensor(x.dims, ctx.noise(x.dims));
      x = linearCombination([1, x], [full.sigmaUp * c, substepNoise], [full.sigmaUp * Math.sqrt(1 - c * c), fresh]);
    }
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
