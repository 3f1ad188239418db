/**
 * GroundingDINO's image input, as transformers' `GroundingDinoImageProcessor` prepares it: resized so the shorter
 * side is 800 unless that makes the longer side exceed 1333 (then the longer side is 1333), with Pillow's
 * bilinear filter (a triangle kernel widened by the scale on a downscale) to 8-bit, then scaled to 0..1 and
 * normalized with the ImageNet mean and deviation.
 */
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';
import { BILINEAR_FILTER, computeResampleTaps } from '../upscale/resample-taps.ts';

export const GROUNDING_SHORT_SIDE = 800;
export const GROUNDING_LONG_SIDE_MAX = 1333;
const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** (width, height) of the model's input for an image of the given size (transformers' resize rule). */
export function groundingInputSize(width: number, height: number): [number, number] {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  let size = GROUNDING_SHORT_SIDE;
  if ((long / short) * size > GROUNDING_LONG_SIDE_MAX) size = Math.round((GROUNDING_LONG_SIDE_MAX * short) / long);
  if (short === size) return [width, height];
  return width < height ? [size, Math.trunc((size * height) / width)] : [Math.trunc((size * width) / height), size];
}

/** Pillow-style bilinear resize of 8-bit RGB (rounded and clamped once, after both passes). */
export function resampleBilinear(image: RgbImage, width: number, height: number): RgbImage {
  if (width === image.width && height === image.height) return { width, height, rgb: image.rgb.slice() };
  const cols = computeResampleTaps(image.width, width, BILINEAR_FILTER);
  const rows = computeResampleTaps(image.height, height, BILINEAR_FILTER);
  const mid = new Float32Array(image.height * width * 3);
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < cols.count[x]!; k++) s += cols.weights[x * cols.stride + k]! * image.rgb[(y * image.width + cols.start[x]! + k) * 3 + c]!;
        mid[(y * width + x) * 3 + c] = s;
      }
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < rows.count[y]!; k++) s += rows.weights[y * rows.stride + k]! * mid[((rows.start[y]! + k) * width + x) * 3 + c]!;
        rgb[(y * width + x) * 3 + c] = Math.min(255, Math.max(0, Math.round(s)));
      }
    }
  }
  return { width, height, rgb };
}

/** The model's pixel_values [1, 3, H, W] for `image`. */
export function preprocessGroundingImage(image: RgbImage): Tensor {
  const [width, height] = groundingInputSize(image.width, image.height);
  const resized = resampleBilinear(image, width, height);
  const plane = width * height;
  const data = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    for (let c = 0; c < 3; c++) data[c * plane + i] = (resized.rgb[i * 3 + c]! / 255 - IMAGENET_MEAN[c]!) / IMAGENET_STD[c]!;
  }
  return { dims: [1, 3, height, width], data };
}
