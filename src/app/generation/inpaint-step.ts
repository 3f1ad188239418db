/**
 * Fooocus's "Inpaint or Outpaint" choices turned into the engine's InpaintSettings. Fooocus's numbers (its
 * `inpaint_mode_change` and `apply_outpaint`):
 *
 * - Default: the inpaint engine (v2.6 patch and head), strength 1.0, respective field 0.618;
 *   Detail: no patch, strength 0.5, field 0.0; Modify: the patch, strength 1.0, field 0.0, and sampling from pure
 *   noise (no initial latent).
 * - Outpaint pads each chosen side by 30 % of the image's size along that axis (int(H * 0.3) rows above or below,
 *   int(W * 0.3) columns left or right) and forces strength and field to 1.0. Beyond Fooocus: a side's padding in
 *   pixels or percent (`OutpaintAmount`).
 * - The engine, when the request names none: a 9-channel inpaint checkpoint runs as itself; else Default and Modify
 *   use fooocus-v2.6 on SDXL when the head and patch are installed; everything else blends the known latent.
 *
 * Mask erode is positive to shrink here (Fooocus's "erode or dilate" slider grows the mask for positive values).
 */
import { getFamilyProfile, IMAGE_SIZE_LIMITS, INPUT_IMAGE_LIMITS, isMaskEmpty, prepareInpaintMask, type GreyMask, type InpaintSettings, type ModelFamily, type OutpaintPadding, type RgbImage } from '../../engine/index.ts';
import type { ModelListing } from '../models/model-store.ts';
import { ImageRequestError, INPAINT_ENGINES, INPAINT_MODES, type InpaintChoice, type InpaintEngine, type InpaintMode, type OutpaintAmount } from './image-request.ts';

export interface InpaintModeDefaults {
  strength: number;
  respectiveField: number;
  /** False: sampling starts from noise (Modify). */
  initialLatent: boolean;
  /** Whether the mode uses Fooocus's inpaint patch and head when no engine is named. */
  patch: boolean;
}

export const INPAINT_MODE_DEFAULTS: Readonly<Record<InpaintMode, InpaintModeDefaults>> = {
  default: { strength: 1, respectiveField: 0.618, initialLatent: true, patch: true },
  detail: { strength: 0.5, respectiveField: 0, initialLatent: true, patch: false },
  modify: { strength: 1, respectiveField: 0, initialLatent: false, patch: true },
};

/** Fooocus pads an outpainted side by this share of the image along that side's axis. */
export const DEFAULT_OUTPAINT_PERCENT = 30;
/** Lowest strength the engine takes (it re-noises at least one step's worth). */
export const MIN_INPAINT_STRENGTH = 0.01;

/** Fooocus's inpaint files, as `models convert` names them in the store's `inpaint` folder. */
export const INPAINT_HEAD_FILE = 'fooocus_inpaint_head.safetensors';
export const INPAINT_PATCH_FILE = 'inpaint_v26.fooocus.safetensors';
/** Their catalog entries (pulled and converted by `models pull`). */
export const INPAINT_CATALOG_IDS = ['fooocus-inpaint-head', 'fooocus-inpaint-v26'] as const;

const SIDES = ['left', 'right', 'top', 'bottom'] as const;

function checkNumber(field: string, value: unknown, min: number, max: number, integer = false): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
    throw new ImageRequestError(field, 'range', `${field} must be ${integer ? 'an integer' : 'a number'} in ${min}..${max}, got ${String(value)}`);
  }
}

function checkAmount(side: string, amount: OutpaintAmount): void {
  const field = `inpaint.outpaint.${side}`;
  const keys = Object.keys(amount);
  if (keys.length !== 1 || !(keys[0] === 'px' || keys[0] === 'percent')) throw new ImageRequestError(field, 'format', `${field} must be { px } or { percent }`);
  if ('px' in amount) checkNumber(`${field}.px`, amount.px, INPUT_IMAGE_LIMITS.outpaintPixels.min, INPUT_IMAGE_LIMITS.outpaintPixels.max, true);
  else checkNumber(`${field}.percent`, amount.percent, INPUT_IMAGE_LIMITS.outpaintPercent.min, INPUT_IMAGE_LIMITS.outpaintPercent.max);
}

/** The installed head and patch files, or null when either is missing. */
export function findInpaintFiles(listing: readonly ModelListing[]): { head: string; patch: string } | null {
  const installed = new Set(listing.filter((m) => m.kind === 'inpaint').map((m) => m.name));
  return installed.has(INPAINT_HEAD_FILE) && installed.has(INPAINT_PATCH_FILE) ? { head: INPAINT_HEAD_FILE, patch: INPAINT_PATCH_FILE } : null;
}

/** The head and patch files the store lacks, each with the catalog entry that installs it. */
export function findMissingInpaintFiles(listing: readonly ModelListing[]): { file: string; id: string }[] {
  const installed = new Set(listing.filter((m) => m.kind === 'inpaint').map((m) => m.name));
  return [INPAINT_HEAD_FILE, INPAINT_PATCH_FILE].flatMap((file, at) => (installed.has(file) ? [] : [{ file, id: INPAINT_CATALOG_IDS[at]! }]));
}

/**
 * Refuses at submit an engine the checkpoint's UNet cannot run: a 9-channel inpaint UNet runs only as itself, and
 * only it runs as inpaint-checkpoint (`inChannels` read from the checkpoint's header).
 */
export function checkInpaintEngineFits(engine: InpaintEngine, model: string, inChannels: number): void {
  if (engine === 'inpaint-checkpoint' && inChannels !== 9) {
    throw new ImageRequestError('inpaint.engine', 'model', `inpaint.engine: inpaint-checkpoint needs a 9-channel inpaint checkpoint; ${model} takes ${inChannels} channels (leave the engine out, or choose latent-blend)`);
  }
  if (engine !== 'inpaint-checkpoint' && inChannels === 9) {
    throw new ImageRequestError('inpaint.engine', 'model', `inpaint.engine: ${model} is a 9-channel inpaint checkpoint, which only the inpaint-checkpoint engine runs; got ${engine}`);
  }
}

function isOutpaint(choice: InpaintChoice): boolean {
  return SIDES.some((side) => choice.outpaint?.[side] !== undefined);
}

/**
 * Checks a choice (each refusal names its field) and fills in the mode's defaults, so the stored request says what
 * ran; the engine stays absent when the request named none (it depends on the checkpoint's UNet, read at run time).
 */
export function resolveInpaintChoice(choice: InpaintChoice, context: { hasInput: boolean; family: ModelFamily; listing: readonly ModelListing[] }): InpaintChoice {
  if (!context.hasInput) throw new ImageRequestError('inpaint', 'required', 'inpaint needs an input image (input)');
  if (!(INPAINT_MODES as readonly string[]).includes(choice.mode)) throw new ImageRequestError('inpaint.mode', 'known', `inpaint.mode must be one of ${INPAINT_MODES.join(', ')}, got "${String(choice.mode)}"`);
  if (choice.engine !== undefined && !(INPAINT_ENGINES as readonly string[]).includes(choice.engine)) {
    throw new ImageRequestError('inpaint.engine', 'known', `inpaint.engine must be one of ${INPAINT_ENGINES.join(', ')}, got "${String(choice.engine)}"`);
  }
  if (choice.engine === 'fooocus-v2.6') {
    if (context.family !== 'sdxl') throw new ImageRequestError('inpaint.engine', 'family', `inpaint.engine fooocus-v2.6 runs on SDXL base models; the model is ${getFamilyProfile(context.family).label}`);
    const missing = findMissingInpaintFiles(context.listing);
    if (missing.length > 0) {
      throw new ImageRequestError(
        'inpaint.engine',
        'installed',
        `inpaint.engine fooocus-v2.6 needs ${missing.map((m) => m.file).join(' and ')} in the model store's inpaint folder: run \`npm run fooocus -- models pull ${missing.map((m) => m.id).join(' ')}\`, or convert Fooocus's own ${missing.length === 1 ? 'file' : 'files'} with \`npm run fooocus -- models convert <file> --kind inpaint\``,
      );
    }
  }
  const defaults = INPAINT_MODE_DEFAULTS[choice.mode];
  if (choice.strength !== undefined) checkNumber('inpaint.strength', choice.strength, MIN_INPAINT_STRENGTH, 1);
  if (choice.respectiveField !== undefined) checkNumber('inpaint.respectiveField', choice.respectiveField, INPUT_IMAGE_LIMITS.respectiveField.min, INPUT_IMAGE_LIMITS.respectiveField.max);
  if (choice.maskErode !== undefined) checkNumber('inpaint.maskErode', choice.maskErode, INPUT_IMAGE_LIMITS.maskErode.min, INPUT_IMAGE_LIMITS.maskErode.max, true);
  if (choice.invertMask !== undefined && typeof choice.invertMask !== 'boolean') throw new ImageRequestError('inpaint.invertMask', 'format', 'inpaint.invertMask must be true or false');
  for (const side of SIDES) if (choice.outpaint?.[side] !== undefined) checkAmount(side, choice.outpaint[side]);
  if (choice.mask === undefined && !isOutpaint(choice)) throw new ImageRequestError('inpaint.mask', 'required', 'inpaint.mask is required unless a side is outpainted (inpaint.outpaint)');
  // Outpaint regenerates the whole new area and looks at the whole image, as Fooocus forces.
  const outpaint = isOutpaint(choice);
  return {
    ...choice,
    strength: outpaint ? 1 : (choice.strength ?? defaults.strength),
    respectiveField: outpaint ? 1 : (choice.respectiveField ?? defaults.respectiveField),
  };
}

/** Pixels per side for an image of this size (percent of the side's axis, truncated as Fooocus's int()). */
export function resolveOutpaintPadding(choice: InpaintChoice, image: { width: number; height: number }): OutpaintPadding | null {
  if (!isOutpaint(choice)) return null;
  const pixels = (amount: OutpaintAmount | undefined, axis: number): number => {
    if (amount === undefined) return 0;
    return 'px' in amount ? amount.px : Math.trunc((axis * amount.percent) / 100);
  };
  return {
    left: pixels(choice.outpaint?.left, image.width),
    right: pixels(choice.outpaint?.right, image.width),
    top: pixels(choice.outpaint?.top, image.height),
    bottom: pixels(choice.outpaint?.bottom, image.height),
  };
}

/** The result's size for an input of this size, refused naming inpaint.outpaint when past the engine's limit. */
export function planInpaintSize(choice: InpaintChoice, image: { width: number; height: number }): { width: number; height: number } {
  const padding = resolveOutpaintPadding(choice, image);
  const width = image.width + (padding === null ? 0 : padding.left + padding.right);
  const height = image.height + (padding === null ? 0 : padding.top + padding.bottom);
  const { min, max } = IMAGE_SIZE_LIMITS;
  if (width > max || height > max) throw new ImageRequestError('inpaint.outpaint', 'range', `inpaint.outpaint makes a ${width}x${height} image from ${image.width}x${image.height}; the limit is ${max} pixels a side`);
  if (width < min || height < min) throw new ImageRequestError('input', 'range', `the input image is ${image.width}x${image.height}; inpaint needs at least ${min} pixels a side`);
  return { width, height };
}

/** Checks a mask against the input image: same size, and something to repaint after erode / invert. */
export function checkInpaintMask(choice: InpaintChoice, mask: GreyMask, image: { width: number; height: number }): void {
  if (mask.width !== image.width || mask.height !== image.height) {
    throw new ImageRequestError('inpaint.mask', 'size', `inpaint.mask is ${mask.width}x${mask.height}; it must be the input image's size, ${image.width}x${image.height}`);
  }
  if (!isOutpaint(choice) && isMaskEmpty(prepareInpaintMask({ maskErode: choice.maskErode ?? 0, invertMask: choice.invertMask ?? false }, mask))) {
    throw new ImageRequestError('inpaint.mask', 'empty', 'inpaint.mask is empty (no white pixel after erode / dilate and invert): there is nothing to repaint');
  }
}

/** The engine that runs a choice on a checkpoint (the named one, else Fooocus's choice for what is installed). */
export function chooseInpaintEngine(choice: InpaintChoice, model: { family: ModelFamily; nineChannel: boolean }, listing: readonly ModelListing[]): InpaintEngine {
  if (choice.engine !== undefined) return choice.engine;
  if (model.nineChannel) return 'inpaint-checkpoint';
  if (INPAINT_MODE_DEFAULTS[choice.mode].patch && model.family === 'sdxl' && findInpaintFiles(listing) !== null) return 'fooocus-v2.6';
  return 'latent-blend';
}

/** The engine's settings for a resolved choice, its engine, the decoded mask (null: outpaint only) and the input. */
export function toInpaintSettings(choice: InpaintChoice, engine: InpaintEngine, mask: GreyMask | null, image: RgbImage): InpaintSettings {
  const defaults = INPAINT_MODE_DEFAULTS[choice.mode];
  return {
    mask,
    engine,
    maskErode: choice.maskErode ?? 0,
    invertMask: choice.invertMask ?? false,
    padding: resolveOutpaintPadding(choice, image),
    respectiveField: choice.respectiveField ?? defaults.respectiveField,
    initialLatent: defaults.initialLatent,
  };
}

/** Fooocus puts the additional prompt before the prompt, on its own line. */
export function addInpaintPrompt(prompt: string, choice: InpaintChoice | undefined): string {
  const extra = choice?.additionalPrompt?.trim() ?? '';
  if (extra === '') return prompt;
  return prompt.trim() === '' ? extra : `${extra}\n${prompt}`;
}

/**
 * The request's size for an inpaint (the input's own size plus the outpaint padding), with the mask checked against
 * the input when both can be read now; null when the input cannot be read at submit.
 */
export async function checkInpaintInput(choice: InpaintChoice, readInput: (() => Promise<RgbImage>) | undefined, readMask: ((file: string) => Promise<GreyMask>) | undefined): Promise<{ width: number; height: number } | null> {
  if (readInput === undefined) return null;
  const image = await readInput();
  if (choice.mask !== undefined && readMask !== undefined) checkInpaintMask(choice, await readMask(choice.mask), image);
  return planInpaintSize(choice, image);
}

/**
 * Settings that hold the request's numbers to the engine's rules before anything is read: the result size as the
 * input (no padding) and a one-pixel mask, since the real mask and image come at run time.
 */
export function placeholderInpaint(choice: InpaintChoice, size: { width: number; height: number }): { image: RgbImage; settings: InpaintSettings } {
  const image = { ...size, rgb: new Uint8Array(size.width * size.height * 3) };
  const data = new Uint8Array(size.width * size.height).fill(255);
  const settings = { ...toInpaintSettings(choice, choice.engine ?? 'latent-blend', { ...size, data }, image), padding: null, maskErode: 0, invertMask: false };
  return { image, settings };
}
