import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination } from '../tensor-math.ts';
import { createTensor, type Tensor } from '../../tensor.ts';

/**
 * DPM-Solver++(2M) SDE, Lu et al. 2022 ("DPM-Solver++", the SDE variant of Algorithm 2), as k-diffusion's
 * `sample_dpmpp_2m_sde` with the midpoint solver, eta = 1 and s_noise = 1: Fooocus's default sampler. First-order on
 * the first step, the final step to sigma 0 lands on the denoised estimate. One denoiser call per step.
 *
 * k-diffusion draws the noise from a Brownian-tree noise sampler; we draw independent seeded Gaussian noise per step
 * from ctx.noise. Both give each step the Gaussian increment the SDE prescribes, so this is a valid discretization
 * and reproducible per seed, but not bit-identical to ComfyUI or Fooocus.
 */
export async function sampleDpmpp2mSde(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  let oldDenoised: Tensor | undefined;
  let hLast = 0;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    if (sigmaNext === 0) {
      x = denoised;
    } else {
      const h = Math.log(sigma / sigmaNext); // lambda_next - lambda with lambda = -log(sigma); eta * h = h
      const decay = -Math.expm1(-2 * h); // -expm1(-h - eta * h)
      x = linearCombination([(sigmaNext / sigma) * Math.exp(-h), x], [decay, denoised]);
      if (oldDenoised !== undefined) {
        const k = (0.5 * decay) / (hLast / h); // midpoint: 0.5 * decay * (1 / r)
        x = linearCombination([1, x], [k, denoised], [-k, oldDenoised]);
      }
      const noise = createTensor(x.dims, ctx.noise(x.dims));
      x = linearCombination([1, x], [sigmaNext * Math.sqrt(-Math.expm1(-2 * h)), noise]);
      hLast = h;
    }
    oldDenoised = denoised;
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
