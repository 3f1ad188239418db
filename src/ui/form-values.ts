/**
 * Everything the form holds, as one typed object: what the views read to build a generate request, and what a
 * dropped PNG or a history entry's "Reuse" fills back in (a FormPatch: only the fields it knows).
 */
import { type GenerateRequest, type LoraChoice, type OutputFormat, type PresetInfo } from './api-types.ts';
import { buildImagePromptFields, DEFAULT_IMAGE_PROMPTS, patchImagePromptsFromRequest, type ImagePromptValues } from './image-prompt-values.ts';
import { buildInputImageFields, DEFAULT_INPUT_IMAGE, patchInputImageFromRequest, type InputImageValues } from './input-image-values.ts';

export interface FormValues {
  prompt: string;
  negative: string;
  styles: string[];
  /** One of the modes the server's request schema lists. */
  performance: string;
  /** `width*height`. */
  aspectRatio: string;
  /** Both set: this size instead of the aspect ratio (Fooocus's forced width and height); null: the ratio's. */
  width: number | null;
  height: number | null;
  /** null: the performance mode's step count. */
  steps: number | null;
  imageCount: number;
  /** Empty while `randomSeed` is ticked and no seed has been used yet. */
  seed: string;
  randomSeed: boolean;
  /** Image i of a run uses seed + i (Fooocus's default); false gives every image the same seed. */
  seedIncrement: boolean;
  /** Checkpoint name; '' lets the server choose. */
  model: string;
  /** '' for none. */
  refiner: string;
  refinerSwitch: number;
  /** How the refiner takes over: joint (the server's default), separate or vae. */
  refinerSwitchMethod: string;
  loras: LoraChoice[];
  cfg: number;
  sharpness: number;
  sampler: string;
  scheduler: string;
  /** Fooocus's "CFG Mimicking from TSNR". */
  adaptiveCfg: number;
  /** ADM guidance (SDXL): positive and negative scale, and the fraction of steps it lasts. */
  admPositive: number;
  admNegative: number;
  admEnd: number;
  clipSkip: number;
  /** A VAE file in the server's model store; '' is the checkpoint's own (Fooocus's "Default (model)"). */
  vae: string;
  /** An uploaded image to start from (image to image), or null. */
  inputImageId: string | null;
  /** How much of the input image is redrawn, in (0, 1]. */
  denoise: number;
  /** What the input image is for (image to image, Upscale or Variation, Inpaint or Outpaint) and each mode's choices. */
  inputImage: InputImageValues;
  /** The Image Prompt panel: up to four images guiding the generation, with their types and switches. */
  imagePrompts: ImagePromptValues;
  format: OutputFormat;
  /** How the image records its parameters: `fooocus` (JSON) or `a1111` (text). */
  metadataScheme: string;
  /**
   * The preset the form was filled from, sent so the server refuses it while its models are missing ('' once the
   * form is filled from elsewhere or a model is chosen by hand).
   */
  preset: string;
}

export type FormPatch = Partial<FormValues>;

/** Fooocus's defaults, so an untouched form asks for what Fooocus would make. */
export const DEFAULT_FORM: FormValues = {
  prompt: '',
  negative: '',
  styles: ['FooocusTS Expansion', 'Photo Natural Light'],
  performance: 'Speed',
  aspectRatio: '1152*896',
  width: null,
  height: null,
  steps: null,
  imageCount: 1,
  seed: '',
  randomSeed: true,
  seedIncrement: true,
  model: '',
  refiner: '',
  refinerSwitch: 0.8,
  refinerSwitchMethod: 'joint',
  loras: [],
  cfg: 4,
  sharpness: 2,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  adaptiveCfg: 7,
  admPositive: 1.5,
  admNegative: 0.8,
  admEnd: 0.3,
  clipSkip: 2,
  vae: '',
  inputImageId: null,
  denoise: 0.5,
  inputImage: DEFAULT_INPUT_IMAGE,
  imagePrompts: DEFAULT_IMAGE_PROMPTS,
  format: 'png',
  metadataScheme: 'fooocus',
  preset: '',
};

export const MAX_SEED = 2n ** 63n - 1n;

/** A decimal seed within 0..2^63-1, or null. */
export function normalizeSeed(text: string): string | null {
  const trimmed = text.trim();
  if (!/^\d{1,19}$/.test(trimmed)) return null;
  const value = BigInt(trimmed);
  return value <= MAX_SEED ? value.toString() : null;
}

/**
 * The generate body for the form. SDXL sizes go as `aspectRatio` (one of the 26); other families send their size
 * (one of the server's list for that family) as width and height, which the server takes for any model. A forced
 * width and height win over both. A random seed is left to the server, and so is the size of an image-to-image
 * request (the server makes images of the input's size). With `accepted` (the request schema's fields), fields
 * the server does not take are left out.
 */
export function buildGenerateRequest(values: FormValues, family: string, accepted?: ReadonlySet<string>): GenerateRequest {
  const request: GenerateRequest = {
    prompt: values.prompt,
    negative: values.negative,
    styles: [...values.styles],
    performance: values.performance,
    imageCount: values.imageCount,
    cfg: values.cfg,
    sharpness: values.sharpness,
    sampler: values.sampler,
    scheduler: values.scheduler,
    format: values.format,
    adaptiveCfg: values.adaptiveCfg,
    admScalers: { positive: values.admPositive, negative: values.admNegative, end: values.admEnd },
    clipSkip: values.clipSkip,
    seedIncrement: values.seedIncrement,
    metadataScheme: values.metadataScheme,
    loras: values.loras.filter((l) => l.name !== '').map((l) => ({ ...l })),
  };
  const size = /^(\d+)\*(\d+)$/.exec(values.aspectRatio);
  const forced = values.width !== null && values.height !== null ? { width: values.width, height: values.height } : null;
  if (forced !== null) Object.assign(request, forced);
  else if (values.inputImageId === null && (family === 'sdxl' || family === '' || size === null)) request.aspectRatio = values.aspectRatio;
  else if (values.inputImageId === null && size !== null) Object.assign(request, { width: Number(size[1]), height: Number(size[2]) });
  if (values.steps !== null) request.steps = values.steps;
  if (values.inputImageId !== null) {
    request.inputImageId = values.inputImageId;
    // Vary, upscale and inpaint set their own strength (Fooocus's numbers, or the inpaint strength).
    if (values.inputImage.tab === 'image') request.denoise = values.denoise;
    else Object.assign(request, buildInputImageFields(values.inputImage));
    if (values.inputImage.describeFirst !== null) request.describeFirst = values.inputImage.describeFirst;
  }
  Object.assign(request, buildImagePromptFields(values.imagePrompts));
  if (!values.randomSeed) {
    const seed = normalizeSeed(values.seed);
    if (seed !== null) request.seed = seed;
  }
  if (values.model !== '') request.model = values.model;
  if (values.preset !== '') request.preset = values.preset;
  if (values.vae !== '') request.vae = values.vae;
  if (values.refiner !== '') {
    request.refiner = values.refiner;
    request.refinerSwitch = values.refinerSwitch;
    request.refinerSwitchMethod = values.refinerSwitchMethod;
  }
  if (accepted !== undefined) for (const key of Object.keys(request)) if (!accepted.has(key)) delete request[key as keyof GenerateRequest];
  return request;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The form fields a job's request (from history) sets; "Reuse" keeps the job's seed, so it is not random. */
export function patchFromRequest(request: Record<string, unknown>, usedSeed: string | null = null): FormPatch {
  const patch: FormPatch = {};
  const assign = <K extends keyof FormValues>(key: K, value: FormValues[K] | undefined): void => {
    if (value !== undefined) patch[key] = value;
  };
  assign('prompt', text(request.prompt));
  assign('negative', text(request.negative));
  if (Array.isArray(request.styles)) patch.styles = request.styles.filter((s): s is string => typeof s === 'string');
  assign('performance', text(request.performance));
  const width = finite(request.width);
  const height = finite(request.height);
  assign('aspectRatio', text(request.aspectRatio) ?? (width !== undefined && height !== undefined ? `${width}*${height}` : undefined));
  assign('steps', finite(request.steps));
  assign('imageCount', finite(request.imageCount));
  const seed = normalizeSeed(usedSeed ?? text(request.seed) ?? '');
  if (seed !== null) {
    patch.seed = seed;
    patch.randomSeed = false;
  }
  assign('model', text(request.model));
  assign('refiner', text(request.refiner));
  assign('refinerSwitch', finite(request.refinerSwitch));
  assign('refinerSwitchMethod', text(request.refinerSwitchMethod));
  assign('vae', text(request.vae) ?? '');
  if (Array.isArray(request.loras)) {
    patch.loras = request.loras.flatMap((l) =>
      isRecord(l) && typeof l.name === 'string' && finite(l.weight) !== undefined ? [{ name: l.name, weight: l.weight as number }] : [],
    );
  }
  assign('cfg', finite(request.cfg));
  assign('sharpness', finite(request.sharpness));
  assign('sampler', text(request.sampler));
  assign('scheduler', text(request.scheduler));
  assign('format', text(request.format));
  assign('adaptiveCfg', finite(request.adaptiveCfg));
  assign('clipSkip', finite(request.clipSkip));
  if (typeof request.seedIncrement === 'boolean') patch.seedIncrement = request.seedIncrement;
  assign('metadataScheme', text(request.metadataScheme));
  assign('preset', text(request.preset));
  assign('inputImage', patchInputImageFromRequest(request));
  assign('imagePrompts', patchImagePromptsFromRequest(request));
  if (isRecord(request.admScalers)) {
    assign('admPositive', finite(request.admScalers.positive));
    assign('admNegative', finite(request.admScalers.negative));
    assign('admEnd', finite(request.admScalers.end));
  }
  return patch;
}

/**
 * The form fields a preset sets: everything but the prompt, negative prompt, seed and output format. A mode the
 * server's schema does not list (`modes`) is left out, so the form keeps its own.
 */
export function patchFromPreset(preset: PresetInfo, modes: readonly string[]): FormPatch {
  return {
    preset: preset.name,
    model: preset.model,
    refiner: preset.refiner,
    refinerSwitch: preset.refinerSwitch,
    loras: preset.loras.map((l) => ({ ...l })),
    cfg: preset.cfg,
    sharpness: preset.sharpness,
    sampler: preset.sampler,
    scheduler: preset.scheduler,
    styles: [...preset.styles],
    aspectRatio: preset.aspectRatio,
    imageCount: preset.imageCount,
    ...(preset.performance === null || !modes.includes(preset.performance) ? {} : { performance: preset.performance }),
  };
}
