/**
 * Rules of a generate request that span fields, checked after the schema: size given one way only, the pixel
 * budget, the seed range (a decimal string, since 2^63 - 1 is past what a JSON number holds exactly) and the
 * image-to-image pair, and the Input Image modes (each needs the input image; one mode at a time; a custom factor
 * only with upscale-custom, which needs it; an inpaint needs a mask unless it outpaints).
 */
import { parseSize } from '../app/generation/image-size.ts';
import { MAX_SEED } from '../engine/index.ts';
import type { GenerateRequestBody } from './schemas/generate-request-schema.ts';
import { InvalidRequestError } from './studio-errors.ts';

export function checkGenerateRequest(body: GenerateRequestBody, maxPixels: number): void {
  const hasWidth = body.width !== undefined;
  if (hasWidth !== (body.height !== undefined)) {
    const missing = hasWidth ? 'height' : 'width';
    throw new InvalidRequestError(missing, 'required', `${missing} is required when ${hasWidth ? 'width' : 'height'} is given`);
  }
  if (hasWidth && body.aspectRatio !== undefined) {
    throw new InvalidRequestError('aspectRatio', 'exclusive', 'give aspectRatio or width and height, not both');
  }
  const { width, height } = hasWidth ? { width: body.width ?? 0, height: body.height ?? 0 } : body.aspectRatio === undefined ? { width: 0, height: 0 } : parseSize(body.aspectRatio);
  if (width * height > maxPixels) {
    const field = hasWidth ? 'width' : 'aspectRatio';
    throw new InvalidRequestError(field, 'maxPixels', `${field}: ${width}x${height} is more than ${maxPixels} pixels`, maxPixels);
  }
  if (body.seed !== undefined && BigInt(body.seed) > MAX_SEED) {
    throw new InvalidRequestError('seed', 'maximum', `seed must be at most ${MAX_SEED}`, Number(MAX_SEED));
  }
  if (body.denoise !== undefined && body.inputImageId === undefined) {
    throw new InvalidRequestError('inputImageId', 'required', 'inputImageId is required when denoise is given');
  }
  checkInputImageModes(body);
}

function checkInputImageModes(body: GenerateRequestBody): void {
  const { varyUpscale, inpaint } = body;
  for (const [field, given] of [['varyUpscale', varyUpscale], ['inpaint', inpaint]] as const) {
    if (given !== undefined && body.inputImageId === undefined) throw new InvalidRequestError('inputImageId', 'required', `inputImageId is required when ${field} is given`);
  }
  if (varyUpscale !== undefined && inpaint !== undefined) {
    throw new InvalidRequestError('inpaint', 'exclusive', 'give varyUpscale or inpaint, not both (as the Input Image tabs: one mode at a time)');
  }
  if (varyUpscale !== undefined) {
    const custom = varyUpscale.mode === 'upscale-custom';
    if (custom && varyUpscale.factor === undefined) throw new InvalidRequestError('varyUpscale.factor', 'required', 'varyUpscale.factor is required for mode upscale-custom');
    if (!custom && varyUpscale.factor !== undefined) throw new InvalidRequestError('varyUpscale.factor', 'mode', `varyUpscale.factor is only for mode upscale-custom, not ${varyUpscale.mode}`);
    if (varyUpscale.upscaler !== undefined && varyUpscale.mode.startsWith('vary-')) {
      throw new InvalidRequestError('varyUpscale.upscaler', 'mode', `varyUpscale.upscaler is only for the upscale modes, not ${varyUpscale.mode}`);
    }
  }
  if (inpaint !== undefined && inpaint.mask === undefined && inpaint.outpaint === undefined) {
    throw new InvalidRequestError('inpaint.mask', 'required', 'inpaint.mask is required unless inpaint.outpaint names a side to extend');
  }
}
