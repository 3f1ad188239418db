/**
 * Fooocus's "Upscale or Variation" step: what a request's `varyUpscale` choice does to its input image before (or
 * instead of) image-to-image. Fooocus's numbers (its `apply_vary` / `apply_upscale`):
 *
 * - Vary (Subtle) denoise 0.5, Vary (Strong) 0.85, the image first resized so its "shape ceil" (sqrt(W*H) rounded
 *   up to 64) lies in [1024, 2048] for SDXL; other families use [native, 2 x native] (SD 1.5: [512, 1024]).
 * - Upscale (1.5x) / (2x): the upscaler model, then a Lanczos resample to factor x the input size (or, when that
 *   is under the native shape ceil, to the native ceil), then image-to-image at denoise 0.382 with the performance
 *   mode's image-to-image steps (Speed 18, Quality 36, Extreme Speed 8, Lightning 4, Hyper-SD 4) and a tiled VAE.
 * - Upscale (Fast 2x), or any upscale whose shape ceil would exceed 2800 (scaled by native/1024 for other
 *   families), returns the resampled upscaler image as the result: no diffusion.
 *
 * Beyond Fooocus: `upscale-custom` with a factor in CUSTOM_FACTOR_LIMITS, and the upscaler picked by name among
 * those installed (upscaler-selection.ts).
 *
 * API for the use case (and the studio page's request builder):
 * - `checkVaryUpscaleChoice(choice, hasInput)`: field-named refusals (`varyUpscale.mode`, `varyUpscale.factor`...);
 * - `prepareVaryUpscale(choice, context)`: all of the above at submit: the choice with its upscaler file chosen
 *   (upscaler-selection.ts), the output size and the denoise the request records;
 * - `planVaryUpscaleSize(choice, input, family, upscalerScale)`: the output size and whether diffusion runs,
 *   computed from sizes alone (so a request's width/height are known at submit);
 * - `runVaryUpscaleStep(choice, image, context)`: the image-to-image input (image, denoise, steps, tiled VAE) or
 *   the final image.
 */
import { getFamilyProfile, IMAGE_SIZE_LIMITS, resampleLanczos, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import { getPerformanceMode } from '../creative/performance-modes.ts';
import type { ModelListing } from '../models/model-store.ts';
import { ImageRequestError, VARY_UPSCALE_MODES, type VaryUpscaleChoice, type VaryUpscaleMode } from './image-request.ts';
import { chooseUpscaler } from './upscaler-selection.ts';

export const VARY_DENOISE: Readonly<Record<'vary-subtle' | 'vary-strong', number>> = { 'vary-subtle': 0.5, 'vary-strong': 0.85 };
export const UPSCALE_DENOISE = 0.382;
export const UPSCALE_FACTORS: Readonly<Record<'upscale-1.5x' | 'upscale-2x' | 'upscale-fast-2x', number>> = { 'upscale-1.5x': 1.5, 'upscale-2x': 2, 'upscale-fast-2x': 2 };
export const CUSTOM_FACTOR_LIMITS = { min: 1, max: 4 } as const;
/** Fooocus returns the upscaler's image when the result's shape ceil would pass this (SDXL; scaled for others). */
export const SDXL_DIRECT_RETURN_CEIL = 2800;
/** Longest side of an upscaler-only result (image-to-image results keep the engine's limit). */
export const MAX_UPSCALED_SIDE = 8192;

/** ceil(sqrt(W*H) / 64) * 64, Fooocus's measure of an image's size. */
export function shapeCeil(width: number, height: number): number {
  return Math.ceil(Math.sqrt(width * height) / 64) * 64;
}

/**
 * The size Fooocus resizes to for a target shape ceil: both sides scaled and rounded to multiples of 64, repeated
 * until the ceil matches (at most 256 rounds, as Fooocus).
 */
export function sizeForShapeCeil(width: number, height: number, target: number): { width: number; height: number } {
  let w = width;
  let h = height;
  for (let i = 0; i < 256; i++) {
    const current = shapeCeil(w, h);
    if (Math.abs(current - target) < 0.1) break;
    const k = target / current;
    h = Math.round((h * k) / 64) * 64;
    w = Math.round((w * k) / 64) * 64;
  }
  return { width: w, height: h };
}

function isVary(mode: VaryUpscaleMode): mode is 'vary-subtle' | 'vary-strong' {
  return mode === 'vary-subtle' || mode === 'vary-strong';
}

/** The scale factor of an upscale mode. */
export function upscaleFactor(choice: VaryUpscaleChoice): number {
  if (choice.mode === 'upscale-custom') return choice.factor ?? 2;
  if (isVary(choice.mode)) return 1;
  return UPSCALE_FACTORS[choice.mode];
}

/** Refuses a malformed choice, naming the field; `hasInput`: whether the request has an input image. */
export function checkVaryUpscaleChoice(choice: VaryUpscaleChoice, hasInput: boolean): void {
  if (!(VARY_UPSCALE_MODES as readonly string[]).includes(choice.mode)) {
    throw new ImageRequestError('varyUpscale.mode', 'known', `varyUpscale.mode must be one of ${VARY_UPSCALE_MODES.join(', ')}, got "${String(choice.mode)}"`);
  }
  if (choice.factor !== undefined) {
    if (choice.mode !== 'upscale-custom') throw new ImageRequestError('varyUpscale.factor', 'mode', `varyUpscale.factor is for mode upscale-custom only, not ${choice.mode}`);
    const { min, max } = CUSTOM_FACTOR_LIMITS;
    if (typeof choice.factor !== 'number' || !Number.isFinite(choice.factor) || choice.factor < min || choice.factor > max) {
      throw new ImageRequestError('varyUpscale.factor', 'range', `varyUpscale.factor must be a number in ${min}..${max}, got ${String(choice.factor)}`);
    }
  } else if (choice.mode === 'upscale-custom') {
    throw new ImageRequestError('varyUpscale.factor', 'required', 'varyUpscale.factor is required for mode upscale-custom');
  }
  if (choice.upscaler !== undefined && isVary(choice.mode)) throw new ImageRequestError('varyUpscale.upscaler', 'mode', `varyUpscale.upscaler is for the upscale modes, not ${choice.mode}`);
  if (!hasInput) throw new ImageRequestError('input', 'required', `varyUpscale (${choice.mode}) needs an input image`);
}

/** Whether the mode runs an upscaler model. */
export function needsUpscaler(choice: VaryUpscaleChoice): boolean {
  return !isVary(choice.mode);
}

export interface VaryUpscaleSize {
  width: number;
  height: number;
  /** False: the upscaler's (resampled) image is the result; true: it goes through image-to-image. */
  imageToImage: boolean;
}

/** The family's native shape ceil (SDXL 1024, SD 1.5 512). */
function nativeCeil(family: ModelFamily): number {
  return getFamilyProfile(family).defaultImageSize;
}

/** The size the step resizes the input (after the upscaler, for upscales) to, before any crop to the latent grid. */
function resizeTarget(choice: VaryUpscaleChoice, input: { width: number; height: number }, family: ModelFamily, upscalerScale: number): { width: number; height: number; ceil: number } {
  const native = nativeCeil(family);
  if (isVary(choice.mode)) {
    const ceil = Math.min(2 * native, Math.max(native, shapeCeil(input.width, input.height)));
    return { ...sizeForShapeCeil(input.width, input.height, ceil), ceil };
  }
  const f = upscaleFactor(choice);
  const ceil = shapeCeil(input.width * f, input.height * f);
  if (ceil < native) return { ...sizeForShapeCeil(input.width * upscalerScale, input.height * upscalerScale, native), ceil: native };
  return { width: Math.trunc(input.width * f), height: Math.trunc(input.height * f), ceil };
}

/** Output size of the step for an input of this size; image-to-image sizes are cropped to multiples of 8. */
export function planVaryUpscaleSize(choice: VaryUpscaleChoice, input: { width: number; height: number }, family: ModelFamily, upscalerScale = 1): VaryUpscaleSize {
  const target = resizeTarget(choice, input, family, upscalerScale);
  const direct = choice.mode === 'upscale-fast-2x' || (!isVary(choice.mode) && target.ceil > (SDXL_DIRECT_RETURN_CEIL * nativeCeil(family)) / 1024);
  if (direct) return { width: target.width, height: target.height, imageToImage: false };
  const grid = IMAGE_SIZE_LIMITS.multiple;
  return { width: target.width - (target.width % grid), height: target.height - (target.height % grid), imageToImage: true };
}

/** Refuses an output size the engine (image-to-image) or the upscaler-only path cannot make. */
export function checkVaryUpscaleSize(choice: VaryUpscaleChoice, size: VaryUpscaleSize, maxPixels = Infinity): void {
  const field = choice.mode === 'upscale-custom' ? 'varyUpscale.factor' : 'input';
  if (size.width * size.height > maxPixels) {
    throw new ImageRequestError(field, 'maxPixels', `${choice.mode} would make a ${size.width}x${size.height} image, more than the ${maxPixels} pixels allowed here`);
  }
  const max = size.imageToImage ? IMAGE_SIZE_LIMITS.max : MAX_UPSCALED_SIDE;
  if (size.width > max || size.height > max || Math.min(size.width, size.height) < IMAGE_SIZE_LIMITS.min) {
    throw new ImageRequestError(
      field,
      'range',
      `${choice.mode} would make a ${size.width}x${size.height} image; each side must be in ${IMAGE_SIZE_LIMITS.min}..${max}${size.imageToImage ? ' for image-to-image' : ''}`,
    );
  }
}

export type VaryUpscaleStep =
  | { kind: 'image-to-image'; image: RgbImage; denoise: number; steps: number | undefined; tiledVae: boolean }
  | { kind: 'final'; image: RgbImage };

export interface VaryUpscaleContext {
  family: ModelFamily;
  performance: string;
  /** The output size the request was prepared with (its width and height). */
  size: { width: number; height: number };
  /** Runs the chosen upscaler on the image (upscale modes only); its scale is the model's. */
  upscale: (image: RgbImage) => Promise<RgbImage>;
}

/** The image-to-image steps of a choice: undefined (the mode's own) for vary, the mode's image-to-image steps for upscale. */
export function varyUpscaleSteps(choice: VaryUpscaleChoice, performance: string): number | undefined {
  return isVary(choice.mode) ? undefined : getPerformanceMode(performance).imageToImageSteps;
}

/** The denoise strength of a choice's image-to-image pass. */
export function varyUpscaleDenoise(choice: VaryUpscaleChoice): number {
  return isVary(choice.mode) ? VARY_DENOISE[choice.mode] : UPSCALE_DENOISE;
}

/** Resizes to `target`, then centre-crops to `size` (resizing straight to `size` when the target is smaller). */
function fitTo(img: RgbImage, target: { width: number; height: number }, size: { width: number; height: number }): RgbImage {
  const t = target.width >= size.width && target.height >= size.height ? target : size;
  const resized = t.width === img.width && t.height === img.height ? img : resampleLanczos(img, t.width, t.height);
  if (t.width === size.width && t.height === size.height) return resized;
  const x0 = Math.floor((t.width - size.width) / 2);
  const y0 = Math.floor((t.height - size.height) / 2);
  const rgb = new Uint8Array(size.width * size.height * 3);
  for (let y = 0; y < size.height; y++) rgb.set(resized.rgb.subarray(((y0 + y) * t.width + x0) * 3, ((y0 + y) * t.width + x0 + size.width) * 3), y * size.width * 3);
  return { width: size.width, height: size.height, rgb };
}

/**
 * Runs the step on the input image: vary resizes it; upscale runs the upscaler and resamples. The result is the
 * image-to-image input at the request's size, or the final image.
 */
export async function runVaryUpscaleStep(choice: VaryUpscaleChoice, input: RgbImage, context: VaryUpscaleContext): Promise<VaryUpscaleStep> {
  if (isVary(choice.mode)) {
    const target = resizeTarget(choice, input, context.family, 1);
    return { kind: 'image-to-image', image: fitTo(input, target, context.size), denoise: VARY_DENOISE[choice.mode], steps: undefined, tiledVae: false };
  }
  const upscaled = await context.upscale(input);
  const scale = upscaled.width / input.width;
  if (!planVaryUpscaleSize(choice, input, context.family, scale).imageToImage) return { kind: 'final', image: fitTo(upscaled, context.size, context.size) };
  const target = resizeTarget(choice, input, context.family, scale);
  return { kind: 'image-to-image', image: fitTo(upscaled, target, context.size), denoise: UPSCALE_DENOISE, steps: varyUpscaleSteps(choice, context.performance), tiledVae: true };
}

export interface PreparedVaryUpscale {
  /** The choice with `upscaler` set to the file chosen (upscale modes). */
  choice: VaryUpscaleChoice;
  size: VaryUpscaleSize;
  /** The image-to-image denoise (recorded in the request's `input`). */
  denoise: number;
}

export interface PrepareVaryUpscaleContext {
  /** The input image's size, or undefined when the request has none. */
  input: { width: number; height: number } | undefined;
  family: ModelFamily;
  listing: readonly ModelListing[];
  /** The scale of a store upscaler (reads its header); 4 when the caller cannot read files. */
  readUpscalerScale?: (name: string) => Promise<number>;
  /** Most pixels the result may have (a server's quota); absent: only the side limits. */
  maxPixels?: number;
}

/** Checks a choice at submit and resolves what it needs: the upscaler file, the output size, the denoise. */
export async function prepareVaryUpscale(choice: VaryUpscaleChoice, context: PrepareVaryUpscaleContext): Promise<PreparedVaryUpscale> {
  checkVaryUpscaleChoice(choice, context.input !== undefined);
  const upscaler = needsUpscaler(choice) ? chooseUpscaler(choice, context.listing) : undefined;
  const scale = upscaler === undefined ? 1 : ((await context.readUpscalerScale?.(upscaler)) ?? 4);
  const size = planVaryUpscaleSize(choice, context.input!, context.family, scale);
  checkVaryUpscaleSize(choice, size, context.maxPixels);
  return { choice: { ...choice, ...(upscaler === undefined ? {} : { upscaler }) }, size, denoise: varyUpscaleDenoise(choice) };
}
