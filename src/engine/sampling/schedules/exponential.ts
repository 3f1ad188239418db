import { linspaceFloat32 } from '../torch-linspace.ts';

/**
 * Log-uniform noise levels from sigma_max down to sigma_min, then 0 (k-diffusion `get_sigmas_exponential`):
 * sigma_i = exp(linspace(ln sigma_max, ln sigma_min, n)_i), in float32.
 */
export function getExponentialSigmas(steps: number, sigmaMin: number, sigmaMax: number): Float64Array {
  const logs = linspaceFloat32(Math.log(sigmaMax), Math.log(sigmaMin), steps);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) out[i] = Math.fround(Math.exp(logs[i]!));
  return out;
}
