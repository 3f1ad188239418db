/**
 * The engine's inpaint and outpaint request: what `generate` needs, besides a GenerationRequest with an input
 * image, to repaint part of that image (or extend it) and leave the rest untouched.
 *
 * API for the application layer:
 * - put an `InpaintSettings` on `GenerationRequest.inpaint` (with `input.image` the original picture, any size
 *   within IMAGE_SIZE_LIMITS, and `input.denoise` the inpaint strength); `generate` then runs the inpaint
 *   pipeline (src/engine/inpaint/inpaint-pipeline.ts): crop, fill, encode, sample with the known latent blended in,
 *   decode, paste back through a soft mask. `width`/`height` of the request are the result's size: the input's
 *   plus the outpaint padding (`inpaintResultSize`).
 * - masks are `GreyMask`: one byte per pixel, white (> 127) = repaint; `maskFromImage` turns a decoded mask
 *   picture into one.
 * - `fooocus-v2.6` needs `PipelineModels.inpaint` (the head and the UNet built with the patch, see
 *   inpaint-models.ts); `inpaint-checkpoint` needs a 9-channel UNet (`architecture.inpaint`).
 */

/** How the masked area is generated (the same ids as the application's InpaintEngine). */
export const INPAINT_ENGINE_NAMES = ['fooocus-v2.6', 'inpaint-checkpoint', 'latent-blend'] as const;
export type InpaintEngineName = (typeof INPAINT_ENGINE_NAMES)[number];

/** An 8-bit single-channel image, row-major [height, width]: a mask, white (> 127) where the image is repainted. */
export interface GreyMask {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Pixels added on each side by outpaint (0 = that side is not extended). */
export interface OutpaintPadding {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface InpaintSettings {
  /** Same size as `input.image`; null when only outpainting (the new area is then the whole mask). */
  mask: GreyMask | null;
  engine: InpaintEngineName;
  /** Shrink (positive) or grow (negative) the mask by this many pixels (3x3 steps), before inverting. */
  maskErode: number;
  invertMask: boolean;
  /** Outpaint: the image is padded with its edge pixels and the new area joins the mask. */
  padding: OutpaintPadding | null;
  /** Fooocus's "respective field" k in [0, 1]: the crop covers at least k of the image's height and width. */
  respectiveField: number;
  /** False: sampling starts from pure noise instead of the (filled) image's latent (Fooocus's Modify). */
  initialLatent: boolean;
  /**
   * The crop is resampled to this pixel area's side (a multiple of 64) before generating, as Fooocus does at
   * 1024 for SDXL; default: the model family's native size.
   */
  workingSize?: number;
}

/** Size of the inpaint result: the input plus the outpaint padding. */
export function inpaintResultSize(input: { width: number; height: number }, padding: OutpaintPadding | null): { width: number; height: number } {
  if (padding === null) return { width: input.width, height: input.height };
  return { width: input.width + padding.left + padding.right, height: input.height + padding.top + padding.bottom };
}
