/**
 * The rules an InpaintSettings must satisfy against its input image, as (field, detail) problems: the caller
 * (validateGenerationRequest) turns the first one into its error, so every refusal names the field.
 */
import type { RgbImage } from '../rgb-image.ts';
import { erodeOrDilateMask, invertMask, isMaskEmpty } from './grey-mask.ts';
import { INPAINT_ENGINE_NAMES, inpaintResultSize, type GreyMask, type InpaintSettings } from './inpaint-settings.ts';

export interface InpaintProblem {
  field: string;
  detail: string;
}

/** Largest erode / dilate, in pixels (Fooocus's slider stops at 64; a larger value only empties or fills the mask). */
export const MAX_MASK_ERODE = 256;
/** Working sizes the crop may be generated at: multiples of 64 up to 2048 (SDXL's largest trained side). */
export const WORKING_SIZE_LIMITS = { min: 64, max: 2048, multiple: 64 } as const;

const SIDES = ['left', 'right', 'top', 'bottom'] as const;

/** The mask after the request's erode / dilate and invert, as the pipeline uses it. */
export function prepareMask(settings: Pick<InpaintSettings, 'maskErode' | 'invertMask'>, mask: GreyMask): GreyMask {
  const shaped = erodeOrDilateMask(mask, settings.maskErode);
  return settings.invertMask ? invertMask(shaped) : shaped;
}

function isInteger(value: unknown, min: number, max: number): boolean {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** The first problem of `settings` for `image` with the request's result size, or null when it may run. */
export function findInpaintProblem(settings: InpaintSettings, image: RgbImage, size: { width: number; height: number }, maxSide: number): InpaintProblem | null {
  if (!(INPAINT_ENGINE_NAMES as readonly string[]).includes(settings.engine)) {
    return { field: 'inpaint.engine', detail: `must be one of ${INPAINT_ENGINE_NAMES.join(', ')}, got "${String(settings.engine)}"` };
  }
  if (!isInteger(settings.maskErode, -MAX_MASK_ERODE, MAX_MASK_ERODE)) {
    return { field: 'inpaint.maskErode', detail: `must be an integer in ${-MAX_MASK_ERODE}..${MAX_MASK_ERODE}, got ${String(settings.maskErode)}` };
  }
  const k = settings.respectiveField;
  if (typeof k !== 'number' || !Number.isFinite(k) || k < 0 || k > 1) return { field: 'inpaint.respectiveField', detail: `must be a number in 0..1, got ${String(k)}` };
  const w = settings.workingSize;
  if (w !== undefined && (!isInteger(w, WORKING_SIZE_LIMITS.min, WORKING_SIZE_LIMITS.max) || w % WORKING_SIZE_LIMITS.multiple !== 0)) {
    return { field: 'inpaint.workingSize', detail: `must be a multiple of ${WORKING_SIZE_LIMITS.multiple} in ${WORKING_SIZE_LIMITS.min}..${WORKING_SIZE_LIMITS.max}, got ${String(w)}` };
  }
  const padding = settings.padding;
  if (padding !== null) {
    for (const side of SIDES) {
      if (!isInteger(padding[side], 0, maxSide)) return { field: `inpaint.outpaint.${side}`, detail: `must be a whole number of pixels in 0..${maxSide}, got ${String(padding[side])}` };
    }
    const result = inpaintResultSize(image, padding);
    if (result.width > maxSide || result.height > maxSide) {
      return { field: 'inpaint.outpaint', detail: `makes a ${result.width}x${result.height} image from ${image.width}x${image.height}; the limit is ${maxSide} pixels a side` };
    }
  }
  const outpainting = padding !== null && SIDES.some((side) => padding[side] > 0);
  const result = inpaintResultSize(image, padding);
  if (size.width !== result.width || size.height !== result.height) {
    return { field: 'width', detail: `the inpaint result is ${result.width}x${result.height} (the input image and its outpaint padding), but the request asks for ${size.width}x${size.height}` };
  }
  const mask = settings.mask;
  if (mask === null) return outpainting ? null : { field: 'inpaint.mask', detail: 'is required unless a side is outpainted' };
  if (mask.width !== image.width || mask.height !== image.height) {
    return { field: 'inpaint.mask', detail: `is ${mask.width}x${mask.height} but the input image is ${image.width}x${image.height}; the mask must be the same size` };
  }
  if (mask.data.length !== mask.width * mask.height) return { field: 'inpaint.mask', detail: `has ${mask.data.length} bytes, expected ${mask.width * mask.height} for ${mask.width}x${mask.height}` };
  if (!outpainting && isMaskEmpty(prepareMask(settings, mask))) {
    const shaped = settings.maskErode !== 0 || settings.invertMask ? ' after erode / dilate and invert' : '';
    return { field: 'inpaint.mask', detail: `is empty${shaped}: no pixel is white (over ${127}), so there is nothing to repaint` };
  }
  return null;
}
