/**
 * An image as the CLIP vision encoder reads it, the way Fooocus prepares an image prompt: stretched (not cropped)
 * to the encoder's square size with Lanczos, then each channel normalized with CLIP's training mean and standard
 * deviation (Radford et al. 2021).
 */
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';
import { resampleLanczos } from '../upscale/lanczos-resample.ts';

export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;

/** [1, 3, size, size] float32, channel-planar. */
export function preprocessClipImage(image: RgbImage, size: number): Tensor {
  const square = image.width === size && image.height === size ? image : resampleLanczos(image, size, size);
  const plane = size * size;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[c * plane + i] = (square.rgb[i * 3 + c]! / 255 - CLIP_IMAGE_MEAN[c]!) / CLIP_IMAGE_STD[c]!;
  }
  return { dims: [1, 3, size, size], data };
}
