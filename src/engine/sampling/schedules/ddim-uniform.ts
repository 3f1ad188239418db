import type { DiscreteSigmaTable } from '../sigma-table.ts';

/**
 * DDIM's uniform timestep skipping (Song et al. 2021, "Denoising Diffusion Implicit Models", sec. 4.2): table
 * indices 1, 1 + c, 1 + 2c, ... below the table length with c = floor(len / steps), noisiest first, then 0
 * (ComfyUI `ddim_scheduler`).
 *
 * Like ComfyUI, this yields more than steps + 1 values when `steps` does not divide the table evenly
 * (7 steps: c = 142, eight table entries), so samplers must count steps from the returned length.
 */
export function getDdimUniformSigmas(table: DiscreteSigmaTable, steps: number): Float64Array {
  const len = table.sigmas.length;
  const stride = Math.max(Math.floor(len / steps), 1);
  const picked: number[] = [];
  for (let index = 1; index < len; index += stride) picked.push(table.sigmas[index]!);
  picked.reverse();
  picked.push(0);
  return Float64Array.from(picked);
}
