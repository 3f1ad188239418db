/**
 * Runs an upscaler over an image in overlapping tiles, so the network's activations stay bounded by the tile size
 * whatever the image size, and blends neighbouring tiles with linear feathering across their overlap (the way
 * ComfyUI's tiled upscale does). Output rows are finished one row of tiles at a time, so besides the 8-bit result
 * only one stripe of float accumulators is held: a 4096 x 4096 result needs about one tile row's worth of floats.
 *
 * Inside a tile's core (its pixels no other tile overlaps) the result is that tile's output alone; it equals the
 * untiled network's output when the overlap exceeds the network's receptive radius (see the tests, which state
 * the seam error measured for real overlaps).
 */
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';
import type { LoadedUpscaler } from './load-upscaler.ts';

export interface UpscaleOptions {
  /** Tile side in input pixels (default 256) and overlap between neighbours (default 32). */
  tile?: number;
  overlap?: number;
  signal?: AbortSignal;
  onTile?: (done: number, total: number) => void;
}

export const DEFAULT_UPSCALE_TILE = 256;
export const DEFAULT_UPSCALE_OVERLAP = 32;

/** Start offsets covering `size` with tiles of `tile` that overlap by at least `overlap`. */
export function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const count = Math.ceil((size - overlap) / (tile - overlap));
  return Array.from({ length: count }, (_, i) => Math.round((i * (size - tile)) / (count - 1)));
}

/** A tile of the image as [1, 3, h, w] floats in 0..1, edge-reflected on the right and bottom up to `padH` x `padW`. */
function readTile(img: RgbImage, x0: number, y0: number, w: number, h: number, padW: number, padH: number): Tensor {
  const data = new Float32Array(3 * padW * padH);
  const plane = padW * padH;
  for (let y = 0; y < padH; y++) {
    const sy = y0 + (y < h ? y : Math.max(0, 2 * h - 2 - y));
    for (let x = 0; x < padW; x++) {
      const sx = x0 + (x < w ? x : Math.max(0, 2 * w - 2 - x));
      const p = (sy * img.width + sx) * 3;
      const o = y * padW + x;
      data[o] = img.rgb[p]! / 255;
      data[plane + o] = img.rgb[p + 1]! / 255;
      data[2 * plane + o] = img.rgb[p + 2]! / 255;
    }
  }
  return { dims: [1, 3, padH, padW], data };
}

/** Feather weight of a pixel at distance `d` from a tile edge that borders another tile. */
function feather(d: number, ramp: number): number {
  return Math.min(1, (d + 0.5) / ramp);
}

/** Float accumulators for output rows [top, top + rows). */
interface Stripe {
  top: number;
  rows: number;
  sum: Float32Array;
  weight: Float32Array;
}

function newStripe(top: number, rows: number, width: number): Stripe {
  return { top, rows, sum: new Float32Array(rows * width * 3), weight: new Float32Array(rows * width) };
}

/** Writes output rows [stripe.top, until) as 8-bit (clamped to 0..1, then truncated like Fooocus's conversion). */
function flushRows(stripe: Stripe, until: number, out: RgbImage): void {
  for (let y = stripe.top; y < until; y++) {
    const r = y - stripe.top;
    for (let x = 0; x < out.width; x++) {
      const w = stripe.weight[r * out.width + x]!;
      for (let c = 0; c < 3; c++) {
        const v = stripe.sum[(r * out.width + x) * 3 + c]! / w;
        out.rgb[(y * out.width + x) * 3 + c] = Math.min(1, Math.max(0, v)) * 255;
      }
    }
  }
}

/** Keeps rows [from, stripe end) of `stripe` and extends it to `rows` rows starting at `from`. */
function carryStripe(stripe: Stripe, from: number, rows: number, width: number): Stripe {
  const next = newStripe(from, rows, width);
  const keep = Math.max(0, stripe.top + stripe.rows - from);
  const offset = from - stripe.top;
  next.sum.set(stripe.sum.subarray(offset * width * 3, (offset + keep) * width * 3));
  next.weight.set(stripe.weight.subarray(offset * width, (offset + keep) * width));
  return next;
}

/** Upscales an image by the model's scale, tile by tile. */
export async function upscaleImage(upscaler: LoadedUpscaler, image: RgbImage, options: UpscaleOptions = {}): Promise<RgbImage> {
  const s = upscaler.scale;
  const unit = upscaler.layout.kind === 'rrdb' ? upscaler.layout.unshuffle : 1;
  const tile = Math.max(options.tile ?? DEFAULT_UPSCALE_TILE, 2 * unit);
  const overlap = Math.min(options.overlap ?? DEFAULT_UPSCALE_OVERLAP, Math.floor(tile / 2));
  const ys = tileStarts(image.height, tile, overlap);
  const xs = tileStarts(image.width, tile, overlap);
  const out: RgbImage = { width: image.width * s, height: image.height * s, rgb: new Uint8Array(image.width * s * image.height * s * 3) };
  const th = Math.min(tile, image.height);
  const tw = Math.min(tile, image.width);
  // The network needs sides that are multiples of its pixel-unshuffle factor: tiles are padded by reflection.
  const padH = Math.ceil(th / unit) * unit;
  const padW = Math.ceil(tw / unit) * unit;
  const ramp = overlap * s;
  let stripe = newStripe(0, th * s, out.width);
  let done = 0;
  for (const [row, y0] of ys.entries()) {
    if (row > 0) {
      flushRows(stripe, y0 * s, out);
      stripe = carryStripe(stripe, y0 * s, th * s, out.width);
    }
    for (const x0 of xs) {
      const result = (await upscaler.session.run({ image: readTile(image, x0, y0, tw, th, padW, padH) }, options.signal)).upscaled!; // [1, 3, s*padH, s*padW]
      const [, channels, oh, ow] = result.dims as [number, number, number, number];
      if (channels !== 3 || oh !== padH * s || ow !== padW * s) throw new Error(`${upscaler.name}: a ${padW}x${padH} tile came out as [${result.dims}], expected [1, 3, ${padH * s}, ${padW * s}]`);
      const plane = oh * ow;
      for (let y = 0; y < th * s; y++) {
        const wy = Math.min(y0 > 0 ? feather(y, ramp) : 1, y0 + th < image.height ? feather(th * s - 1 - y, ramp) : 1);
        const r = y0 * s + y - stripe.top;
        for (let x = 0; x < tw * s; x++) {
          const wx = Math.min(x0 > 0 ? feather(x, ramp) : 1, x0 + tw < image.width ? feather(tw * s - 1 - x, ramp) : 1);
          const k = wx * wy;
          const p = r * out.width + x0 * s + x;
          stripe.weight[p]! += k;
          const q = y * ow + x;
          stripe.sum[p * 3]! += k * result.data[q]!;
          stripe.sum[p * 3 + 1]! += k * result.data[plane + q]!;
          stripe.sum[p * 3 + 2]! += k * result.data[2 * plane + q]!;
        }
      }
      options.onTile?.(++done, ys.length * xs.length);
    }
  }
  flushRows(stripe, out.height, out);
  return out;
}
