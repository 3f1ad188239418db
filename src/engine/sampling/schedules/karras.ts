import { linspaceFloat32 } from '../torch-linspace.ts';

/**
 * Karras et al. 2022 ("Elucidating the Design Space of Diffusion-Based Generative Models", eq. 5):
 * sigma_i = (sigma_max^(1/rho) + i/(n-1) (sigma_min^(1/rho) - sigma_max^(1/rho)))^rho, then 0 appended.
 * float32 arithmetic as k-diffusion's `get_sigmas_karras` performs it on a float32 ramp.
 */
export function getKarrasSigmas(steps: number, sigmaMin: number, sigmaMax: number, rho = 7): Float64Array {
  const f = Math.fround;
  const ramp = linspaceFloat32(0, 1, steps);
  const maxInvRho = sigmaMax ** (1 / rho);
  const minInvRho = sigmaMin ** (1 / rho);
  const span = f(minInvRho - maxInvRho);
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) out[i] = f(f(f(maxInvRho) + f(ramp[i]! * span)) ** rho);
  return out;
}
