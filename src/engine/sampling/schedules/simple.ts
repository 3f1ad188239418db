import type { DiscreteSigmaTable } from '../sigma-table.ts';

/**
 * Every (table length / steps)-th table entry counted down from the noisiest, then 0 (ComfyUI `simple_scheduler`):
 * sigma_i = table[len - 1 - floor(i * len / steps)].
 */
export function getSimpleSigmas(table: DiscreteSigmaTable, steps: number): Float64Array {
  const len = table.sigmas.length;
  const stride = len / steps;
  const out = new Float64Array(steps + 1);
  for (let i = 0; i < steps; i++) out[i] = table.sigmas[len - 1 - Math.trunc(i * stride)]!;
  return out;
}
