/**
 * Step 1 of the "make images" use case (generate-images.ts): a request as a client drafts it, checked against what
 * is installed (models, LoRAs, styles, sampler, scheduler, performance mode and its LoRA for the model's family,
 * preset models) and the engine's rules (image 0 composed and validated), with the defaults resolved (model, size,
 * seed...), before anything is queued or loaded. A refusal is an `ImageRequestError { field, rule }`.
 */
import { checkDescribeFirst } from '../describe/describe-first.ts';
import { createDescriberRegistry, type DescriberRegistry } from '../describe/describer-registry.ts';
import { getFamilyProfile, InvalidGenerationRequestError, randomSeed, validateGenerationRequest, type GreyMask, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import { UnknownPerformanceModeError, PresetModelsMissingError } from '../creative/creative-errors.ts';
import { getPerformanceMode } from '../creative/performance-modes.ts';
import { findMissingPresetModels, toStoreFileName } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import { isReservedStyleName } from '../creative/style-names.ts';
import { suggestStyleNames } from '../creative/style-suggestions.ts';
import type { ModelListing } from '../models/model-store.ts';
import { resolveEnhanceChoice } from '../enhance/enhance-choice.ts';
import { composeImage, findPreset, type GenerationContext } from './compose-image.ts';
import { GENERATION_DEFAULTS } from './generation-defaults.ts';
import { checkImagePromptFiles } from './image-prompt-files.ts';
import { ImageRequestError, resolveImagePrompts, type ImagePromptDraft, type ImageRequest } from './image-request.ts';
import { cropToGrid, parseSize, sizeForAspect } from './image-size.ts';
import { findLoraName } from './lora-selection.ts';
import { INPUT_IMAGE_STEPS, prepareInputImageSteps, type EngineCheck, type PreparedStep } from './input-image-steps.ts';
import { placeholderInpaint } from './inpaint-step.ts';

/** A request as a client gives it: the prompt, and any choice; the rest is resolved by prepareImageRequest. */
export type ImageRequestDraft = Partial<Omit<ImageRequest, 'imagePrompts'>> & {
  prompt: string;
  /** Image prompts with each type's defaults still to fill (resolveImagePrompts). */
  imagePrompts?: ImagePromptDraft[];
  /** An exact size, `1152*896` or `1152x896` (instead of width and height). */
  aspectRatio?: string;
  /** A ratio (`16:9`) at the model family's native pixel area. */
  aspect?: string;
};

export interface PrepareOptions {
  /** The checkpoint when neither the request nor its preset names one; null when there is none. */
  defaultModel: () => Promise<string | null>;
  /** The describers `describeFirst` may name (default: this build's). */
  describerRegistry?: DescriberRegistry;
  /** Reads an input image (the size of an image-to-image request that gives none). */
  readInput?: (file: string) => Promise<RgbImage>;
  /** The scale of an upscaler in the store (upscale requests; see upscaler-selection.ts). */
  readUpscalerScale?: (name: string) => Promise<number>;
  /** Most pixels a result may have when its size comes from the input (the HTTP quota; an upscale's result). */
  maxPixels?: number;
  /** Reads an inpaint mask, so its size and content are checked at submit (else when the image is made). */
  readMask?: (file: string) => Promise<GreyMask>;
  /** The input channels of a checkpoint's UNet, so a named inpaint engine it cannot run is refused at submit. */
  readUnetInChannels?: (model: string) => Promise<number | null>;
}

export async function prepareImageRequest(draft: ImageRequestDraft, context: GenerationContext, options: PrepareOptions): Promise<ImageRequest> {
  const { data, listing } = context;
  const preset = draft.preset === undefined ? undefined : findPreset(data, draft.preset);
  if (draft.preset !== undefined) checkPresetModels(draft, data.presets.get(draft.preset)!, context);
  const model = await chooseModel(draft, preset, context, options);
  const refiner = draft.refiner ? toStoreFileName(draft.refiner, 'checkpoints', data.catalogFiles) : draft.refiner;
  if (refiner) checkCheckpoint(listing, 'refiner', refiner);
  if (draft.vae !== undefined) checkVae(listing, draft.vae);
  (draft.loras ?? []).forEach((lora, at) => {
    if (findLoraName(listing, lora.name) === null) throw new ImageRequestError(`loras[${at}].name`, 'installed', `LoRA "${lora.name}" is not in the model store`);
  });
  const unknownStyle = (draft.styles ?? []).find((s) => !data.styles.has(s) && !isReservedStyleName(s));
  if (unknownStyle !== undefined) {
    const near = suggestStyleNames(unknownStyle, data.styles.keys());
    throw new ImageRequestError('styles', 'known', `style "${unknownStyle}" does not exist${near.length > 0 ? `; did you mean ${near.map((n) => `"${n}"`).join(', ')}?` : ''}`);
  }
  const family = (listing.find((m) => m.kind === 'checkpoints' && m.name === model)?.family ?? 'sdxl') as ModelFamily;
  const performance = draft.performance ?? preset?.performance ?? 'Speed';
  checkPerformance(performance, family, model);
  let input = draft.input === undefined ? undefined : { file: draft.input.file, denoise: draft.input.denoise ?? GENERATION_DEFAULTS.denoise };
  const readInput = input === undefined || options.readInput === undefined ? undefined : onceOnly(() => options.readInput!(input!.file));
  const steps = await prepareInputImageSteps({
    draft,
    family,
    model,
    listing,
    hasInput: input !== undefined,
    readInput,
    ...(options.readUpscalerScale === undefined ? {} : { readUpscalerScale: options.readUpscalerScale }),
    ...(options.readMask === undefined ? {} : { readMask: options.readMask }),
    ...(options.readUnetInChannels === undefined ? {} : { readUnetInChannels: options.readUnetInChannels }),
    ...(options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels }),
  });
  if (steps.denoise !== undefined) input = { file: input!.file, denoise: steps.denoise };
  // Enhance on an input image alone works on the image as it is: no generation before the tabs.
  const enhanceOnly = draft.enhance !== undefined && input !== undefined && !INPUT_IMAGE_STEPS.some((step) => draft[step.field] !== undefined);
  const size = steps.size ?? (enhanceOnly && readInput !== undefined ? await readImageSize(readInput) : await chooseSize(draft, preset, family, readInput));
  const enhance = draft.enhance === undefined ? undefined : await resolveEnhanceChoice(draft.enhance, { family, listing, size, ...(options.readUpscalerScale === undefined ? {} : { readUpscalerScale: options.readUpscalerScale }), ...(options.maxPixels === undefined ? {} : { maxPixels: options.maxPixels }) });
  const imagePrompts = resolveImagePrompts(draft.imagePrompts, { ...draft, ...steps.request });
  checkImagePromptFiles(imagePrompts, family, listing);
  checkDescribeFirst({ describeFirst: draft.describeFirst, hasInput: input !== undefined }, listing, options.describerRegistry ?? createDescriberRegistry());
  const { aspectRatio: _exact, aspect: _ratio, imagePrompts: _drafts, ...choices } = draft;
  const request: ImageRequest = {
    ...choices,
    styles: draft.styles ?? [...(preset?.styles ?? [])],
    performance,
    ...size,
    imageCount: draft.imageCount ?? preset?.imageCount ?? GENERATION_DEFAULTS.imageCount,
    seed: draft.seed ?? String(randomSeed()),
    negative: draft.negative ?? '',
    model,
    ...(refiner === undefined ? {} : { refiner }),
    format: draft.format ?? GENERATION_DEFAULTS.format,
    ...(input === undefined ? {} : { input }),
    ...steps.request,
    ...(imagePrompts === undefined ? {} : { imagePrompts }),
    ...(enhance === undefined ? {} : { enhance }),
  };
  checkFirstImage(request, context, enhanceOnly ? checkAsEnhanceInput : steps.adjustCheck);
  return request;
}

async function readImageSize(readInput: () => Promise<RgbImage>): Promise<{ width: number; height: number }> {
  const { width, height } = await readInput();
  return { width, height };
}

/** An input enhanced alone keeps its own size, which need not be on the latent grid: image 0 is held to the inpaint's rules. */
function checkAsEnhanceInput(check: EngineCheck): EngineCheck {
  const placeholder = placeholderInpaint({ mode: 'default' }, check.size);
  return { ...check, input: { image: placeholder.image, denoise: 1 }, inpaint: placeholder.settings };
}

function onceOnly<T>(read: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | undefined;
  return () => (value ??= read());
}

/** The preset's models (as it names them) the store lacks, leaving out those an explicit choice replaces. */
function checkPresetModels(draft: ImageRequestDraft, preset: Preset, { data, listing }: GenerationContext): void {
  const installed = new Set(listing.map((m) => `${m.kind}/${m.name}`));
  const missing = findMissingPresetModels(preset, data.catalogFiles, installed).filter(
    (m) => !(m.field === 'model' && draft.model !== undefined) && !(m.field === 'refiner' && draft.refiner !== undefined),
  );
  if (missing.length > 0) throw new ImageRequestError('preset', 'installed', new PresetModelsMissingError(draft.preset!, missing).message);
}

function checkCheckpoint(listing: readonly ModelListing[], field: 'model' | 'refiner', name: string): void {
  if (!listing.some((m) => m.kind === 'checkpoints' && m.name === name)) {
    throw new ImageRequestError(
      field,
      'installed',
      `${field} "${name}" is not in the model store (a file not in the trust manifest is never loaded): see \`npm run fooocus -- models list\`, and add a checkpoint with \`npm run fooocus -- models import <file>\``,
    );
  }
}

/** A VAE is chosen by its file name in the store's `vae` folder (Fooocus lists that folder's files by name). */
function checkVae(listing: readonly ModelListing[], name: string): void {
  if (!listing.some((m) => m.kind === 'vae' && m.name === name)) {
    throw new ImageRequestError(
      'vae',
      'installed',
      `vae "${name}" is not in the model store (a file not in the trust manifest is never loaded): see \`npm run fooocus -- models list\`, and add a VAE with \`npm run fooocus -- models import <file> --kind vae\``,
    );
  }
}

async function chooseModel(draft: ImageRequestDraft, preset: Preset | undefined, { data, listing }: GenerationContext, options: PrepareOptions): Promise<string> {
  const named = draft.model ?? preset?.model;
  const model = named === undefined ? await options.defaultModel() : toStoreFileName(named, 'checkpoints', data.catalogFiles);
  if (model === null) throw new ImageRequestError('model', 'required', 'model is required: no checkpoint is installed or configured as the default');
  checkCheckpoint(listing, 'model', model);
  return model;
}

/** A fast mode's LoRA is made for one family: on another family the mode cannot run, whatever is installed. */
function checkPerformance(name: string, family: ModelFamily, model: string): void {
  let mode;
  try {
    mode = getPerformanceMode(name);
  } catch (err) {
    if (err instanceof UnknownPerformanceModeError) throw new ImageRequestError('performance', 'known', err.message);
    throw err;
  }
  if (mode.lora !== undefined && family !== mode.lora.family) {
    const label = (f: ModelFamily) => getFamilyProfile(f).label;
    throw new ImageRequestError(
      'performance',
      'family',
      `performance "${name}" needs an ${label(mode.lora.family)} LoRA and is not available for ${model} (${label(family)}), ` +
        `which has no ${name} LoRA in the catalog; choose performance Speed or Quality for it, or an SDXL model`,
    );
  }
}

/** Exact size, then a ratio at the family's native area, the input image, the preset, the family's default. */
async function chooseSize(draft: ImageRequestDraft, preset: Preset | undefined, family: ModelFamily, readInput: (() => Promise<RgbImage>) | undefined): Promise<{ width: number; height: number }> {
  if (draft.width !== undefined && draft.height !== undefined) return { width: draft.width, height: draft.height };
  const native = getFamilyProfile(family).defaultImageSize;
  try {
    if (draft.aspectRatio !== undefined) return parseSize(draft.aspectRatio);
    if (draft.aspect !== undefined) return sizeForAspect(draft.aspect, native);
  } catch (err) {
    throw new ImageRequestError(draft.aspectRatio !== undefined ? 'aspectRatio' : 'aspect', 'format', (err as Error).message);
  }
  if (readInput !== undefined) {
    const { width, height } = cropToGrid(await readInput());
    return { width, height };
  }
  if (preset !== undefined) return parseSize(preset.aspectRatio);
  return { ...getFamilyProfile(family).defaultResolution };
}

/**
 * Image 0 composed and held to the engine's rules, so a bad value or prompt is refused before anything runs; the
 * request's Input Image steps say what the engine is given (`adjustCheck`, input-image-steps.ts).
 */
function checkFirstImage(request: ImageRequest, context: GenerationContext, adjustCheck: PreparedStep['adjustCheck']): void {
  const image = composeImage(request, 0, context);
  image.loras.forEach((lora) => {
    if (findLoraName(context.listing, lora.name) === null) throw new ImageRequestError('prompt', 'installed', `LoRA "${lora.name}" is not in the model store`);
  });
  const size = { width: request.width, height: request.height };
  const plain: EngineCheck = { size, input: request.input === undefined ? undefined : { image: { ...size, rgb: new Uint8Array(size.width * size.height * 3) }, denoise: request.input.denoise } };
  const check = adjustCheck === undefined ? plain : adjustCheck(plain, request);
  try {
    validateGenerationRequest({ ...image.fields, ...check.size, imageCount: request.imageCount, input: check.input, ...(check.inpaint ? { inpaint: check.inpaint } : {}) });
  } catch (err) {
    if (!(err instanceof InvalidGenerationRequestError)) throw err;
    throw new ImageRequestError(err.field, 'range', err.message);
  }
}
