/**
 * The application's generation request: what the job queue stores (as JSON), what the inference process receives
 * unchanged, and what `fooocus generate` builds from its options. It holds the user's choices with the defaults
 * resolved once, at submit (size, seed, performance, format, model); the creative layer turns it into one engine
 * request per image (compose-image.ts).
 *
 * Adding a field: the HTTP schema (server/schemas/generate-request-schema.ts), this type, the engine's
 * GenerationRequest, and the use case that maps one to the other; see ARCHITECTURE.md.
 *
 * Its field names are those the history database has always stored, so history written by earlier versions
 * still loads and can be reused.
 *
 * Image prompts (Fooocus's Image Prompt tab): `imagePrompts` holds 0..4 `ImagePromptChoice`s, each an image
 * (`file`, placed as `input.file` is: relative to the outputs directory for uploads, a path the CLI user gave), a
 * type (`ImagePrompt`, `FaceSwap`, `PyraCanny`, `CPDS`), `stopAt` in 0..1 (active while step < stopAt * steps) and
 * `weight` in 0..2. `resolveImagePrompts` checks a draft's list and fills each type's defaults
 * (IMAGE_PROMPT_DEFAULTS, Fooocus's), refusing with the field named (`imagePrompts[1].weight`). With `varyUpscale`
 * or `inpaint` the list needs the matching switch, `mixImagePromptAndVary` or `mixImagePromptAndInpaint` (Fooocus's
 * "Mixing Image Prompt and Vary/Upscale" / "and Inpaint"). The engine receives each prompt as an
 * `ImagePromptEmbedding` (IP-Adapter keys and values) or a `ControlHint` (a preprocessed control map), both in
 * src/engine/pipeline/image-guidance.ts.
 */
import type { DescribeType } from '../describe/describer-registry.ts';
import { FooocusError, IMAGE_PROMPT_LIMITS, IMAGE_PROMPT_TYPES, type ImageFormat, type ImagePromptType, type RefinerSwitchMethod } from '../../engine/index.ts';
import type { MetadataSchemeName } from '../outputs/output-writer.ts';

export interface ImageRequest {
  prompt: string;
  negative: string;
  /** Style names as the library spells them, the expansion and Random Style switches included. */
  styles: string[];
  performance: string;
  width: number;
  height: number;
  imageCount: number;
  /** Decimal string, 0..2^63-1; image i uses seed + i (unless `seedIncrement` is false). */
  seed: string;
  /** A preset (data/presets) whose settings lie under the explicit choices below. */
  preset?: string;
  /** Checkpoint file name in the model store (a catalog id is mapped to its file at submit). */
  model?: string;
  /** Refiner checkpoint; null drops the preset's refiner. */
  refiner?: string | null;
  refinerSwitch?: number;
  /** How the refiner takes over (the engine's default, joint, when absent). */
  refinerSwitchMethod?: RefinerSwitchMethod;
  /** VAE file name in the model store (`vae` kind) that decodes instead of the checkpoint's own; absent: the checkpoint's. */
  vae?: string;
  /** LoRAs chosen explicitly (prompt tokens, the preset and the performance mode add theirs per image). */
  loras?: { name: string; weight: number }[];
  /** Overrides the performance mode's step count (Fooocus's "overwrite step"). */
  steps?: number;
  cfg?: number;
  sharpness?: number;
  adaptiveCfg?: number;
  sampler?: string;
  scheduler?: string;
  clipSkip?: number;
  /** Fooocus ADM guidance (SDXL): positive and negative scale, and the fraction of the steps it lasts. */
  admScalers?: { positive: number; negative: number; end: number };
  /** false: every image of the batch uses `seed` (Fooocus's "disable seed increment"); otherwise image i uses seed + i. */
  seedIncrement?: boolean;
  format: ImageFormat;
  /** Metadata scheme written into the image (default fooocus). */
  metadataScheme?: MetadataSchemeName;
  /**
   * Image-to-image: the input image and the denoise strength. `file` is relative to the outputs directory for
   * uploads (the server), or a path the CLI user gave.
   */
  input?: { file: string; denoise: number };
  /** Fooocus's "Upscale or Variation" on `input` (which it needs); types below. */
  varyUpscale?: VaryUpscaleChoice;
  /** Fooocus's "Inpaint or Outpaint" on `input` (which it needs). */
  inpaint?: InpaintChoice;
  /** Fooocus's Image Prompt tab: up to four images guiding the generation; see the file header. */
  imagePrompts?: ImagePromptChoice[];
  /** Image prompts together with `varyUpscale` (Fooocus's "Mixing Image Prompt and Vary/Upscale"). */
  mixImagePromptAndVary?: boolean;
  /** Image prompts together with `inpaint` (Fooocus's "Mixing Image Prompt and Inpaint"). */
  mixImagePromptAndInpaint?: boolean;
  /** Fooocus's Enhance: regions found and repainted after the image is made (or on `input` alone); see EnhanceChoice. */
  enhance?: EnhanceChoice;
  /** "Describe then generate": with a blank prompt, `input` is described by this describer and that is the prompt. */
  describeFirst?: DescribeType;
}

export { IMAGE_PROMPT_TYPES, type ImagePromptType };

export interface ImagePromptChoice {
  /** The image: relative to the outputs directory for uploads, or a path the CLI user gave (as `input.file`). */
  file: string;
  type: ImagePromptType;
  /** Active while step < stopAt * steps; 0..1. */
  stopAt: number;
  /** 0..2; 0 leaves the generation as without this image. */
  weight: number;
}

/** An image prompt as a client gives it: the type defaults to ImagePrompt, stop and weight to the type's. */
export type ImagePromptDraft = Pick<ImagePromptChoice, 'file'> & Partial<Omit<ImagePromptChoice, 'file'>>;

/** Fooocus's defaults per type. */
export const IMAGE_PROMPT_DEFAULTS: Readonly<Record<ImagePromptType, { stopAt: number; weight: number }>> = {
  ImagePrompt: { stopAt: 0.5, weight: 0.6 },
  FaceSwap: { stopAt: 0.9, weight: 0.75 },
  PyraCanny: { stopAt: 0.5, weight: 1.0 },
  CPDS: { stopAt: 0.5, weight: 1.0 },
};

/**
 * Checks a draft's image prompts and fills each type's defaults. `undefined` or an empty list gives `undefined`
 * (no image prompts). `request` holds the other Input Image choices, which need their mixing switch.
 */
export function resolveImagePrompts(
  drafts: readonly ImagePromptDraft[] | undefined,
  request: Pick<ImageRequest, 'varyUpscale' | 'inpaint' | 'mixImagePromptAndVary' | 'mixImagePromptAndInpaint'> = {},
): ImagePromptChoice[] | undefined {
  if (drafts === undefined) return undefined;
  if (!Array.isArray(drafts)) throw new ImageRequestError('imagePrompts', 'format', 'imagePrompts must be a list');
  const { max } = IMAGE_PROMPT_LIMITS.count;
  if (drafts.length > max) throw new ImageRequestError('imagePrompts', 'range', `imagePrompts has ${drafts.length} images; at most ${max} are allowed`);
  if (drafts.length === 0) return undefined;
  if (request.varyUpscale !== undefined && request.mixImagePromptAndVary !== true) {
    throw new ImageRequestError('imagePrompts', 'conflict', 'imagePrompts with varyUpscale need mixImagePromptAndVary (Mixing Image Prompt and Vary/Upscale)');
  }
  if (request.inpaint !== undefined && request.mixImagePromptAndInpaint !== true) {
    throw new ImageRequestError('imagePrompts', 'conflict', 'imagePrompts with inpaint need mixImagePromptAndInpaint (Mixing Image Prompt and Inpaint)');
  }
  return drafts.map((draft, i) => resolveImagePrompt(draft, `imagePrompts[${i}]`));
}

function resolveImagePrompt(draft: ImagePromptDraft, at: string): ImagePromptChoice {
  if (typeof draft !== 'object' || draft === null) throw new ImageRequestError(at, 'format', `${at} must be an object with a file`);
  if (typeof draft.file !== 'string' || draft.file.length === 0) throw new ImageRequestError(`${at}.file`, 'required', `${at}.file is required: the image to prompt with`);
  const type = draft.type ?? 'ImagePrompt';
  if (!(IMAGE_PROMPT_TYPES as readonly string[]).includes(type)) {
    throw new ImageRequestError(`${at}.type`, 'known', `${at}.type "${String(type)}" is not an image prompt type; types: ${IMAGE_PROMPT_TYPES.join(', ')}`);
  }
  const defaults = IMAGE_PROMPT_DEFAULTS[type];
  const stopAt = checkImagePromptNumber(`${at}.stopAt`, draft.stopAt ?? defaults.stopAt, IMAGE_PROMPT_LIMITS.stopAt);
  const weight = checkImagePromptNumber(`${at}.weight`, draft.weight ?? defaults.weight, IMAGE_PROMPT_LIMITS.weight);
  return { file: draft.file, type, stopAt, weight };
}

function checkImagePromptNumber(field: string, value: unknown, limits: { min: number; max: number }): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < limits.min || value > limits.max) {
    throw new ImageRequestError(field, 'range', `${field} must be a number in ${limits.min}..${limits.max}, got ${String(value)}`);
  }
  return value;
}

/** Vary: image-to-image at a fixed strength. Upscale: an upscaler model, a resample, then (not for `fast-2x`) image-to-image. */
export const VARY_UPSCALE_MODES = ['vary-subtle', 'vary-strong', 'upscale-1.5x', 'upscale-2x', 'upscale-fast-2x', 'upscale-custom'] as const;
export type VaryUpscaleMode = (typeof VARY_UPSCALE_MODES)[number];

export interface VaryUpscaleChoice {
  mode: VaryUpscaleMode;
  /** `upscale-custom` only: the scale factor. */
  factor?: number;
  /** Upscaler file name in the store's `upscalers` folder; absent: the default (Fooocus's upscaler, else the only one installed). */
  upscaler?: string;
}

/** Fooocus's inpaint modes: Default (inpaint patch, strength 1.0, field 0.618), Detail (no patch, 0.5, 0.0), Modify (1.0, 0.0, no initial latent). */
export const INPAINT_MODES = ['default', 'detail', 'modify'] as const;
export type InpaintMode = (typeof INPAINT_MODES)[number];

/**
 * How the masked area is generated: Fooocus's inpaint head and patch (SDXL), the checkpoint's own 9-channel inpaint
 * UNet, or any checkpoint with the known latent blended in at every step. Absent: chosen from what is installed.
 */
export const INPAINT_ENGINES = ['fooocus-v2.6', 'inpaint-checkpoint', 'latent-blend'] as const;
export type InpaintEngine = (typeof INPAINT_ENGINES)[number];

/** Padding of one side for outpaint: pixels, or percent of the image's size along that side's axis. */
export type OutpaintAmount = { px: number } | { percent: number };

export interface InpaintChoice {
  mode: InpaintMode;
  /** The mask image (same place rules as `input.file`), same size as the input; white = repaint. Absent: outpaint only. */
  mask?: string;
  engine?: InpaintEngine;
  /** Denoise strength of the masked area; default per mode. */
  strength?: number;
  /** Fooocus's "respective field" k in 0..1: the crop covers at least k of the image's height and width; default per mode. */
  respectiveField?: number;
  /** Mask erode (positive) or dilate (negative), in pixels. */
  maskErode?: number;
  invertMask?: boolean;
  /** Fooocus's "inpaint additional prompt", added to the prompt for this image. */
  additionalPrompt?: string;
  /** Sides to extend (Fooocus pads 30 % of the side; strength and field become 1.0). */
  outpaint?: { left?: OutpaintAmount; right?: OutpaintAmount; top?: OutpaintAmount; bottom?: OutpaintAmount };
}

/**
 * Fooocus's Enhance: each tab finds a region by its detection prompt, and repaints it through the inpaint with
 * its own prompt and settings; the next tab works on the result. An optional Upscale or Vary runs before the first
 * tab or after the last.
 */
export interface EnhanceChoice {
  tabs: EnhanceTab[];
  varyUpscale?: VaryUpscaleChoice;
  /** When `varyUpscale` runs (Fooocus's "Order of Processing"); default before. */
  varyUpscaleOrder?: 'before' | 'after';
}

export interface EnhanceTab {
  /** What to find: "face", "hand"... (GroundingDINO and SAM), or "person", "foreground", "background" (a foreground-mask model). */
  detectionPrompt: string;
  /** The tab's prompt and negative prompt; empty or absent: the request's own. */
  prompt?: string;
  negative?: string;
  /** The foreground-mask model (store file in `detection`); absent: the one installed. */
  maskModel?: string;
  /** Inpaint mode; default `default` (Fooocus's Enhance uses the v2.6 engine, strength 1.0, field 0.618). */
  mode?: InpaintMode;
  engine?: InpaintEngine;
  strength?: number;
  respectiveField?: number;
  /** Erode (positive) or dilate (negative) the found mask, in pixels, as `inpaint.maskErode`. */
  maskErode?: number;
  invertMask?: boolean;
  /** The box detector's thresholds (default 0.3 and 0.25) and the most regions kept (0: all). */
  boxThreshold?: number;
  textThreshold?: number;
  maxDetections?: number;
}

/**
 * A request the installed models, styles or rules do not allow. `field` names the request field at fault
 * (`model`, `loras[0].name`, `performance`), `rule` what it broke (`installed`, `known`, `range`, `required`).
 */
export class ImageRequestError extends FooocusError {
  declare readonly field: string;
  declare readonly rule: string;

  constructor(field: string, rule: string, message: string) {
    super('invalid', message, { field, rule });
  }
}
