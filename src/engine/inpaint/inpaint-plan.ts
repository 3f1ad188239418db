/**
 * Everything the pipeline needs to inpaint, prepared once per request from the input, the mask and the settings,
 * Fooocus's way:
 * 1. the mask: erode / dilate, invert; outpaint pads the image with its edge pixels and the mask with white;
 * 2. the crop around the mask (inpaint-crop.ts), resampled (Lanczos; Fooocus runs its 4x upscaler first when the
 *    crop is small, we resample directly) to the working size, the family's native area (1024 for SDXL);
 * 3. the fill of the masked area (strength > 0.99 only), encoded as the start and known latent; for the
 *    9-channel and head engines also the masked image (masked pixels grey) encoded as their extra input;
 * 4. after decoding: resample back, paste through the soft mask.
 */
import { FooocusError } from '../errors/fooocus-error.ts';
import { getFamilyProfile } from '../models/family-profiles.ts';
import type { GenerationRequest } from '../pipeline/generation-request.ts';
import type { StageInpaintInputs } from '../pipeline/unet-denoiser.ts';
import { fromRgb } from '../pipeline/vae-codec.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';
import { MASK_THRESHOLD, softenMask } from './grey-mask.ts';
import { computeCropBox, computeWorkingSize, cropMask, cropRgb, resizeMask, resizeRgb } from './inpaint-crop.ts';
import { computeHeadFeature, type InpaintHead } from './inpaint-models.ts';
import { prepareMask } from './inpaint-rules.ts';
import type { GreyMask, InpaintSettings } from './inpaint-settings.ts';
import { toLatentMask } from './latent-blend.ts';
import { fillMaskedArea, padForOutpaint } from './masked-fill.ts';
import { pasteBack } from './paste-back.ts';

/** The models cannot run the requested inpaint engine; names the field to change. */
export class InpaintEngineError extends FooocusError {
  declare readonly field: string;

  constructor(detail: string) {
    super('invalid', `inpaint.engine: ${detail}`, { field: 'inpaint.engine' });
  }
}

/** Fooocus fills the masked area before encoding only when the strength re-noises nearly everything. */
export const FILL_ABOVE_STRENGTH = 0.99;

export interface InpaintPlan {
  /** [1, 4, h/8, w/8] at the working size. */
  latentDims: number[];
  /** The latent sampling starts from (scaled), or null to start from noise. */
  start: Tensor | null;
  /** The known latent and its latent-size mask (1 = generate), for blendKnownLatent. */
  known: { latent: Tensor; mask: Float32Array };
  /** Extra UNet inputs of the base model (9-channel concat or head feature). */
  inputs: StageInpaintInputs | undefined;
  /** Decoded working-size image to the final result. */
  finish(decoded: RgbImage): RgbImage;
  /**
   * An image the size of the (padded) input, such as a control map, cropped and resized exactly as the working
   * area was, so it lines up with what is generated.
   */
  toWorkingArea(image: RgbImage): RgbImage;
}

export interface InpaintPlanModels {
  family: Parameters<typeof getFamilyProfile>[0];
  /** The base UNet takes the inpaint head's feature (it was built with the inpaint patch). */
  inpaintFeature: boolean;
  /** The base UNet takes 9 channels. */
  nineChannel: boolean;
  encoder: ModelSession;
  head?: InpaintHead;
}

/** VAE encode of a [1, 3, H, W] tensor in [-1, 1] to the scaled latent. */
async function encodeScaled(encoder: ModelSession, image: Tensor, scale: number, signal?: AbortSignal): Promise<Tensor> {
  const latent = (await encoder.run({ image }, signal)).latent!;
  const [, , h, w] = image.dims as [number, number, number, number];
  if (latent.dims[2] !== h / 8 || latent.dims[3] !== w / 8) throw new Error(`the VAE encoder turned a ${w}x${h} image into [${latent.dims}]; only 8x VAEs are supported`);
  return { dims: latent.dims, data: latent.data.map((v) => v * scale) };
}

function checkEngine(settings: InpaintSettings, models: InpaintPlanModels): void {
  if (models.nineChannel && settings.engine !== 'inpaint-checkpoint') throw new InpaintEngineError(`the model has a 9-channel inpaint UNet, which only the inpaint-checkpoint engine runs; got ${settings.engine}`);
  if (settings.engine === 'inpaint-checkpoint' && !models.nineChannel) throw new InpaintEngineError('inpaint-checkpoint needs a 9-channel inpaint checkpoint; this model takes 4 channels');
  if (settings.engine === 'fooocus-v2.6') {
    if (models.family !== 'sdxl') throw new InpaintEngineError(`fooocus-v2.6 runs on SDXL base models only; this model is ${models.family}`);
    if (models.head === undefined || !models.inpaintFeature) throw new InpaintEngineError('fooocus-v2.6 needs the inpaint head and the UNet built with the inpaint patch');
  }
}

export async function planInpaint(models: InpaintPlanModels, request: GenerationRequest, signal?: AbortSignal): Promise<InpaintPlan> {
  const settings = request.inpaint!;
  const strength = request.input!.denoise;
  checkEngine(settings, models);
  const profile = getFamilyProfile(models.family);

  // 1. mask and outpaint padding
  let image = request.input!.image;
  let mask: GreyMask = settings.mask === null ? { width: image.width, height: image.height, data: new Uint8Array(image.width * image.height) } : prepareMask(settings, settings.mask);
  if (settings.padding !== null) ({ image, mask } = padForOutpaint(image, mask, settings.padding));

  // 2. crop and working size
  const box = computeCropBox(mask, settings.respectiveField);
  const size = computeWorkingSize(box.right - box.left, box.bottom - box.top, settings.workingSize ?? profile.defaultImageSize);
  const area = resizeRgb(cropRgb(image, box), size.width, size.height);
  const resized = resizeMask(cropMask(mask, box), size.width, size.height);
  const areaMask: GreyMask = { ...resized, data: resized.data.map((v) => (v > MASK_THRESHOLD ? 255 : 0)) };

  // 3. fill and encode
  const filled = strength > FILL_ABOVE_STRENGTH ? fillMaskedArea(area, areaMask) : area;
  const latentMask = toLatentMask(areaMask);
  const known = await encodeScaled(models.encoder, fromRgb(filled), profile.latentScale, signal);
  let inputs: StageInpaintInputs | undefined;
  if (settings.engine !== 'latent-blend') {
    // The masked image: masked pixels set to mid grey (0 in [-1, 1]) before encoding.
    const masked = fromRgb(area);
    const plane = size.width * size.height;
    for (let p = 0; p < plane; p++) if (areaMask.data[p] === 255) for (let c = 0; c < 3; c++) masked.data[c * plane + p] = 0;
    const maskedLatent = await encodeScaled(models.encoder, masked, profile.latentScale, signal);
    const maskTensor: Tensor = { dims: [1, 1, size.height / 8, size.width / 8], data: latentMask };
    if (settings.engine === 'inpaint-checkpoint') {
      const data = new Float32Array(latentMask.length * 5);
      data.set(latentMask, 0);
      data.set(maskedLatent.data, latentMask.length);
      inputs = { concat: { dims: [1, 5, size.height / 8, size.width / 8], data } };
    } else {
      inputs = { feature: computeHeadFeature(models.head!, maskTensor, maskedLatent) };
    }
  }

  // 4. paste back through the soft mask of the whole (padded) mask
  const soft = softenMask(mask);
  return {
    latentDims: [1, profile.latentChannels, size.height / 8, size.width / 8],
    start: settings.initialLatent ? known : null,
    known: { latent: known, mask: latentMask },
    inputs,
    finish: (decoded) => pasteBack(image, decoded, box, soft),
    toWorkingArea: (full) => resizeRgb(cropRgb(full, box), size.width, size.height),
  };
}
