/**
 * An image as BLIP's encoder reads it, the way Fooocus prepares it: the 0..1 pixel values stretched (not cropped)
 * to the encoder's square size with an antialiased bicubic filter (Keys 1981, a = -0.5, widened by the scale
 * factor on a downscale, as Pillow and torchvision's antialiased resize do), then normalized with CLIP's mean and
 * standard deviation. Values are not rounded back to 8 bits in between (Fooocus resizes the float tensor).
 */
import { CLIP_IMAGE_MEAN, CLIP_IMAGE_STD } from '../ip-adapter/clip-image-preprocess.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';

const SUPPORT = 2;

function cubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t < 1) return ((a + 2) * t - (a + 3)) * t * t + 1;
  if (t < 2) return (((t - 5) * t + 8) * t - 4) * a;
  return 0;
}

/** Per output index: the first source index and the normalized weights of the source pixels it reads. */
function computeTaps(inSize: number, outSize: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT * filterScale;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support + 0.5));
    const hi = Math.min(inSize, Math.floor(centre + support + 0.5));
    const w = new Float64Array(Math.max(hi - lo, 0));
    let total = 0;
    for (let j = lo; j < hi; j++) total += w[j - lo] = cubic((j + 0.5 - centre) / filterScale);
    for (let j = 0; j < w.length; j++) w[j]! /= total;
    start[i] = lo;
    weights.push(w);
  }
  return { start, weights };
}

/** [1, 3, size, size] float32, channel-planar. */
export function preprocessBlipImage(image: RgbImage, size: number): Tensor {
  const { width, height, rgb } = image;
  // 1. rows: width -> size, per channel plane, in 0..1
  const across = computeTaps(width, size);
  const rows = new Float64Array(3 * height * size);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < size; x++) {
      const w = across.weights[x]!;
      const lo = across.start[x]!;
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < w.length; k++) s += w[k]! * rgb[(y * width + lo + k) * 3 + c]!;
        rows[(c * height + y) * size + x] = s / 255;
      }
    }
  }
  // 2. columns: height -> size, then normalize
  const down = computeTaps(height, size);
  const data = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < size; y++) {
      const w = down.weights[y]!;
      const lo = down.start[y]!;
      for (let x = 0; x < size; x++) {
        let s = 0;
        for (let k = 0; k < w.length; k++) s += w[k]! * rows[(c * height + lo + k) * size + x]!;
        data[(c * size + y) * size + x] = (s - CLIP_IMAGE_MEAN[c]!) / CLIP_IMAGE_STD[c]!;
      }
    }
  }
  return { dims: [1, 3, size, size], data };
}
