/**
 * Between pixels and latents: VAE decode (whole, or in overlapping tiles so large images fit in bounded memory,
 * the way ComfyUI's tiled decode does) and VAE encode, with the conversions to and from 8-bit RGB.
 */
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';

export type { RgbImage };

export interface TileOptions {
  /** Latents with more than this many positions are decoded in tiles (default 128 x 128, i.e. 1024 x 1024 pixels). */
  maxArea?: number;
  /** Tile side in latent positions (default 64) and overlap between neighbours (default 16). */
  tile?: number;
  overlap?: number;
}

/** [-1, 1] CHW floats to 8-bit RGB, truncating like Fooocus's `(x * 255).clip(0, 255).astype(uint8)`. */
export function toRgb(image: Float32Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < plane; i++) {
      const v = Math.min(1, Math.max(0, (image[c * plane + i]! + 1) / 2)) * 255;
      rgb[i * 3 + c] = v;
    }
  }
  return rgb;
}

/** 8-bit RGB to [1, 3, H, W] floats in [-1, 1]. */
export function fromRgb(img: RgbImage): Tensor {
  const plane = img.width * img.height;
  const data = new Float32Array(plane * 3);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) data[c * plane + i] = (img.rgb[i * 3 + c]! / 255) * 2 - 1;
  return { dims: [1, 3, img.height, img.width], data };
}

/** Every SD VAE maps 8x8 pixels to one latent position; a decoder that does not is refused before its output is read. */
function checkDecoded(out: Tensor, h: number, w: number): Float32Array {
  const [, channels, height, width] = out.dims as [number, number, number, number];
  if (channels !== 3 || height !== h * 8 || width !== w * 8) {
    throw new Error(`the VAE decoder turned a ${h}x${w} latent into [${out.dims}], expected [1, 3, ${h * 8}, ${w * 8}]; only 8x VAEs are supported`);
  }
  return out.data;
}

function cropLatent(latent: Tensor, y0: number, x0: number, h: number, w: number): Tensor {
  const [, channels, height, width] = latent.dims as [number, number, number, number];
  const data = new Float32Array(channels * h * w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < h; y++) {
      const src = (c * height + y0 + y) * width + x0;
      data.set(latent.data.subarray(src, src + w), (c * h + y) * w);
    }
  }
  return { dims: [1, channels, h, w], data };
}

/** Start offsets covering `size` with tiles of `tile` that overlap by at least `overlap`. */
function tileStarts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const count = Math.ceil((size - overlap) / (tile - overlap));
  return Array.from({ length: count }, (_, i) => Math.round((i * (size - tile)) / (count - 1)));
}

/** Feather weight of a pixel at distance `d` from a tile edge that borders another tile. */
function feather(d: number, ramp: number): number {
  return Math.min(1, (d + 0.5) / ramp);
}

/**
 * Decodes an unscaled latent [1, 4, h, w] (already divided by the family's latent scale) to RGB. Large latents go
 * through overlapping tiles blended with linear feathering, so memory stays bounded by the tile size.
 */
export async function decodeLatent(vae: ModelSession, latent: Tensor, options: TileOptions & { signal?: AbortSignal; onTile?: (done: number, total: number) => void } = {}): Promise<RgbImage> {
  const [, , h, w] = latent.dims as [number, number, number, number];
  const maxArea = options.maxArea ?? 128 * 128;
  if (h * w <= maxArea) {
    const out = checkDecoded((await vae.run({ latent }, options.signal)).image!, h, w);
    options.onTile?.(1, 1);
    return { width: w * 8, height: h * 8, rgb: toRgb(out, w * 8, h * 8) };
  }
  const tile = options.tile ?? 64;
  const overlap = options.overlap ?? 16;
  const ys = tileStarts(h, tile, overlap);
  const xs = tileStarts(w, tile, overlap);
  const W = w * 8;
  const H = h * 8;
  const sum = new Float32Array(3 * W * H);
  const weight = new Float32Array(W * H);
  const ramp = overlap * 8;
  let done = 0;
  for (const y0 of ys) {
    for (const x0 of xs) {
      const th = Math.min(tile, h);
      const tw = Math.min(tile, w);
      const out = checkDecoded((await vae.run({ latent: cropLatent(latent, y0, x0, th, tw) }, options.signal)).image!, th, tw); // [1, 3, 8th, 8tw]
      const ph = th * 8;
      const pw = tw * 8;
      for (let y = 0; y < ph; y++) {
        const wy = Math.min(y0 > 0 ? feather(y, ramp) : 1, y0 + th < h ? feather(ph - 1 - y, ramp) : 1);
        for (let x = 0; x < pw; x++) {
          const wx = Math.min(x0 > 0 ? feather(x, ramp) : 1, x0 + tw < w ? feather(pw - 1 - x, ramp) : 1);
          const k = wx * wy;
          const p = (y0 * 8 + y) * W + x0 * 8 + x;
          weight[p]! += k;
          for (let c = 0; c < 3; c++) sum[c * W * H + p]! += k * out[(c * ph + y) * pw + x]!;
        }
      }
      options.onTile?.(++done, ys.length * xs.length);
    }
  }
  for (let c = 0; c < 3; c++) for (let p = 0; p < W * H; p++) sum[c * W * H + p]! /= weight[p]!;
  return { width: W, height: H, rgb: toRgb(sum, W, H) };
}

/** Encodes RGB to the posterior-mean latent [1, 4, H/8, W/8] (not yet multiplied by the latent scale). */
export async function encodeToLatent(vae: ModelSession, image: RgbImage, signal?: AbortSignal): Promise<Tensor> {
  if (image.width % 8 !== 0 || image.height % 8 !== 0) throw new RangeError(`input image size ${image.width}x${image.height} must be a multiple of 8`);
  const latent = (await vae.run({ image: fromRgb(image) }, signal)).latent!;
  if (latent.dims[2] !== image.height / 8 || latent.dims[3] !== image.width / 8) {
    throw new Error(`the VAE encoder turned a ${image.width}x${image.height} image into [${latent.dims}]; only 8x VAEs are supported`);
  }
  return latent;
}

function cropImage(img: RgbImage, x0: number, y0: number, width: number, height: number): RgbImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) rgb.set(img.rgb.subarray(((y0 + y) * img.width + x0) * 3, ((y0 + y) * img.width + x0 + width) * 3), y * width * 3);
  return { width, height, rgb };
}

/**
 * Encodes like `encodeToLatent`, but an image larger than `maxArea` latent positions goes through overlapping
 * tiles (sides and overlap in latent positions, 8 pixels each) whose latents are blended with linear feathering,
 * so memory stays bounded by the tile (ComfyUI's tiled encode, which Fooocus's upscale uses). Each tile's
 * GroupNorm and attention see only that tile, so the result is close to, not equal to, the whole encode.
 */
export async function encodeToLatentTiled(vae: ModelSession, image: RgbImage, options: TileOptions & { signal?: AbortSignal; onTile?: (done: number, total: number) => void } = {}): Promise<Tensor> {
  const h = image.height / 8;
  const w = image.width / 8;
  if (!Number.isInteger(h) || !Number.isInteger(w) || h * w <= (options.maxArea ?? 128 * 128)) {
    const latent = await encodeToLatent(vae, image, options.signal);
    options.onTile?.(1, 1);
    return latent;
  }
  const tile = options.tile ?? 64;
  const overlap = options.overlap ?? 16;
  const ys = tileStarts(h, tile, overlap);
  const xs = tileStarts(w, tile, overlap);
  const th = Math.min(tile, h);
  const tw = Math.min(tile, w);
  let channels = 0;
  let sum = new Float32Array(0);
  const weight = new Float32Array(h * w);
  let done = 0;
  for (const y0 of ys) {
    for (const x0 of xs) {
      const part = await encodeToLatent(vae, cropImage(image, x0 * 8, y0 * 8, tw * 8, th * 8), options.signal); // [1, C, th, tw]
      if (channels === 0) {
        channels = part.dims[1]!;
        sum = new Float32Array(channels * h * w);
      }
      for (let y = 0; y < th; y++) {
        const wy = Math.min(y0 > 0 ? feather(y, overlap) : 1, y0 + th < h ? feather(th - 1 - y, overlap) : 1);
        for (let x = 0; x < tw; x++) {
          const k = wy * Math.min(x0 > 0 ? feather(x, overlap) : 1, x0 + tw < w ? feather(tw - 1 - x, overlap) : 1);
          const p = (y0 + y) * w + x0 + x;
          weight[p]! += k;
          for (let c = 0; c < channels; c++) sum[c * h * w + p]! += k * part.data[(c * th + y) * tw + x]!;
        }
      }
      options.onTile?.(++done, ys.length * xs.length);
    }
  }
  for (let c = 0; c < channels; c++) for (let p = 0; p < h * w; p++) sum[c * h * w + p]! /= weight[p]!;
  return { dims: [1, channels, h, w], data: sum };
}
