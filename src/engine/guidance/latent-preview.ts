/**
 * Cheap step previews: a per-pixel linear map from the 4 latent channels to RGB, ComfyUI's `Latent2RGBPreviewer`
 * (`latent_preview.py`) with the published `latent_rgb_factors` / `latent_rgb_factors_bias` of
 * `comfy/latent_formats.py`. No model is run; the image has the latent's resolution (1/8 of the output).
 */
import type { Tensor } from '../tensor.ts';
import { roundHalfToEven } from './round-half-to-even.ts';

export type PreviewFamily = 'sd15' | 'sdxl';

export interface LatentRgbMap {
  /** [latent channel][R, G, B]. */
  factors: readonly (readonly [number, number, number])[];
  bias: readonly [number, number, number];
}

/**
 * `comfy/latent_formats.py`: SD15 (no bias) and SDXL (the refit factors with a bias; Fooocus's older bundled copy,
 * `ldm_patched/modules/latent_formats.py`, still has the first SDXL fit without a bias). The SDXL map serves the
 * refiner too: both share the SDXL VAE latent space.
 */
export const LATENT_RGB_MAPS: Readonly<Record<PreviewFamily, LatentRgbMap>> = {
  sd15: {
    factors: [
      [0.3512, 0.2297, 0.3227],
      [0.325, 0.4974, 0.235],
      [-0.2829, 0.1762, 0.2721],
      [-0.212, -0.2616, -0.7177],
    ],
    bias: [0, 0, 0],
  },
  sdxl: {
    factors: [
      [0.3651, 0.4232, 0.4341],
      [-0.2533, -0.0042, 0.1068],
      [0.1076, 0.1111, -0.0362],
      [-0.3165, -0.2492, -0.2188],
    ],
    bias: [0.1084, -0.0175, -0.0011],
  },
};

export interface PreviewImage {
  width: number;
  height: number;
  /** Row-major RGBA, alpha 255. */
  rgba: Uint8ClampedArray;
}

/**
 * RGB = latent · factors + bias per pixel (batch item 0), then ComfyUI's `preview_to_image`: clamp to [-1, 1],
 * (v + 1) * 127.5, round half to even, uint8. Arithmetic is rounded to float32 like the PyTorch original.
 */
export function previewLatentToRgb(latent: Tensor, family: PreviewFamily): PreviewImage {
  if (latent.dims.length !== 4 || latent.dims[1] !== 4) {
    throw new Error(`previewLatentToRgb: expected a [B, 4, h, w] latent, got [${latent.dims.join(', ')}]`);
  }
  const [, , height, width] = latent.dims as [number, number, number, number];
  const { factors, bias } = LATENT_RGB_MAPS[family];
  const plane = height * width;
  const rgba = new Uint8ClampedArray(plane * 4); // [h, w, 4]
  for (let p = 0; p < plane; p++) {
    for (let rgb = 0; rgb < 3; rgb++) {
      let v = bias[rgb]!;
      for (let c = 0; c < 4; c++) v += latent.data[c * plane + p]! * factors[c]![rgb]!;
      const clamped = Math.min(1, Math.max(-1, Math.fround(v)));
      rgba[p * 4 + rgb] = roundHalfToEven(Math.fround(Math.fround(clamped + 1) * 127.5));
    }
    rgba[p * 4 + 3] = 255;
  }
  return { width, height, rgba };
}
