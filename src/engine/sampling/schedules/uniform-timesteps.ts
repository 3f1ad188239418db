import { getSigmaMax, getSigmaMin, sigmaToTimestep, timestepToSigma, type DiscreteSigmaTable } from '../sigma-table.ts';
import { linspaceFloat32 } from '../torch-linspace.ts';

/**
 * Timesteps evenly spaced from the model's first (noisiest) to its last, mapped to sigmas through the table, then
 * 0 appended (ComfyUI `normal_scheduler`).
 *  - `normal`: `steps` timesteps including both ends (the least noisy table entry is sampled too).
 *  - `sgm_uniform`: `steps + 1` timesteps with the last dropped, as SGM / Stability's samplers do
 *    (Fooocus runs LCM and TCD models with this one on their distilled table).
 */
export function getUniformTimestepSigmas(table: DiscreteSigmaTable, steps: number, sgm: boolean): Float64Array {
  const start = sigmaToTimestep(getSigmaMax(table), table);
  const end = sigmaToTimestep(getSigmaMin(table), table);
  const timesteps = sgm
    ? linspaceFloat32(start, end, steps + 1).subarray(0, steps)
    : linspaceFloat32(start, end, steps);
  const out = new Float64Array(steps + 1);
  timesteps.forEach((t, i) => {
    out[i] = timestepToSigma(t, table);
  });
  return out;
}
