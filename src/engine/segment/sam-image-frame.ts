/**
 * SAM's input frame and its way back (Kirillov et al. 2023, `ResizeLongestSide` and `postprocess_masks`): the
 * image is resized so its longest side is the encoder's input size S (1024), each side rounded to the nearest
 * pixel, normalized with ImageNet statistics and zero-padded at the right and bottom to S x S. Boxes scale by the
 * same per-axis factors. A mask's logits come back at 4G x 4G (256), are resized bilinearly to S x S, cropped to
 * the resized image and resized bilinearly to the image; positive logits are the mask.
 */
import type { RgbImage } from '../rgb-image.ts';
import { createTensor, type Tensor } from '../tensor.ts';
import { BILINEAR_FILTER, computeResampleTaps } from '../upscale/resample-taps.ts';
import { SAM_PROFILE } from './sam-layout.ts';

/** Where an image sits in the encoder's S x S input. */
export interface SamFrame {
  /** The original image's size. */
  width: number;
  height: number;
  /** The resized image's size inside the frame (the rest is padding). */
  resizedWidth: number;
  resizedHeight: number;
  /** The encoder's input side S. */
  size: number;
}

/** A box in image pixels: x1, y1 (top-left) and x2, y2 (bottom-right). */
export type SamBox = readonly [number, number, number, number];

export function computeSamFrame(width: number, height: number, size: number): SamFrame {
  const scale = size / Math.max(width, height);
  // `int(x + 0.5)`: round half up, as the published preprocessing does.
  return { width, height, resizedWidth: Math.floor(width * scale + 0.5), resizedHeight: Math.floor(height * scale + 0.5), size };
}

/** A box in image pixels -> the same box in the frame's pixels (per-axis scale, no padding offset). */
export function mapBoxToFrame(box: SamBox, frame: SamFrame): [number, number, number, number] {
  const sx = frame.resizedWidth / frame.width;
  const sy = frame.resizedHeight / frame.height;
  return [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
}

/**
 * Resizes interleaved RGB bytes to `width` x `height` float planes [3, height, width] (0..255) with Pillow's
 * `BILINEAR` filter, which the published preprocessing uses.
 */
function resizeToPlanes(image: RgbImage, width: number, height: number): Float32Array {
  const cols = computeResampleTaps(image.width, width, BILINEAR_FILTER);
  const rows = computeResampleTaps(image.height, height, BILINEAR_FILTER);
  const wide = new Float32Array(image.height * width * 3); // rows resized first: [H, width, 3]
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = 0; t < cols.count[x]!; t++) s += cols.weights[x * cols.stride + t]! * image.rgb[(y * image.width + cols.start[x]! + t) * 3 + c]!;
        wide[(y * width + x) * 3 + c] = s;
      }
    }
  }
  const out = new Float32Array(3 * width * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let t = 0; t < rows.count[y]!; t++) s += rows.weights[y * rows.stride + t]! * wide[((rows.start[y]! + t) * width + x) * 3 + c]!;
        out[(c * height + y) * width + x] = Math.min(255, Math.max(0, s));
      }
    }
  }
  return out;
}

/** The encoder's input: the resized image normalized with ImageNet statistics, zero-padded: [1, 3, S, S]. */
export function toSamEncoderInput(image: RgbImage, frame: SamFrame): Tensor {
  const { resizedWidth: w, resizedHeight: h, size } = frame;
  const planes = resizeToPlanes(image, w, h);
  const out = createTensor([1, 3, size, size]);
  for (let c = 0; c < 3; c++) {
    const mean = SAM_PROFILE.pixelMean[c]!;
    const std = SAM_PROFILE.pixelStd[c]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) out.data[(c * size + y) * size + x] = (planes[(c * h + y) * w + x]! - mean) / std;
    }
  }
  return out;
}

/**
 * Bilinear resize of a [inH, inW] plane to [outH, outW] with half-pixel centres and no antialiasing, the
 * behaviour of `F.interpolate(mode="bilinear", align_corners=False)`; reads only the top-left `srcW` x `srcH` of
 * a plane `stride` wide (a crop without a copy) and computes only the top-left `keepW` x `keepH` of the result
 * (the crop that follows, without the pixels it would drop).
 */
export function resizeBilinear(plane: Float32Array, stride: number, srcW: number, srcH: number, outW: number, outH: number, keepW = outW, keepH = outH): Float32Array {
  const out = new Float32Array(keepW * keepH);
  const sx = srcW / outW;
  const sy = srcH / outH;
  const xs0 = new Int32Array(keepW);
  const xs1 = new Int32Array(keepW);
  const fx = new Float64Array(keepW);
  for (let x = 0; x < keepW; x++) {
    const src = Math.max(0, (x + 0.5) * sx - 0.5);
    xs0[x] = Math.min(Math.floor(src), srcW - 1);
    xs1[x] = Math.min(xs0[x]! + 1, srcW - 1);
    fx[x] = src - xs0[x]!;
  }
  for (let y = 0; y < keepH; y++) {
    const src = Math.max(0, (y + 0.5) * sy - 0.5);
    const y0 = Math.min(Math.floor(src), srcH - 1);
    const y1 = Math.min(y0 + 1, srcH - 1);
    const fy = src - y0;
    for (let x = 0; x < keepW; x++) {
      const top = plane[y0 * stride + xs0[x]!]! * (1 - fx[x]!) + plane[y0 * stride + xs1[x]!]! * fx[x]!;
      const bottom = plane[y1 * stride + xs0[x]!]! * (1 - fx[x]!) + plane[y1 * stride + xs1[x]!]! * fx[x]!;
      out[y * keepW + x] = top * (1 - fy) + bottom * fy;
    }
  }
  return out;
}

/** Low-resolution logits [side, side] -> the frame S x S -> crop to the resized image -> the image's size. */
export function logitsToImage(lowRes: Float32Array, side: number, frame: SamFrame): Float32Array {
  const { resizedWidth: w, resizedHeight: h } = frame;
  const cropped = resizeBilinear(lowRes, side, side, side, frame.size, frame.size, w, h); // [h, w]
  return resizeBilinear(cropped, w, w, h, frame.width, frame.height);
}
