/**
 * Fooocus's PyraCanny preprocessor: per-channel Canny at nine scales, blended coarse to fine, channels summed,
 * stretched between the 1st and 99th percentiles. The pyramid exists because Stability's canny control-LoRA
 * responds to edges drawn at several resolutions; one scale misses structure that another catches.
 */
import type { RgbImage } from '../rgb-image.ts';
import { detectCannyEdges } from './canny.ts';
import { extractChannel, type GrayImage } from './gray-image.ts';
import { resizeLinear, shrinkByArea } from './image-resize.ts';
import { stretchToBytes } from './percentile.ts';

export const PYRAMID_CANNY_LOW_THRESHOLD = 64;
export const PYRAMID_CANNY_HIGH_THRESHOLD = 128;
/** Fractions of the image size, coarse to fine. */
export const PYRAMID_CANNY_SCALES: readonly number[] = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

export interface PyramidCannyOptions {
  lowThreshold?: number;
  highThreshold?: number;
}

/** Canny of each channel of interleaved RGB, as three interleaved float planes of 0 or 1. */
function detectColorEdges(rgb: Uint8Array, width: number, height: number, low: number, high: number): Float32Array {
  const out = new Float32Array(width * height * 3);
  for (let c = 0; c < 3; c++) {
    const edges = detectCannyEdges(extractChannel(rgb, width, height, 3, c), width, height, low, high);
    for (let i = 0; i < edges.length; i++) out[i * 3 + c] = edges[i]! / 255;
  }
  return out;
}

/**
 * Edge strengths per channel accumulated over the pyramid: at each scale (size truncated, as `int(H * k)`) the
 * image is shrunk by area, the running map is resized to that scale bilinearly and blended 3:1 with the new
 * edges. Returns [height, width, 3] float32 at the full size.
 */
export function accumulatePyramidEdges(image: RgbImage, options: PyramidCannyOptions = {}): Float32Array {
  const low = options.lowThreshold ?? PYRAMID_CANNY_LOW_THRESHOLD;
  const high = options.highThreshold ?? PYRAMID_CANNY_HIGH_THRESHOLD;
  let acc: Float32Array | null = null;
  let accWidth = 0;
  let accHeight = 0;
  for (const k of PYRAMID_CANNY_SCALES) {
    const h = Math.trunc(image.height * k);
    const w = Math.trunc(image.width * k);
    if (w < 1 || h < 1) throw new Error(`image ${image.width}x${image.height} is too small for the edge pyramid (scale ${k} gives ${w}x${h})`);
    const edges = detectColorEdges(shrinkByArea(image.rgb, image.width, image.height, 3, w, h), w, h, low, high);
    if (acc === null) {
      acc = edges;
    } else {
      const resized = resizeLinear(acc, accWidth, accHeight, 3, w, h);
      for (let i = 0; i < resized.length; i++) resized[i] = Math.fround(resized[i]! * 0.75) + Math.fround(edges[i]! * 0.25);
      acc = resized;
    }
    accWidth = w;
    accHeight = h;
  }
  return acc!;
}

/** The PyraCanny control map of an RGB image, at its size. */
export function computePyramidCanny(image: RgbImage, options: PyramidCannyOptions = {}): GrayImage {
  const acc = accumulatePyramidEdges(image, options);
  const summed = new Float32Array(image.width * image.height);
  for (let i = 0; i < summed.length; i++) summed[i] = Math.fround(Math.fround(acc[i * 3]! + acc[i * 3 + 1]!) + acc[i * 3 + 2]!);
  return { width: image.width, height: image.height, data: stretchToBytes(summed, 1, 99) };
}
