/** The generation parameters a saved image's metadata records for the request that made it. */
import path from 'node:path';
import type { GenerationParameters } from '../../engine/index.ts';
import type { AppGenerationRequest } from './app-generation-request.ts';

/** The name a checkpoint goes by in progress messages and metadata: its file name without `.safetensors`. */
export function toModelName(file: string): string {
  return path.basename(file).replace(/\.safetensors$/i, '');
}

/** The metadata of one image made by `request` with `seed` (its size is the image's), written by `software`. */
export function describeGeneration(request: Omit<AppGenerationRequest, 'input'> & Pick<Partial<AppGenerationRequest>, 'input'>, baseName: string, seed: bigint, software: string): GenerationParameters {
  return {
    prompt: request.rawPrompt,
    negativePrompt: request.rawNegativePrompt,
    fullPrompt: request.prompt,
    fullNegativePrompt: request.negativePrompt,
    ...(request.promptExpansion ? { promptExpansion: request.promptExpansion } : {}),
    styles: request.styles,
    ...(request.performance ? { performance: request.performance } : {}),
    steps: request.steps,
    sampler: request.sampler,
    scheduler: request.scheduler,
    cfg: request.cfg,
    sharpness: request.sharpness,
    adaptiveCfg: request.adaptiveCfg,
    // Fooocus writes the ADM guidance whatever the model (it reads it back the same way).
    admScalers: [request.admScalers.positive, request.admScalers.negative, request.admScalers.end],
    seed: String(seed),
    width: request.width,
    height: request.height,
    modelName: baseName,
    ...(request.loras?.length ? { loras: request.loras.map((l) => ({ name: l.name, weight: l.weight, hash: l.sha256.slice(0, 10) })) } : {}),
    modelHash: request.model.sha256.slice(0, 10),
    ...(request.refiner
      ? {
          refinerName: toModelName(request.refiner.path),
          refinerHash: request.refiner.sha256.slice(0, 10),
          refinerSwitch: request.refinerSwitch,
          refinerSwitchMethod: request.refinerSwitchMethod ?? 'joint',
        }
      : {}),
    // Fooocus records the VAE by its file name in the vae folder.
    ...(request.vae ? { vae: request.vae.name } : {}),
    clipSkip: request.clipSkip,
    ...(request.input ? { denoise: request.input.denoise } : {}),
    ...(request.inputImage ? { inputImage: request.inputImage } : {}),
    version: software,
  };
}
