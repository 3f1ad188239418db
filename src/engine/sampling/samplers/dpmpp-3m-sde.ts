import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination } from '../tensor-math.ts';
import { createTensor, type Tensor } from '../../tensor.ts';

/**
 * DPM-Solver++(3M) SDE: the third-order multistep extension of DPM-Solver++ (Lu et al. 2022) written by Katherine
 * Crowson for k-diffusion (`sample_dpmpp_3m_sde`, eta = 1, s_noise = 1). Orders ramp 1, 2, 3 over the first steps;
 * the final step to sigma 0 lands on the denoised estimate. One denoiser call per step.
 *
 * As in dpmpp-2m-sde.ts, independent seeded Gaussian noise per step replaces k-diffusion's Brownian-tree noise
 * sampler: a valid discretization, reproducible per seed, not bit-identical to ComfyUI.
 */
export async function sampleDpmpp3mSde(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  let denoised1: Tensor | undefined; // previous estimates, newest first, with the step lengths h that followed them
  let denoised2: Tensor | undefined;
  let h1 = 0;
  let h2 = 0;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    if (sigmaNext === 0) {
      x = denoised;
    } else {
      const h = Math.log(sigma / sigmaNext);
      const hEta = 2 * h; // h * (eta + 1)
      x = linearCombination([Math.exp(-hEta), x], [-Math.expm1(-hEta), denoised]);
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      if (denoised1 !== undefined && denoised2 !== undefined) {
        const r0 = h1 / h;
        const r1 = h2 / h;
        const d10 = linearCombination([1 / r0, denoised], [-1 / r0, denoised1]);
        const d11 = linearCombination([1 / r1, denoised1], [-1 / r1, denoised2]);
        const d1 = linearCombination([1 + r0 / (r0 + r1), d10], [-r0 / (r0 + r1), d11]);
        const d2 = linearCombination([1 / (r0 + r1), d10], [-1 / (r0 + r1), d11]);
        const phi3 = phi2 / hEta - 0.5;
        x = linearCombination([1, x], [phi2, d1], [-phi3, d2]);
      } else if (denoised1 !== undefined) {
        const r = h1 / h;
        x = linearCombination([1, x], [phi2 / r, denoised], [-phi2 / r, denoised1]);
      }
      const noise = createTensor(x.dims, ctx.noise(x.dims));
      x = linearCombination([1, x], [sigmaNext * Math.sqrt(-Math.expm1(-2 * h)), noise]);
      h2 = h1;
      h1 = h;
    }
    denoised2 = denoised1;
    denoised1 = denoised;
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
