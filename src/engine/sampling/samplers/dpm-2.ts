import type { Denoiser, SampleContext } from '../sampler-types.ts';
import { linearCombination, toDerivative } from '../tensor-math.ts';
import type { Tensor } from '../../tensor.ts';

/**
 * One DPM-Solver-2 step from sigma to sigmaTo (Lu et al. 2022, "DPM-Solver", Algorithm 1 in Karras et al.'s sigma
 * form as k-diffusion writes it): the derivative at the log-space midpoint sigma_mid = sqrt(sigma * sigmaTo) drives
 * the whole step. Costs one more denoiser call.
 */
export async function stepDpmSolver2(
  denoise: Denoiser,
  x: Tensor,
  d: Tensor,
  sigma: number,
  sigmaTo: number,
  signal: AbortSignal | undefined,
): Promise<Tensor> {
  const sigmaMid = Math.exp((Math.log(sigma) + Math.log(sigmaTo)) / 2);
  const x2 = linearCombination([1, x], [sigmaMid - sigma, d]);
  signal?.throwIfAborted();
  const denoised2 = await denoise(x2, sigmaMid, signal);
  return linearCombination([1, x], [sigmaTo - sigma, toDerivative(x2, denoised2, sigmaMid)]);
}

/**
 * DPM-Solver-2 (k-diffusion `sample_dpm_2`, s_churn = 0). The final step to sigma 0 is a plain Euler step, so N
 * steps cost 2N - 1 denoiser calls. ComfyUI computes one extra sigma and drops the penultimate one for this sampler;
 * that happens where the schedule is built.
 */
export async function sampleDpm2(denoise: Denoiser, x: Tensor, sigmas: Float64Array, ctx: SampleContext): Promise<Tensor> {
  const steps = sigmas.length - 1;
  for (let i = 0; i < steps; i++) {
    const sigma = sigmas[i]!;
    const sigmaNext = sigmas[i + 1]!;
    ctx.signal?.throwIfAborted();
    const denoised = await denoise(x, sigma, ctx.signal);
    const d = toDerivative(x, denoised, sigma);
    x = sigmaNext === 0
      ? linearCombination([1, x], [sigmaNext - sigma, d])
      : await stepDpmSolver2(denoise, x, d, sigma, sigmaNext, ctx.signal);
    ctx.onStep?.(i, steps, x, denoised);
  }
  return x;
}
