/**
 * SDXL's ADM vector `y` (Podell et al. 2023, "micro-conditioning"): the pooled text embedding followed by Fourier
 * features of the image-size scalars, as ComfyUI builds it (`comfy/model_base.py` `SDXL.encode_adm`,
 * `SDXLRefiner.encode_adm`), plus Fooocus's ADM scaling (`modules/patch.py` `sdxl_encode_adm_patched`, `timed_adm`).
 * Widths are parameters, so the tiny test models (e.g. pooled 64, 32 features per value) run the same code.
 */
import { roundHalfToEven } from './round-half-to-even.ts';

/** Features per scalar in the released SDXL models (`Timestep(256)`). */
export const SDXL_ADM_EMBED_DIM = 256;
/** Fooocus defaults (`PatchSettings`): positive size x1.5, negative x0.8, for the first 30% of the diffusion. */
export const DEFAULT_ADM_SCALER_POSITIVE = 1.5;
export const DEFAULT_ADM_SCALER_NEGATIVE = 0.8;
export const DEFAULT_ADM_SCALER_END = 0.3;
/** ComfyUI `SDXLRefiner.encode_adm` defaults, which Fooocus keeps: 6 for the positive prompt, 2.5 for the negative. */
export const REFINER_POSITIVE_AESTHETIC_SCORE = 6.0;
export const REFINER_NEGATIVE_AESTHETIC_SCORE = 2.5;

const MAX_PERIOD = 10000;
const f32 = Math.fround;

/**
 * Sinusoidal embedding of one scalar (Vaswani et al. 2017 as in `timestep_embedding`, ldm `util.py`, which
 * ComfyUI's `Timestep` module and Fooocus's `patched_timestep_embedding` call): half = dim // 2,
 * freq_i = exp(-ln(10000) * i / half), out = [cos(v * freq_0..half-1), sin(v * freq_0..half-1)] (cos first), a
 * trailing 0 when dim is odd. Each step is rounded to float32 as PyTorch computes it.
 */
export function fourierEmbed(value: number, dim = SDXL_ADM_EMBED_DIM): Float32Array {
  const half = Math.floor(dim / 2);
  const out = new Float32Array(dim); // [dim]; an odd dim leaves the last entry 0
  const negLogPeriod = f32(-Math.log(MAX_PERIOD));
  const v = f32(value);
  for (let i = 0; i < half; i++) {
    const freq = f32(Math.exp(f32(f32(negLogPeriod * i) / half)));
    const arg = f32(v * freq);
    out[i] = Math.cos(arg);
    out[half + i] = Math.sin(arg);
  }
  return out;
}

function concatAdm(pooled: Float32Array, values: readonly number[], embedDim: number): Float32Array {
  const out = new Float32Array(pooled.length + values.length * embedDim); // [pooled + values * embedDim]
  out.set(pooled, 0);
  values.forEach((value, k) => out.set(fourierEmbed(value, embedDim), pooled.length + k * embedDim));
  return out;
}

export interface SdxlAdmInput {
  /** Pooled text embedding (OpenCLIP bigG projection: 1280 in SDXL). */
  pooled: Float32Array;
  /** "Original size" in pixels. ComfyUI/Fooocus default: the latent size x 8. */
  width: number;
  height: number;
  /** Crop offset in pixels; 0 in Fooocus. */
  cropW: number;
  cropH: number;
  targetWidth: number;
  targetHeight: number;
  /** Features per scalar; default 256. */
  embedDim?: number;
}

/**
 * ComfyUI `SDXL.encode_adm`: pooled ++ embed(height) ++ embed(width) ++ embed(crop_h) ++ embed(crop_w) ++
 * embed(target_height) ++ embed(target_width). 1280 + 6 x 256 = 2816 for SDXL base.
 */
export function encodeSdxlAdm(input: SdxlAdmInput): Float32Array {
  const { pooled, width, height, cropW, cropH, targetWidth, targetHeight } = input;
  return concatAdm(pooled, [height, width, cropH, cropW, targetHeight, targetWidth], input.embedDim ?? SDXL_ADM_EMBED_DIM);
}

export interface SdxlRefinerAdmInput {
  pooled: Float32Array;
  width: number;
  height: number;
  cropW: number;
  cropH: number;
  /** REFINER_POSITIVE_AESTHETIC_SCORE or REFINER_NEGATIVE_AESTHETIC_SCORE in Fooocus. */
  aestheticScore: number;
  embedDim?: number;
}

/**
 * ComfyUI `SDXLRefiner.encode_adm`: pooled ++ embed(height) ++ embed(width) ++ embed(crop_h) ++ embed(crop_w) ++
 * embed(aesthetic_score). 1280 + 5 x 256 = 2560 for the SDXL refiner. Fooocus does not scale the refiner's sizes.
 */
export function encodeSdxlRefinerAdm(input: SdxlRefinerAdmInput): Float32Array {
  const { pooled, width, height, cropW, cropH, aestheticScore } = input;
  return concatAdm(pooled, [height, width, cropH, cropW, aestheticScore], input.embedDim ?? SDXL_ADM_EMBED_DIM);
}

/** Fooocus `round_to_64`: int(round(x / 64)) * 64 with Python's half-to-even rounding (96 -> 128, 160 -> 128). */
export function roundToMultipleOf64(value: number): number {
  return roundHalfToEven(value / 64) * 64;
}

/** Fooocus `sdxl_encode_adm_patched` size emphasis: int(float(size) * scaler) per side (truncation, no rounding). */
export function scaledAdmSizes(width: number, height: number, scaler: number): { width: number; height: number } {
  return { width: Math.trunc(width * scaler), height: Math.trunc(height * scaler) };
}

export interface FooocusAdmInput {
  pooled: Float32Array;
  /** The latent size x 8, as ComfyUI's `encode_model_conds` passes it. */
  width: number;
  height: number;
  /** DEFAULT_ADM_SCALER_POSITIVE for the positive prompt, DEFAULT_ADM_SCALER_NEGATIVE for the negative. */
  scaler: number;
  embedDim?: number;
}

/** The two ADM vectors Fooocus concatenates into one 5632-wide `y`; `selectAdm` picks one per step. */
export interface FooocusAdmPair {
  /** "adm_emphasized": original size = scaledAdmSizes(size, scaler), crop 0, target = roundToMultipleOf64(size). */
  scaled: Float32Array;
  /** "adm_consistent": original size = target = roundToMultipleOf64(size), crop 0. */
  original: Float32Array;
}

/** Fooocus `sdxl_encode_adm_patched` for one prompt, split into its two halves. */
export function encodeFooocusSdxlAdm(input: FooocusAdmInput): FooocusAdmPair {
  const { pooled, scaler, embedDim } = input;
  const scaledSize = scaledAdmSizes(input.width, input.height, scaler);
  const targetWidth = roundToMultipleOf64(input.width);
  const targetHeight = roundToMultipleOf64(input.height);
  const common = { pooled, cropW: 0, cropH: 0, targetWidth, targetHeight, ...(embedDim === undefined ? {} : { embedDim }) };
  return {
    scaled: encodeSdxlAdm({ ...common, width: scaledSize.width, height: scaledSize.height }),
    original: encodeSdxlAdm({ ...common, width: targetWidth, height: targetHeight }),
  };
}

/**
 * Fooocus `timed_adm`: the scaled ADM while the model timestep t > 999 * (1 - admScalerEnd) (strictly; t is
 * the integer `ModelSamplingDiscrete.timestep(sigma)`, so with the default 0.3 that is t >= 700, i.e. diffusion
 * progress below 0.3), the original ADM afterwards. Applied to every UNet (and ControlNet) call of SDXL base.
 */
export function selectAdm(scaled: Float32Array, original: Float32Array, timestep: number, admScalerEnd = DEFAULT_ADM_SCALER_END): Float32Array {
  return timestep > 999 * (1 - admScalerEnd) ? scaled : original;
}
