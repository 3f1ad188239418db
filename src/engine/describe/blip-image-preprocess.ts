/**
 * An image as BLIP's encoder reads it, the way Fooocus prepares it: the 0..1 pixel values stretched (not cropped)
 * to the encoder's square size with an antialiased bicubic filter (Keys 1981, a = -0.5, widened by the scale
 * factor on a downscale, as Pillow and torchvision's antialiased resize do), then normalized with CLIP's mean and
 * standard deviation. Values are not rounded back to 8 bits in between (Fooocus resizes the float tensor).
 */
import { CLIP_IMAGE_MEAN, CLIP_IMAGE_STD } from '../ip-adapter/clip-image-preprocess.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';
import { BICUBIC_FILTER, computeResampleTaps } from '../upscale/resample-taps.ts';

/** [1, 3, size, size] float32, channel-planar. */
export function preprocessBlipImage(image: RgbImage, size: number): Tensor {
  const { width, height, rgb } = image;
  // 1. rows: width -> size, per channel plane, in 0..1
  const across = computeResampleTaps(width, size, BICUBIC_FILTER);
  const rows = new Float64Array(3 * height * size);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < size; x++) {
      const lo = across.start[x]!;
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < across.count[x]!; k++) s += across.weights[x * across.stride + k]! * rgb[(y * width + lo + k) * 3 + c]!;
        rows[(c * height + y) * size + x] = s / 255;
      }
    }
  }
  // 2. columns: height -> size, then normalize
  const down = computeResampleTaps(height, size, BICUBIC_FILTER);
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      const lo = down.start[y]!;
      for (let x = 0; x < size; x++) {
        let s = 0;
        for (let k = 0; k < down.count[y]!; k++) s += down.weights[y * down.stride + k]! * rows[(c * height + lo + k) * size + x]!;
        data[(c * size + y) * size + x] = (s - CLIP_IMAGE_MEAN[c]!) / CLIP_IMAGE_STD[c]!;
      }
    }
  }
  return { dims: [1, 3, size, size], data };
}
