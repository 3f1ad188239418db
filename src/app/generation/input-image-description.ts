/**
 * How an image's metadata names the Input Image mode of its request, and back: the request's choices (our ids)
 * become Fooocus's labels (`Vary (Subtle)`, `Improve Detail (face, hand, eyes, etc.)`, engine `v2.6`) so a
 * Fooocus user reading the file recognises them, and a file's labels become the choices again (history Reuse and a
 * dropped image restore the mode). Only what the request chose is recorded: the per-mode defaults stay the use
 * case's, so reading a file back asks for exactly what was asked.
 */
import { INPAINT_ENGINE_LABELS, INPAINT_METHOD_LABELS, RECORDED_OUTPAINT_SIDES, UOV_METHOD_LABELS, type InputImageParameters } from '../../engine/index.ts';
import type { InpaintChoice, InpaintEngine, InpaintMode, VaryUpscaleChoice, VaryUpscaleMode } from './image-request.ts';

// Typed by the request's ids, so a mode added to the request without a label fails to compile.
const UOV_LABELS: Readonly<Record<VaryUpscaleMode, string>> = UOV_METHOD_LABELS;
const INPAINT_LABELS: Readonly<Record<InpaintMode, string>> = INPAINT_METHOD_LABELS;
const ENGINE_LABELS: Readonly<Record<InpaintEngine, string>> = INPAINT_ENGINE_LABELS;
const SIDES = RECORDED_OUTPAINT_SIDES;

/** Reading a record back lives beside the labels in the engine, so the page restores choices with the same code. */
export { readInputImageChoices } from '../../engine/index.ts';

/** The metadata record of a request's Input Image mode; undefined without one. */
export function describeInputImage(request: { varyUpscale?: VaryUpscaleChoice; inpaint?: InpaintChoice }): InputImageParameters | undefined {
  const { varyUpscale, inpaint } = request;
  if (varyUpscale !== undefined) {
    return {
      uovMethod: UOV_LABELS[varyUpscale.mode],
      ...(varyUpscale.factor === undefined ? {} : { upscaleFactor: varyUpscale.factor }),
      ...(varyUpscale.upscaler === undefined ? {} : { upscaler: varyUpscale.upscaler.replace(/\.safetensors$/, '') }),
    };
  }
  if (inpaint === undefined) return undefined;
  const outpaint = SIDES.flatMap(([key, side]) => {
    const amount = inpaint.outpaint?.[key];
    return amount === undefined ? [] : [{ side, size: 'px' in amount ? `${amount.px}px` : `${amount.percent}%` }];
  });
  return {
    inpaintMethod: INPAINT_LABELS[inpaint.mode],
    ...(inpaint.engine === undefined ? {} : { inpaintEngine: ENGINE_LABELS[inpaint.engine] }),
    ...(inpaint.strength === undefined ? {} : { inpaintStrength: inpaint.strength }),
    ...(inpaint.respectiveField === undefined ? {} : { inpaintRespectiveField: inpaint.respectiveField }),
    ...(inpaint.maskErode === undefined ? {} : { inpaintErodeOrDilate: inpaint.maskErode }),
    ...(inpaint.invertMask === undefined ? {} : { invertMask: inpaint.invertMask }),
    ...(inpaint.additionalPrompt === undefined ? {} : { inpaintAdditionalPrompt: inpaint.additionalPrompt }),
    ...(outpaint.length === 0 ? {} : { outpaint }),
  };
}
