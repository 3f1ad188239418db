/**
 * Mask operations of the inpaint pipeline on GreyMask (one byte per pixel, white = repaint): reading a mask from a
 * decoded picture, erode / dilate, invert, the bounding box, and the soft mask the result is pasted back through.
 */
import type { RgbImage } from '../rgb-image.ts';
import type { GreyMask } from './inpaint-settings.ts';

/** A pixel belongs to the mask when its value is over this (Fooocus thresholds at 127 everywhere). */
export const MASK_THRESHOLD = 127;

/**
 * A binary mask (0 / 255) from a decoded picture: the mean of R, G and B over 127 is white, as Fooocus reads an
 * uploaded mask. A decoded PNG with transparency has been composited over white, so a transparent pixel is white.
 */
export function maskFromImage(image: RgbImage): GreyMask {
  const n = image.width * image.height;
  const data = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const mean = (image.rgb[i * 3]! + image.rgb[i * 3 + 1]! + image.rgb[i * 3 + 2]!) / 3;
    data[i] = mean > MASK_THRESHOLD ? 255 : 0;
  }
  return { width: image.width, height: image.height, data };
}

export function invertMask(mask: GreyMask): GreyMask {
  return { width: mask.width, height: mask.height, data: mask.data.map((v) => 255 - v) };
}

/** True when no pixel is over the threshold. */
export function isMaskEmpty(mask: GreyMask): boolean {
  return !mask.data.some((v) => v > MASK_THRESHOLD);
}

/**
 * Chebyshev distance of every pixel to the nearest pixel over the threshold (0 on the mask itself), capped at
 * `cap`: a 3x3 max filter applied d times reaches exactly the pixels within distance d. Two-pass chamfer with
 * unit weights on all 8 neighbours, which is exact for this metric.
 */
export function distanceToMask(mask: GreyMask, cap: number): Uint16Array {
  const { width: w, height: h, data } = mask;
  const far = Math.min(cap, 65535);
  const d = new Uint16Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = data[i]! > MASK_THRESHOLD ? 0 : far;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x > 0) v = Math.min(v, d[i - 1]! + 1);
      if (y > 0) {
        v = Math.min(v, d[i - w]! + 1);
        if (x > 0) v = Math.min(v, d[i - w - 1]! + 1);
        if (x < w - 1) v = Math.min(v, d[i - w + 1]! + 1);
      }
      d[i] = v;
    }
  }
  for (let y = h - 1; y >= 0; y--) {
    for (let x = w - 1; x >= 0; x--) {
      const i = y * w + x;
      let v = d[i]!;
      if (v === 0) continue;
      if (x < w - 1) v = Math.min(v, d[i + 1]! + 1);
      if (y < h - 1) {
        v = Math.min(v, d[i + w]! + 1);
        if (x < w - 1) v = Math.min(v, d[i + w + 1]! + 1);
        if (x > 0) v = Math.min(v, d[i + w - 1]! + 1);
      }
      d[i] = v;
    }
  }
  return d;
}

/**
 * Shrinks the white area by `pixels` (positive) or grows it by -`pixels` (negative): the same as that many passes
 * of a 3x3 min / max filter, which Fooocus runs through OpenCV. The result is binary (0 / 255).
 */
export function erodeOrDilateMask(mask: GreyMask, pixels: number): GreyMask {
  const binary = mask.data.map((v) => (v > MASK_THRESHOLD ? 255 : 0));
  if (pixels === 0) return { width: mask.width, height: mask.height, data: binary };
  if (pixels < 0) {
    const d = distanceToMask(mask, -pixels + 1);
    return { width: mask.width, height: mask.height, data: Uint8Array.from(d, (v) => (v <= -pixels ? 255 : 0)) };
  }
  // Erosion of white is dilation of black; pixels outside the image count as white (OpenCV's default border).
  const d = distanceToMask(invertMask({ width: mask.width, height: mask.height, data: binary }), pixels + 1);
  return { width: mask.width, height: mask.height, data: Uint8Array.from(d, (v) => (v <= pixels ? 0 : 255)) };
}

/** Row and column bounds of the white pixels (inclusive), or null for an empty mask. */
export function maskBounds(mask: GreyMask): { top: number; bottom: number; left: number; right: number } | null {
  let top = mask.height;
  let bottom = -1;
  let left = mask.width;
  let right = -1;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x]! <= MASK_THRESHOLD) continue;
      if (y < top) top = y;
      if (y > bottom) bottom = y;
      if (x < left) left = x;
      if (x > right) right = x;
    }
  }
  return bottom < 0 ? null : { top, bottom, left, right };
}

/**
 * Fooocus grows the mask for pasting back by 32 passes of "3x3 max, minus 8" on values 256 / 0: a pixel at
 * Chebyshev distance d from the mask gets 256 - 8d, so the weight falls from 255 on the mask to 0 at 32 pixels.
 */
export const SOFT_MASK_REACH = 32;
const SOFT_MASK_STEP = 8;

/** The paste-back weight per pixel (0..255): 255 on the mask, feathered to 0 at SOFT_MASK_REACH pixels out. */
export function softenMask(mask: GreyMask): GreyMask {
  const d = distanceToMask(mask, SOFT_MASK_REACH);
  return { width: mask.width, height: mask.height, data: Uint8Array.from(d, (v) => Math.min(255, Math.max(0, 256 - SOFT_MASK_STEP * v))) };
}
