import { MAX_SEED, MAX_STEPS } from '../request-limits.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

/** A LoRA applied to the base model, as Fooocus records it (name without folder or extension). */
export interface LoraReference {
  name: string;
  weight: number;
  /** First 10 hex digits of the file's SHA-256, when known. */
  hash?: string;
}

/** Outpaint sides as Fooocus labels them. */
export const OUTPAINT_SIDES = ['Left', 'Right', 'Top', 'Bottom'] as const;
export type OutpaintSide = (typeof OUTPAINT_SIDES)[number];

export interface InputImageParameters {
  /** Fooocus's label of the mode: `Vary (Subtle)`, `Vary (Strong)`, `Upscale (1.5x)`, `Upscale (2x)`, `Upscale (Fast 2x)`, or `Upscale (Custom)`. */
  uovMethod?: string;
  /** `Upscale (Custom)`: the factor. */
  upscaleFactor?: number;
  /** The upscaler model's name (without folder or extension). */
  upscaler?: string;
  /** Fooocus's label of the inpaint method (`Inpaint or Outpaint (default)`, `Improve Detail (...)`, `Modify Content (...)`). */
  inpaintMethod?: string;
  /** Fooocus's engine version (`v2.6`, `None` without the patch) or this project's engine id (`latent-blend`, `inpaint-checkpoint`). */
  inpaintEngine?: string;
  inpaintStrength?: number;
  inpaintRespectiveField?: number;
  /** Positive erodes, negative dilates, in pixels. */
  inpaintErodeOrDilate?: number;
  invertMask?: boolean;
  inpaintAdditionalPrompt?: string;
  /** Extended sides in order, each with its padding as written (`30%`, `128px`). */
  outpaint?: { side: OutpaintSide; size: string }[];
  /** The image prompts, in order (see image-prompt-metadata.ts); their images are named and hashed, never stored. */
  imagePrompts?: ImagePromptRecord[];
  /** Fooocus's "Mixing Image Prompt and Vary/Upscale" and "Mixing Image Prompt and Inpaint" switches. */
  mixImagePromptAndVary?: boolean;
  mixImagePromptAndInpaint?: boolean;
  /** The Enhance tabs run over the image, and what each did (enhance-metadata.ts). */
  enhance?: EnhanceRecord;
}

/** One image prompt as the metadata records it. */
export interface ImagePromptRecord {
  /** `ImagePrompt`, `PyraCanny`, `CPDS` or `FaceSwap`. */
  type: string;
  stopAt: number;
  weight: number;
  /** The image's file name (no folder) and the SHA-256 of its bytes, so the same image can be found again. */
  image?: string;
  imageSha256?: string;
}

/** One Enhance tab as an image's metadata records it (enhance-metadata.ts). */
export interface EnhanceTabRecord {
  detectionPrompt: string;
  prompt?: string;
  negative?: string;
  maskModel?: string;
  mode?: string;
  engine?: string;
  strength?: number;
  respectiveField?: number;
  maskErode?: number;
  invertMask?: boolean;
  boxThreshold?: number;
  textThreshold?: number;
  maxDetections?: number;
  /** Regions the detector found. */
  regions?: number;
  /** True when nothing was found and the tab repainted nothing. */
  skipped?: boolean;
}

export interface EnhanceRecord {
  tabs: EnhanceTabRecord[];
  varyUpscale?: { mode: string; factor?: number; upscaler?: string };
  varyUpscaleOrder?: string;
}

/** Everything needed to reproduce an image, typed; what the metadata schemes write and read back. */
export interface GenerationParameters {
  /** The prompt as the user typed it. */
  prompt: string;
  negativePrompt: string;
  /** Prompts after styles and expansion, one entry per part (Fooocus `full_prompt`). */
  fullPrompt?: string[];
  fullNegativePrompt?: string[];
  /** The words the Fooocus V2 prompt expansion appended. */
  promptExpansion?: string;
  styles: string[];
  /** Fooocus performance name: Quality, Speed, Extreme Speed, Lightning, Hyper-SD. */
  performance?: string;
  steps: number;
  /** Sampler id (`dpmpp_2m_sde`); a name no mapping knows is kept as written. */
  sampler: string;
  /** Scheduler id (`karras`). */
  scheduler: string;
  cfg: number;
  sharpness: number;
  /** Fooocus "CFG Mimicking from TSNR". */
  adaptiveCfg: number;
  /** Fooocus ADM guidance: positive scale, negative scale, end (fraction of steps). */
  admScalers?: [number, number, number];
  /** Decimal seed, 0..2^63-1; a string because it does not fit a double. */
  seed: string;
  width: number;
  height: number;
  /** Base checkpoint name without folder or extension. */
  modelName: string;
  /** First 10 hex digits of the checkpoint's SHA-256 (A1111 "Model hash"); empty when unknown. */
  modelHash: string;
  refinerName?: string;
  refinerHash?: string;
  /** Fraction of steps after which the refiner takes over. */
  refinerSwitch?: number;
  /** How the refiner took over: joint, separate or vae (Fooocus's refiner_swap_method). */
  refinerSwitchMethod?: string;
  /** VAE name; absent means the checkpoint's own. */
  vae?: string;
  loras?: LoraReference[];
  clipSkip: number;
  /** img2img strength in (0, 1]. */
  denoise?: number;
  /** The Input Image mode (upscale or variation, inpaint or outpaint) and its parameters; see input-image-metadata.ts. */
  inputImage?: InputImageParameters;
  /** Program and version that made the image, e.g. `Fooocus v2.5.5`. */
  version: string;
  /** Keys neither scheme mapping knows, kept as text so nothing read is lost. */
  extra?: Record<string, string>;
}

/** Metadata that does not describe a valid request. The message names the field as written and the problem. */
export class InvalidMetadataError extends FooocusError {
  constructor(field: string, problem: string) {
    super('invalid', `${field}: ${problem}`, { field });
  }
}

/** Defaults Fooocus applies when a key is absent (its writer omits them at these values). */
export const DEFAULT_SHARPNESS = 2;
export const DEFAULT_ADAPTIVE_CFG = 7;
export const DEFAULT_CLIP_SKIP = 1;
const MAX_SIDE = 16384;
const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

export function readSeed(field: string, value: unknown): string {
  const text = typeof value === 'string' ? value.trim() : typeof value === 'bigint' ? String(value) : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value);
  if (text !== undefined && /^\d{1,19}$/.test(text) && BigInt(text) <= MAX_SEED) return BigInt(text).toString();
  throw new InvalidMetadataError(field, `${describe(value)} is not an integer in 0..2^63-1`);
}

export function readNumber(field: string, value: unknown, min: number, max: number): number {
  // The strict JSON parser hands integers over as bigints.
  const number =
    typeof value === 'number' || typeof value === 'bigint' ? Number(value) : typeof value === 'string' && DECIMAL.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isFinite(number) || number < min || number > max) {
    throw new InvalidMetadataError(field, `${describe(value)} is not a number in ${min}..${max}`);
  }
  return number;
}

export function readInteger(field: string, value: unknown, min: number, max: number): number {
  const number = typeof value === 'bigint' && value <= BigInt(max) && value >= BigInt(min) ? Number(value) : value;
  const parsed = typeof number === 'string' && /^\s*[+-]?\d+\s*$/.test(number) ? Number(number) : number;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new InvalidMetadataError(field, `${describe(value)} is not an integer in ${min}..${max}`);
  }
  return parsed;
}

export function readSteps(field: string, value: unknown): number {
  return readInteger(field, value, 1, MAX_STEPS);
}

export function readSide(field: string, value: unknown): number {
  return readInteger(field, value, 1, MAX_SIDE);
}

export function readString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new InvalidMetadataError(field, `${describe(value)} is not a string`);
  return value;
}

export function readModelHash(field: string, value: unknown): string {
  const text = readString(field, value).trim();
  // 10 hex digits (A1111 v2 / Fooocus); older A1111 files carry the 8-digit v1 hash.
  if (text !== '' && !/^[0-9a-fA-F]{8,64}$/.test(text)) throw new InvalidMetadataError(field, `${describe(value)} is not a hex hash`);
  return text.toLowerCase();
}

/** A short, quoted rendering of a bad value for error messages (never the whole 64 KiB). */
export function describe(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'bigint' ? `${value}` : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Array.isArray(value) ? '[list]' : String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
