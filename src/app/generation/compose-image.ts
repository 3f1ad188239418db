/**
 * Step 2 of the "make images" use case (generate-images.ts): image *i* of a prepared request as the engine takes
 * it, with prompt syntax (wildcards, arrays, `<lora:…>`), styles and expansion, then preset < user choices <
 * performance mode < explicit steps (creative/compose-request.ts), the Input Image steps' prompt and step count,
 * and what the metadata records.
 */
import type { InputImageParameters } from '../../engine/index.ts';
import { composeRequest, type ComposedRequest, type SettingsChoices } from '../creative/compose-request.ts';
import type { CreativeData } from '../creative/creative-data.ts';
import { MissingPerformanceLoraError, PromptSyntaxError, WildcardDepthError, WildcardFileError } from '../creative/creative-errors.ts';
import { resolvePresetModels } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import type { ModelListing } from '../models/model-store.ts';
import type { AppGenerationRequest } from './app-generation-request.ts';
import { GENERATION_DEFAULTS } from './generation-defaults.ts';
import { ImageRequestError, type ImageRequest } from './image-request.ts';
import { describeInputImage } from './input-image-description.ts';
import { composeInputImageSteps } from './input-image-steps.ts';
import { findLoraName } from './lora-selection.ts';

/** What is installed, read once per request. */
export interface GenerationContext {
  data: CreativeData;
  listing: readonly ModelListing[];
}

const CREATIVE_ERRORS = [PromptSyntaxError, WildcardDepthError, WildcardFileError];

/** A preset by name, its models named by store file; an unknown name is refused naming the presets there are. */
export function findPreset(data: CreativeData, name: string): Preset {
  const preset = data.presets.get(name);
  if (preset === undefined) throw new ImageRequestError('preset', 'known', `preset "${name}" does not exist; presets: ${[...data.presets.keys()].join(', ')}`);
  return { ...preset, ...resolvePresetModels(preset, data.catalogFiles) };
}

/** One image of a request, as the engine takes it, with the checkpoints and LoRAs still named by store file. */
export interface ComposedImage {
  model: string;
  refiner: string | null;
  /** The VAE file in the store's `vae` folder, or null for the checkpoint's own. */
  vae: string | null;
  loras: { name: string; weight: number }[];
  fields: Omit<AppGenerationRequest, 'model' | 'refiner' | 'vae' | 'loras' | 'input'>;
}

const CHOICE_FIELDS = ['model', 'refiner', 'refinerSwitch', 'loras', 'cfg', 'sharpness', 'adaptiveCfg', 'admScalers', 'sampler', 'scheduler'] as const;

export function composeImage(request: ImageRequest, index: number, { data, listing }: GenerationContext): ComposedImage {
  const choices = Object.fromEntries(CHOICE_FIELDS.flatMap((key) => (request[key] === undefined ? [] : [[key, request[key]]]))) as SettingsChoices;
  const { prompt, steps } = composeInputImageSteps(request);
  let composed: ComposedRequest;
  try {
    composed = composeRequest(
      {
        prompt,
        negative: request.negative,
        styles: request.styles,
        performance: request.performance,
        ...(request.preset === undefined ? {} : { preset: findPreset(data, request.preset) }),
        seed: BigInt(request.seed),
        // Without seed increment every image is composed as image 0: the same seed, wildcard lines and random style.
        imageIndex: request.seedIncrement === false ? 0 : index,
        choices,
        ...(steps === undefined ? {} : { steps }),
      },
      { ...data.context, loraAvailable: (file) => findLoraName(listing, file) !== null },
    );
  } catch (err) {
    if (err instanceof MissingPerformanceLoraError) throw new ImageRequestError('performance', 'installed', err.message);
    if (CREATIVE_ERRORS.some((cls) => err instanceof cls)) throw new ImageRequestError('prompt', 'syntax', (err as Error).message);
    throw err;
  }
  const { model, refiner, loras, ...sampling } = composed.settings;
  if (model === null) throw new ImageRequestError('model', 'required', 'model is required');
  return {
    model,
    refiner,
    vae: request.vae ?? null,
    loras: loras.map((l) => ({ name: l.name, weight: l.weight })),
    fields: {
      ...sampling,
      prompt: composed.prompt,
      negativePrompt: composed.negativePrompt,
      // As typed, after wildcards and LoRA tokens, and the expansion part: what the metadata records.
      rawPrompt: composed.resolvedPrompt,
      rawNegativePrompt: composed.resolvedNegative,
      promptExpansion: composed.expansion ?? '',
      styles: composed.styles,
      seed: composed.seed,
      imageCount: 1,
      performance: request.performance,
      width: request.width,
      height: request.height,
      clipSkip: request.clipSkip ?? GENERATION_DEFAULTS.clipSkip,
      ...(request.refinerSwitchMethod === undefined ? {} : { refinerSwitchMethod: request.refinerSwitchMethod }),
      format: request.format,
      scheme: request.metadataScheme ?? GENERATION_DEFAULTS.scheme,
      ...withInputImage(describeInputImage(request)),
    },
  };
}

function withInputImage(inputImage: InputImageParameters | undefined): { inputImage?: InputImageParameters } {
  return inputImage === undefined ? {} : { inputImage };
}
