/**
 * Fooocus's "global diffusion progress", the clock that sharpness, adaptive CFG and ADM scaling all read.
 *
 * `modules/patch.py` `patched_unet_forward` sets it on every UNet call from the model timestep of the batch's
 * first item: progress = 1 - t / 999. The timestep t is `ModelSamplingDiscrete.timestep(sigma)` of the bundled
 * ComfyUI (`ldm_patched/modules/model_sampling.py`; `sigmaToTimestep` in sampling/sigma-table.ts): the index
 * (0..999) of the training sigma nearest to sigma in log space, an integer, so progress is not step / steps but
 * follows the sigma schedule. `patched_sampling_function`
 * then reads the value the current step's UNet call just set.
 */

/** Largest discrete training timestep (1000-step DDPM schedule). */
export const MAX_TRAINING_TIMESTEP = 999;

/** Progress in [0, 1] from a model timestep in [0, 999]: 0 at pure noise, 1 at the clean end. */
export function computeDiffusionProgress(timestep: number): number {
  return 1 - timestep / MAX_TRAINING_TIMESTEP;
}
