/**
 * How the sampling hands over from the base model to the refiner (Fooocus's "refiner swap method"):
 * - joint: one sampling run whose denoiser switches model at the switch step; the sampler keeps its state
 *   (multistep history, noise) across the switch;
 * - separate: the base samples up to the switch step, then a second run starts there with the refiner alone (the
 *   sampler starts afresh, as a second sampler call does);
 * - vae: as separate, but between the runs the base's estimate of the clean image is decoded with the base VAE and
 *   encoded with the refiner's, and re-noised with the same noise to the switch step's sigma (for a refiner whose
 *   latent space is not the base's).
 */
import type { Sampler, SampleContext } from '../sampling/sampler-types.ts';
import type { Tensor } from '../tensor.ts';
import { createUnetDenoiser, type DenoiserOptions, type DenoiserStage } from './unet-denoiser.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import { decodeLatent, encodeToLatent } from './vae-codec.ts';
import type { RefinerSwitchMethod } from '../request-limits.ts';

/** What the pipeline did before the choice existed, and Fooocus's default. */
export const DEFAULT_REFINER_SWITCH_METHOD: RefinerSwitchMethod = 'joint';

/** The latent codecs the vae method passes through, with each model's latent scale. */
export interface SwitchCodecs {
  baseDecoder: ModelSession;
  baseScale: number;
  refinerEncoder: ModelSession;
  refinerScale: number;
}

export interface RefinedSampling {
  sampler: Sampler;
  sigmas: Float64Array;
  base: DenoiserStage;
  refiner: DenoiserStage;
  /** First step the refiner runs (0 < switchStep < steps). */
  switchStep: number;
  method: Exclude<RefinerSwitchMethod, 'joint'>;
  /** Everything a denoiser takes but the stages and the step counter. */
  denoiser: Omit<DenoiserOptions, 'base' | 'refiner' | 'currentStep'>;
  /** The sampler context; `onStep` gets the step counted over the whole schedule. */
  context: SampleContext;
  /** Needed by the vae method. */
  codecs?: SwitchCodecs;
}

/** Samples with two sampler runs (separate or vae method); x: [1, C, h, w] at sigmas[0]. */
export async function sampleInTwoRuns(x: Tensor, s: RefinedSampling): Promise<Tensor> {
  const steps = s.sigmas.length - 1;
  const denoiserFor = (stage: DenoiserStage) => createUnetDenoiser({ ...s.denoiser, base: stage, currentStep: () => 0 });
  const run = (stage: DenoiserStage, start: Tensor, from: number, to: number): Promise<Tensor> =>
    s.sampler(denoiserFor(stage), start, s.sigmas.slice(from, to + 1), {
      ...s.context,
      onStep: (i, _total, xi, denoised) => s.context.onStep?.(from + i, steps, xi, denoised),
    });

  // 1. the base model from sigma_0 to the switch
  const handedOver = await run(s.base, x, 0, s.switchStep);
  // 2. the latent the refiner starts from (vae: the base's clean-image estimate at the switch, through both VAEs)
  let start = handedOver;
  if (s.method === 'vae') {
    const denoised = await denoiserFor(s.base)(handedOver, s.sigmas[s.switchStep]!, s.context.signal);
    start = await throughVaes(handedOver, denoised, s.codecs, s.context.signal);
  }
  // 3. the refiner from the switch to the end
  return run(s.refiner, start, s.switchStep, steps);
}

/**
 * x0 estimate -> base VAE decode -> refiner VAE encode, then x = x0' + sigma * eps with the noise the base run's
 * latent carries (eps = (x - x0) / sigma), so the refiner continues at the same noise level.
 */
async function throughVaes(x: Tensor, denoised: Tensor, codecs: SwitchCodecs | undefined, signal?: AbortSignal): Promise<Tensor> {
  if (codecs === undefined) throw new Error('the vae refiner switch needs the base VAE decoder and the refiner VAE encoder');
  const unscaled: Tensor = { dims: denoised.dims, data: denoised.data.map((v) => v / codecs.baseScale) };
  const image = await decodeLatent(codecs.baseDecoder, unscaled, signal ? { signal } : {});
  const encoded = await encodeToLatent(codecs.refinerEncoder, image, signal);
  if (encoded.data.length !== x.data.length) throw new Error(`the refiner's latent [${encoded.dims.join(', ')}] does not match the base's [${x.dims.join(', ')}]`);
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = encoded.data[i]! * codecs.refinerScale + (x.data[i]! - denoised.data[i]!);
  return { dims: x.dims, data }; // [1, C, h, w]
}
