/**
 * A typed generation request and the rules it must satisfy. Every violation names its field and the allowed
 * range, so the CLI and the HTTP API can pass the message straight to the user.
 */
import { getSampler } from '../sampling/samplers/sampler-registry.ts';
import { isSchedulerName, MAX_STEPS, SCHEDULER_NAMES } from '../sampling/sigmas.ts';
import type { RgbImage } from './vae-codec.ts';
import type { AdmScalers } from './stage-conditioning.ts';
import { FooocusError } from '../errors/fooocus-error.ts';
import { MAX_SEED, REFINER_SWITCH_METHODS, SETTING_LIMITS as L, type RefinerSwitchMethod } from '../request-limits.ts';
import type { InpaintSettings } from '../inpaint/inpaint-settings.ts';
import { findInpaintProblem } from '../inpaint/inpaint-rules.ts';
import { IMAGE_PROMPT_LIMITS } from '../request-limits.ts';
import type { ControlHint, ImagePromptEmbedding } from './image-guidance.ts';

export interface GenerationRequest {
  /** Prompt parts, each encoded separately and concatenated (Fooocus: the prompt's lines, then style parts). */
  prompt: string[];
  negativePrompt: string[];
  width: number;
  height: number;
  steps: number;
  cfg: number;
  sharpness: number;
  adaptiveCfg: number;
  sampler: string;
  scheduler: string;
  /** Seed of the first image; image i uses (seed + i) mod 2^63, as Fooocus does. */
  seed: bigint;
  imageCount: number;
  clipSkip: number;
  admScalers: AdmScalers;
  /** Fraction of the steps after which the refiner takes over (ignored without a refiner). */
  refinerSwitch: number;
  /** How the refiner takes over (refiner-switch.ts); default joint. */
  refinerSwitchMethod?: RefinerSwitchMethod;
  /**
   * Image-to-image: the input (same size as the request) and how much of it to re-noise, in (0, 1]. `tiled`: encode
   * and decode through the VAE in tiles whatever the size (Fooocus's upscale does, for large images).
   */
  input?: { image: RgbImage; denoise: number; tiled?: boolean };
  /**
   * Inpaint / outpaint `input.image` (any size; `denoise` is the strength). `width` and `height` are then the
   * result's size, the input's plus the outpaint padding, and need not be multiples of 8.
   */
  inpaint?: InpaintSettings;
  /** Image prompts through an IP-Adapter, already encoded (image-prompt-encoder.ts); at most four. */
  imagePrompts?: ImagePromptEmbedding[];
  /**
   * PyraCanny and CPDS image prompts: preprocessed maps (control/control-map.ts) of the result's size, each for
   * its type's control-LoRA ControlNet. With `imagePrompts`, four in all at most.
   */
  controls?: ControlHint[];
}

export class InvalidGenerationRequestError extends FooocusError {
  declare readonly field: string;

  constructor(field: string, detail: string) {
    super('invalid', `${field}: ${detail}`, { field });
  }
}

export { MAX_SEED };
export const IMAGE_SIZE_LIMITS = { min: 64, max: 4096, multiple: 8 } as const;
export const MAX_IMAGES_PER_REQUEST = 32;
/** Longest prompt (all its parts together) the engine takes; the server's quota may only be lower. */
export const MAX_PROMPT_CHARS = 20_000;

function checkNumber(field: string, value: number, min: number, max: number, integer = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new InvalidGenerationRequestError(field, `must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${String(value)}`);
  }
}

function checkPrompt(field: string, parts: readonly string[]): void {
  if (!Array.isArray(parts) || parts.some((p) => typeof p !== 'string')) throw new InvalidGenerationRequestError(field, 'must be a list of strings');
  const chars = parts.reduce((n, p) => n + p.length, 0);
  if (chars > MAX_PROMPT_CHARS) throw new InvalidGenerationRequestError(field, `is ${chars} characters long; the limit is ${MAX_PROMPT_CHARS}`);
}

export function validateGenerationRequest(r: GenerationRequest): void {
  checkPrompt('prompt', r.prompt);
  checkPrompt('negativePrompt', r.negativePrompt);
  // Inpaint first: its size rule names the outpaint padding rather than the size it leads to.
  if (r.inpaint !== undefined) {
    if (r.input === undefined) throw new InvalidGenerationRequestError('inpaint', 'needs an input image');
    checkNumber('denoise', r.input.denoise, 0.01, 1);
    const { width, height, rgb } = r.input.image;
    if (rgb.length !== width * height * 3) throw new InvalidGenerationRequestError('input', `image has ${rgb.length} bytes, expected ${width * height * 3} for ${width}x${height} RGB`);
    const problem = findInpaintProblem(r.inpaint, r.input.image, { width: r.width, height: r.height }, IMAGE_SIZE_LIMITS.max);
    if (problem !== null) throw new InvalidGenerationRequestError(problem.field, problem.detail);
  }
  for (const field of ['width', 'height'] as const) {
    checkNumber(field, r[field], IMAGE_SIZE_LIMITS.min, IMAGE_SIZE_LIMITS.max, true);
    if (r.inpaint === undefined && r[field] % IMAGE_SIZE_LIMITS.multiple !== 0) throw new InvalidGenerationRequestError(field, `must be a multiple of ${IMAGE_SIZE_LIMITS.multiple}, got ${r[field]}`);
  }
  checkNumber('steps', r.steps, 1, MAX_STEPS, true);
  checkNumber('cfg', r.cfg, L.cfg.min, L.cfg.max);
  checkNumber('sharpness', r.sharpness, L.sharpness.min, L.sharpness.max);
  checkNumber('adaptiveCfg', r.adaptiveCfg, L.adaptiveCfg.min, L.adaptiveCfg.max);
  checkNumber('imageCount', r.imageCount, 1, MAX_IMAGES_PER_REQUEST, true);
  checkNumber('clipSkip', r.clipSkip, L.clipSkip.min, L.clipSkip.max, true);
  checkNumber('refinerSwitch', r.refinerSwitch, L.refinerSwitch.min, L.refinerSwitch.max);
  if (r.refinerSwitchMethod !== undefined && !(REFINER_SWITCH_METHODS as readonly string[]).includes(r.refinerSwitchMethod)) {
    throw new InvalidGenerationRequestError('refinerSwitchMethod', `must be one of ${REFINER_SWITCH_METHODS.join(', ')}, got "${String(r.refinerSwitchMethod)}"`);
  }
  checkNumber('admScalers.positive', r.admScalers.positive, L.admPositive.min, L.admPositive.max);
  checkNumber('admScalers.negative', r.admScalers.negative, L.admNegative.min, L.admNegative.max);
  checkNumber('admScalers.end', r.admScalers.end, L.admEnd.min, L.admEnd.max);
  if (typeof r.seed !== 'bigint' || r.seed < 0n || r.seed > MAX_SEED) throw new InvalidGenerationRequestError('seed', `must be an integer in 0..${MAX_SEED}, got ${String(r.seed)}`);
  try {
    getSampler(r.sampler);
  } catch (err) {
    throw new InvalidGenerationRequestError('sampler', (err as Error).message);
  }
  if (!isSchedulerName(r.scheduler)) throw new InvalidGenerationRequestError('scheduler', `must be one of ${SCHEDULER_NAMES.join(', ')}, got "${r.scheduler}"`);
  checkImagePrompts(r.imagePrompts);
  checkControls(r);
  if (r.inpaint === undefined && r.input !== undefined) {
    checkNumber('denoise', r.input.denoise, 0.01, 1);
    const { width, height, rgb } = r.input.image;
    if (width !== r.width || height !== r.height) throw new InvalidGenerationRequestError('input', `image is ${width}x${height} but the request asks for ${r.width}x${r.height}`);
    if (rgb.length !== width * height * 3) throw new InvalidGenerationRequestError('input', `image has ${rgb.length} bytes, expected ${width * height * 3} for ${width}x${height} RGB`);
  }
}

function checkControls(r: GenerationRequest): void {
  const controls = r.controls;
  if (controls === undefined) return;
  const max = IMAGE_PROMPT_LIMITS.count.max;
  if (!Array.isArray(controls) || controls.length + (r.imagePrompts?.length ?? 0) > max) {
    throw new InvalidGenerationRequestError('controls', `must be a list; with the image prompts, at most ${max} in all`);
  }
  controls.forEach((c, i) => {
    if (c.type !== 'PyraCanny' && c.type !== 'CPDS') throw new InvalidGenerationRequestError(`controls[${i}].type`, `must be PyraCanny or CPDS, got "${String(c.type)}"`);
    checkNumber(`controls[${i}].stopAt`, c.stopAt, IMAGE_PROMPT_LIMITS.stopAt.min, IMAGE_PROMPT_LIMITS.stopAt.max);
    checkNumber(`controls[${i}].weight`, c.weight, IMAGE_PROMPT_LIMITS.weight.min, IMAGE_PROMPT_LIMITS.weight.max);
    const { width, height } = c.map;
    const values = 'planes' in c.map ? c.map.planes.length : c.map.rgb.length;
    if (width !== r.width || height !== r.height) throw new InvalidGenerationRequestError(`controls[${i}].map`, `is ${width}x${height} but the request asks for ${r.width}x${r.height}`);
    if (values !== width * height * 3) throw new InvalidGenerationRequestError(`controls[${i}].map`, `has ${values} values, expected ${width * height * 3}`);
  });
}

function checkImagePrompts(prompts: GenerationRequest['imagePrompts']): void {
  if (prompts === undefined) return;
  if (!Array.isArray(prompts) || prompts.length > IMAGE_PROMPT_LIMITS.count.max) {
    throw new InvalidGenerationRequestError('imagePrompts', `must be a list of at most ${IMAGE_PROMPT_LIMITS.count.max} image prompts`);
  }
  prompts.forEach((p, i) => {
    checkNumber(`imagePrompts[${i}].stopAt`, p.stopAt, IMAGE_PROMPT_LIMITS.stopAt.min, IMAGE_PROMPT_LIMITS.stopAt.max);
    checkNumber(`imagePrompts[${i}].weight`, p.weight, IMAGE_PROMPT_LIMITS.weight.min, IMAGE_PROMPT_LIMITS.weight.max);
    const layers = p.positive.keys.length;
    if (layers === 0 || [p.positive.values, p.negative.keys, p.negative.values].some((list) => list.length !== layers)) {
      throw new InvalidGenerationRequestError(`imagePrompts[${i}]`, 'needs keys and values for every cross-attention layer, for the image and the unconditional image');
    }
  });
}
