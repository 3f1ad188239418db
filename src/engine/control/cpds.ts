/**
 * Fooocus's CPDS preprocessor (contrast-preserving decolorized structure) for its cpds control-LoRA: a light
 * Gaussian blur, the contrast-preserving decolorization, plus how far each pixel's colour moved when its lightness
 * was replaced by the grey, stretched between the 4th and 96th percentiles.
 */
import type { RgbImage } from '../rgb-image.ts';
import { decolorize } from './decolorization.ts';
import type { GrayImage } from './gray-image.ts';
import { stretchToBytes } from './percentile.ts';

export const CPDS_BLUR_SIGMA = 0.8;

/**
 * The Gaussian kernel OpenCV uses to blur 8-bit images when only sigma is given: size round(6 sigma + 1) made
 * odd, normalised, then in 8-bit fixed point (sum exactly 256) with the rounding error of each outer tap carried
 * into the next, the centre taking what is left.
 */
export function gaussianKernelOf(sigma: number): Int32Array {
  const size = Math.round(sigma * 3 * 2 + 1) | 1;
  const half = (size - 1) / 2;
  const exact = Float64Array.from({ length: size }, (_, i) => Math.exp(-((i - half) ** 2) / (2 * sigma * sigma)));
  const sum = exact.reduce((a, b) => a + b, 0);
  const fixed = new Int32Array(size);
  let carried = 0;
  let outer = 0;
  for (let i = 0; i < half; i++) {
    const adjusted = (exact[i]! / sum) * 256 + carried;
    const v = Math.round(adjusted);
    carried = adjusted - v;
    fixed[i] = v;
    fixed[size - 1 - i] = v;
    outer += 2 * v;
  }
  fixed[half] = 256 - outer;
  return fixed;
}

/** Index reflected about the edge pixel without repeating it (OpenCV's default BORDER_REFLECT_101). */
function reflect101(i: number, size: number): number {
  if (size === 1) return 0;
  let j = i;
  while (j < 0 || j >= size) j = j < 0 ? -j : 2 * (size - 1) - j;
  return j;
}

/**
 * Separable Gaussian blur of interleaved 8-bit RGB in OpenCV's bit-exact integer arithmetic: rows in 8 fraction
 * bits, columns in 16, rounded once at the end.
 */
export function blurGaussian(image: RgbImage, sigma: number): Uint8Array {
  const { width, height, rgb } = image;
  const kernel = gaussianKernelOf(sigma);
  const half = (kernel.length - 1) / 2;
  const rows = new Int32Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < kernel.length; k++) s += kernel[k]! * rgb[(y * width + reflect101(x + k - half, width)) * 3 + c]!;
        rows[(y * width + x) * 3 + c] = s;
      }
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let k = 0; k < kernel.length; k++) s += kernel[k]! * rows[(reflect101(y + k - half, height) * width + x) * 3 + c]!;
        out[(y * width + x) * 3 + c] = Math.min(255, (s + 32768) >>> 16);
      }
  return out;
}

/** The CPDS control map of an RGB image, at its size. */
export function computeCpds(image: RgbImage): GrayImage {
  const { width, height } = image;
  const blurred = blurGaussian(image, CPDS_BLUR_SIGMA);
  const { gray, boost } = decolorize(blurred, width, height);
  const structure = new Float32Array(width * height);
  for (let i = 0; i < structure.length; i++) {
    let squared = 0;
    for (let c = 0; c < 3; c++) squared = Math.fround(squared + (blurred[i * 3 + c]! - boost[i * 3 + c]!) ** 2);
    structure[i] = Math.fround(gray[i]! + Math.fround(Math.sqrt(squared)));
  }
  return { width, height, data: stretchToBytes(structure, 4, 96) };
}
