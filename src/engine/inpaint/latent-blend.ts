/**
 * The known latent kept in place while sampling (ComfyUI's KSamplerX0Inpaint, which Fooocus runs for every
 * inpaint): before each model call the area outside the mask is replaced by the known latent plus fresh noise at
 * the current sigma, and the model's estimate there is replaced by the known latent itself. The area inside the
 * mask is the model's alone.
 */
import type { Denoiser } from '../sampling/sampler-types.ts';
import type { Tensor } from '../tensor.ts';

export interface KnownLatent {
  /** [1, C, h, w], in the diffusion's scaled space. */
  latent: Tensor;
  /** [h * w]: 1 where the model generates, 0 where the known latent stays. */
  mask: Float32Array;
  /** Fresh standard-normal noise of the given shape for each call (Fooocus uses its own generator, seed + 1). */
  noise: (dims: readonly number[]) => Float32Array;
}

export function blendKnownLatent(denoise: Denoiser, known: KnownLatent): Denoiser {
  const { latent, mask } = known;
  const plane = mask.length;
  return async (x, sigma, signal) => {
    const energy = known.noise(x.dims);
    const input = new Float32Array(x.data.length);
    for (let i = 0; i < input.length; i++) {
      const m = mask[i % plane]!;
      input[i] = x.data[i]! * m + (latent.data[i]! + energy[i]! * sigma) * (1 - m);
    }
    const out = await denoise({ dims: x.dims, data: input }, sigma, signal);
    const data = new Float32Array(out.data.length);
    for (let i = 0; i < data.length; i++) {
      const m = mask[i % plane]!;
      data[i] = out.data[i]! * m + latent.data[i]! * (1 - m);
    }
    return { dims: out.dims, data };
  };
}

/**
 * The latent-resolution mask of a pixel mask (0 / 255, size a multiple of 8): a latent position is generated when
 * any pixel of its 8x8 block is masked (Fooocus: bilinear to the latent's pixel size, round, 8x8 max-pool).
 */
export function toLatentMask(mask: { width: number; height: number; data: Uint8Array }): Float32Array {
  const w = mask.width / 8;
  const h = mask.height / 8;
  const out = new Float32Array(w * h);
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (mask.data[y * mask.width + x]! > 127) out[Math.floor(y / 8) * w + Math.floor(x / 8)] = 1;
    }
  }
  return out;
}
