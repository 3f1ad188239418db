/**
 * The "make images" use case, for the studio (job submission, then the inference process) and `fooocus generate`
 * alike:
 *
 * 1. `prepareImageRequest`: check a request against what is installed (models, LoRAs, styles, sampler, scheduler,
 *    performance mode and its LoRA for the model's family, preset models) and the engine's rules, and resolve the
 *    defaults (model, size, seed...), before anything is queued or loaded;
 * 2. `composeImage`: one image's engine request (styles, expansion, wildcards, preset and performance mode);
 * 3. `createImageGenerator`: verify the models, read the input image and run the generation service.
 */
import { checkDescribeFirst, InputDescriber, needsDescription } from '../describe/describe-first.ts';
import type { ImageDescribers } from '../describe/describe-image.ts';
import { createDescriberRegistry, DESCRIBE_TYPE_LABELS, type DescriberRegistry } from '../describe/describer-registry.ts';
import path from 'node:path';
import { getFamilyProfile, InvalidGenerationRequestError, randomSeed, readImageFile, validateGenerationRequest, type GreyMask, type InputImageParameters, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import { composeRequest, type ComposedRequest, type SettingsChoices } from '../creative/compose-request.ts';
import type { CreativeData } from '../creative/creative-data.ts';
import { MissingPerformanceLoraError, PresetModelsMissingError, PromptSyntaxError, UnknownPerformanceModeError, WildcardDepthError, WildcardFileError } from '../creative/creative-errors.ts';
import { getPerformanceMode } from '../creative/performance-modes.ts';
import { findMissingPresetModels, resolvePresetModels, toStoreFileName } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import { isReservedStyleName } from '../creative/style-names.ts';
import { suggestStyleNames } from '../creative/style-suggestions.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import { GENERATION_DEFAULTS } from './generation-defaults.ts';
import type { AppGenerationRequest, GenerationService, SavedImage, ServiceProgress, VerifiedModel } from './generation-service.ts';
import { checkImagePromptFiles, readControlInputs, readImagePromptInputs, recordImagePrompts, type ProvidedImage } from './image-prompt-files.ts';
import { ImageRequestError, resolveImagePrompts, type ImagePromptDraft, type ImageRequest } from './image-request.ts';
import { parseSize, sizeForAspect } from './image-size.ts';
import { describeInputImage } from './input-image-description.ts';
import { findLoraName, verifyLoras } from './lora-selection.ts';
import { composeInputImageSteps, findInputImageSteps, INPUT_IMAGE_STEPS, prepareInputImageSteps, runInputImageSteps, type EngineCheck, type PreparedStep } from './input-image-steps.ts';
import { placeholderInpaint } from './inpaint-step.ts';
import { resolveEnhanceChoice } from '../enhance/enhance-choice.ts';
import { generateEnhanced, type EnhancedImageContext } from '../enhance/enhanced-image.ts';

/** What is installed, read once per request. */
export interface GenerationContext {
  data: CreativeData;
  listing: readonly ModelListing[];
}

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

const CREATIVE_ERRORS = [PromptSyntaxError, WildcardDepthError, WildcardFileError];

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

function findPreset(data: CreativeData, name: string): Preset {
  const preset = data.presets.get(name);
  if (preset === undefined) throw new ImageRequestError('preset', 'known', `preset "${name}" does not exist; presets: ${[...data.presets.keys()].join(', ')}`);
  return { ...preset, ...resolvePresetModels(preset, data.catalogFiles) };
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

/** Centre-crops an input image to multiples of 8 (the latent grid). */
export function cropToGrid(img: RgbImage): RgbImage {
  const width = img.width - (img.width % 8);
  const height = img.height - (img.height % 8);
  if (width === img.width && height === img.height) return img;
  const x0 = Math.floor((img.width - width) / 2);
  const y0 = Math.floor((img.height - height) / 2);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) rgb.set(img.rgb.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + width) * 3), y * width * 3);
  return { width, height, rgb };
}

/**
 * Reads and decodes an input image; a relative path is taken from `dir` (the outputs directory, for uploads). A file
 * that is not an image is refused naming `source` (the option or field that named it) and the file.
 */
export async function readInputImage(dir: string, file: string, source = 'input'): Promise<RgbImage> {
  return readImageFile(path.resolve(dir, file), { source });
}

export interface ImageGeneratorOptions {
  store: ModelStore;
  data: CreativeData;
  service: GenerationService;
  /** Where relative input image paths are (the outputs directory). */
  inputDir: string;
  /** What named the input image (`--input`), for the error when it is not an image. */
  inputSource?: string;
  /** What named the inpaint mask file (`--mask`), likewise. */
  maskSource?: string;
  /** The describers a `describeFirst` job uses (loaded on first use, kept; the caller releases them). */
  describers?: ImageDescribers;
}

export interface GenerateImageOptions {
  signal?: AbortSignal;
  /** The input image, decoded already (the studio reads uploads through its own checks); else read from the file. */
  input?: RgbImage;
  /**
   * The inpaint mask (`inpaint.mask`), decoded already (the studio turns a decoded upload into one with the
   * engine's `maskFromImage`); else read from the file through the same image decoder and limits as `input`.
   */
  mask?: GreyMask;
  /** Image prompt images decoded already (a Redis worker gets them with the job); others are read from their files. */
  imagePromptImages?: readonly ProvidedImage[];
  onProgress?: (p: ServiceProgress) => void;
  /** The job the image is for: its id marks the file name (see SaveImageOptions.jobTag). */
  jobTag?: string;
}

/** Makes image `index` of a prepared request: compose it, verify its models (hash), generate, save. */
export function createImageGenerator(options: ImageGeneratorOptions) {
  const { store, service } = options;
  const verify = async (name: string, opts: GenerateImageOptions, kind: 'checkpoints' | 'vae' | 'upscalers' | 'detection' | 'sam' = 'checkpoints'): Promise<VerifiedModel> => {
    const file = await store.resolve(kind, name, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onHashProgress: (done, total) => opts.onProgress?.({ phase: 'verify', model: name, message: `verifying ${name}`, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
    });
    const entry = (await store.list()).find((m) => m.kind === kind && m.name === name);
    if (entry === undefined) throw new ImageRequestError(VERIFIED_FIELD[kind], 'installed', `${name}: not in the trust manifest`);
    return { path: file, sha256: entry.sha256 };
  };
  const inputDescriber = options.describers === undefined ? undefined : new InputDescriber(options.describers);
  return async (submitted: ImageRequest, index: number, opts: GenerateImageOptions = {}): Promise<SavedImage> => {
    const listing = await store.list();
    const pixels = submitted.input === undefined ? undefined : (opts.input ?? (await readInputImage(options.inputDir, submitted.input.file, options.inputSource)));
    const request = needsDescription(submitted) ? { ...submitted, prompt: await describeInput(submitted, pixels, opts) } : submitted;
    const image = composeImage(request, index, { data: options.data, listing });
    const model = await verify(image.model, opts);
    const refiner = image.refiner === null ? undefined : await verify(image.refiner, opts);
    const vae = image.vae === null ? undefined : { ...(await verify(image.vae, opts, 'vae')), name: image.vae };
    const loras = await verifyLoras(store, listing, image.loras, opts.signal);
    const readContext = { store, listing, inputDir: options.inputDir, ...(opts.imagePromptImages ? { images: opts.imagePromptImages } : {}), ...(opts.signal ? { signal: opts.signal } : {}) };
    const imagePromptInputs = await readImagePromptInputs(request, readContext);
    const controlInputs = await readControlInputs(request, readContext);
    const recorded = await recordImagePrompts(request, options.inputDir, opts.imagePromptImages);
    const appRequest = {
      ...image.fields,
      ...(recorded.imagePrompts === undefined ? {} : { inputImage: { ...image.fields.inputImage, ...recorded } }),
      model,
      ...(refiner ? { refiner } : {}),
      ...(vae ? { vae } : {}),
      ...(loras.length > 0 ? { loras } : {}),
      ...(imagePromptInputs ? { imagePromptInputs } : {}),
      ...(controlInputs && controlInputs.hints.length > 0 ? { controls: controlInputs.hints, controlFiles: controlInputs.files } : {}),
      ...(opts.jobTag === undefined ? {} : { jobTag: opts.jobTag }),
    };
    if (request.enhance !== undefined) {
      const family = (listing.find((m) => m.kind === 'checkpoints' && m.name === request.model)?.family ?? 'sdxl') as ModelFamily;
      const enhanceContext: EnhancedImageContext = {
        request,
        appRequest,
        listing,
        store,
        family,
        inputDir: options.inputDir,
        service,
        compose: (tabRequest) => composeImage(tabRequest, index, { data: options.data, listing }).fields,
        verify: (name, kind) => verify(name, opts, kind),
      };
      const steps = pixels === undefined || findInputImageSteps(request).length === 0 ? undefined : () => runSteps(pixels);
      return generateEnhanced(enhanceContext, pixels, opts, steps);
    }
    if (pixels === undefined) {
      const [saved] = await service.generate(appRequest, opts);
      return saved!;
    }
    const step = await runSteps(pixels);
    if (step.kind === 'final') return service.saveUpscaled(appRequest, step.image);
    const [saved] = await service.generate({ ...appRequest, input: step.input, ...step.extra }, opts);
    return saved!;

    async function describeInput(request: ImageRequest, input: RgbImage | undefined, { signal, onProgress }: GenerateImageOptions): Promise<string> {
      if (inputDescriber === undefined) throw new ImageRequestError('describeFirst', 'installed', 'describeFirst cannot run here: this process has no describers');
      return inputDescriber.promptFor(request, input, {
        ...(signal === undefined ? {} : { signal }),
        onProgress: (p) => onProgress?.({ phase: 'describe', type: p.type, message: `describing the input image (${DESCRIBE_TYPE_LABELS[p.type]})`, done: p.step, total: p.total }),
      });
    }

    function runSteps(input: RgbImage) {
      return runInputImageSteps(
        {
          request,
          pixels: input,
          model,
          listing,
          store,
          verify: (name, kind) => verify(name, opts, kind),
          upscale: (upscaler, img) => service.upscale(upscaler, img, opts),
          inputDir: options.inputDir,
          ...(options.maskSource === undefined ? {} : { maskSource: options.maskSource }),
          ...(opts.mask === undefined ? {} : { mask: opts.mask }),
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        },
        { image: cropToGrid(input), denoise: request.input!.denoise },
      );
    }
  };
}
/** The request field that names a model of each kind, for the error when it left the trust manifest. */
const VERIFIED_FIELD = { checkpoints: 'model', vae: 'vae', upscalers: 'varyUpscale.upscaler', detection: 'enhance.tabs', sam: 'enhance.tabs' } as const;

export type ImageGenerator = ReturnType<typeof createImageGenerator>;
