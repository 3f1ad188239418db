/**
 * Text-to-image and image-to-image, the way Fooocus runs them. Each image follows the same recipe:
 * 1. encode prompts, 2. prepare latents, 3. denoise, 4. decode.
 */
import { previewLatentToRgb, type PreviewImage } from '../guidance/latent-preview.ts';
import type { CheckpointArchitecture } from '../models/architecture.ts';
import { getFamilyProfile } from '../models/family-profiles.ts';
import type { LoadedCheckpoint } from './load-checkpoint.ts';
import { TorchGenerator } from '../random/torch-randn.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import { getSampler, resolveSamplerName, SAMPLERS_DISCARDING_PENULTIMATE_SIGMA } from '../sampling/samplers/sampler-registry.ts';
import { getSigmaMax } from '../sampling/sigma-table.ts';
import { getSigmas } from '../sampling/sigmas.ts';
import type { ClipTokenizer } from '../text/clip-tokenizer.ts';
import type { Denoiser } from '../sampling/sampler-types.ts';
import type { Tensor } from '../tensor.ts';
import { InvalidGenerationRequestError, MAX_SEED, validateGenerationRequest, type GenerationRequest } from './generation-request.ts';
import type { TextEncoder } from './prompt-encoding.ts';
import { buildStageConditioning } from './stage-conditioning.ts';
import { createUnetDenoiser, type DenoiserStage } from './unet-denoiser.ts';
import { checkVaeFamily, type VaeCodec } from './load-vae.ts';
import { createPhaseEntry, planPhaseComponents, type ComponentHost, type GenerationPhase, type MemoryMode, type ModelRole, type PhaseComponents } from './component-residency.ts';
import type { CheckpointComponent } from './load-checkpoint.ts';
import { DEFAULT_REFINER_SWITCH_METHOD, sampleInTwoRuns, type SwitchCodecs } from './refiner-switch.ts';
import { decodeLatent, encodeToLatent, encodeToLatentTiled, type RgbImage, type TileOptions } from './vae-codec.ts';
import type { InpaintHead } from '../inpaint/inpaint-models.ts';
import { planInpaint, type InpaintPlan } from '../inpaint/inpaint-plan.ts';
import { blendKnownLatent } from '../inpaint/latent-blend.ts';
import { toHintTensor, type StageControlNet, type StageControls } from './control-feeds.ts';
import type { ControlNetModel } from './control-lora-model.ts';
import { buildNeutralGuidanceFeeds } from './neutral-guidance-feeds.ts';
import type { ControlPromptType } from './image-guidance.ts';

/** A tiled image-to-image pass codes anything over one 64 x 64 latent tile (512 px) in tiles, as ComfyUI's tiled VAE. */
const TILED_CODEC: TileOptions = { maxArea: 64 * 64, tile: 64, overlap: 16 };

/**
 * A loaded checkpoint ready for the pipeline. Its sessions are read when a phase runs them: with `components`,
 * the pipeline builds (and, per phase, releases) them as the job needs them.
 */
export interface PipelineModel {
  name: string;
  architecture: CheckpointArchitecture;
  readonly unet: ModelSession;
  textEncoders: TextEncoder[];
  readonly vaeDecoder: ModelSession | null;
  readonly vaeEncoder: ModelSession | null;
  /** The UNet takes Fooocus's inpaint head feature (it was built with the inpaint patch). */
  inpaintFeature: boolean;
  components?: ComponentHost;
}

export function preparePipelineModel(name: string, loaded: LoadedCheckpoint, tokenizer: ClipTokenizer): PipelineModel {
  if (loaded.architecture.unet === null) throw new Error(`${name}: the checkpoint has no UNet`);
  // A session the pipeline reads before its phase built it is a pipeline bug, not a user error.
  const built = <T>(session: T | null | undefined, what: string): T => {
    if (session == null) throw new Error(`${name}: the ${what} is not built`);
    return session;
  };
  const textEncoders = loaded.architecture.textEncoders.map((cfg, i) => ({
    get session() {
      return built(loaded.textEncoders[i], `text encoder ${i}`);
    },
    tokenizer,
    // SD1.x and SDXL's CLIP-L pad with EOS; OpenCLIP towers pad with 0 (ComfyUI `pad_with_end=False`).
    padWith: cfg.layout === 'open-clip' ? ('zero' as const) : ('eos' as const),
    width: cfg.width,
    vocabSize: cfg.vocabSize,
  }));
  return {
    name,
    architecture: loaded.architecture,
    get unet() {
      return built(loaded.unet, 'UNet');
    },
    textEncoders,
    get vaeDecoder() {
      return loaded.vaeDecoder;
    },
    get vaeEncoder() {
      return loaded.vaeEncoder;
    },
    inpaintFeature: loaded.inpaintFeature,
    components: loaded,
  };
}

export type { GenerationPhase };

export interface GenerationProgress {
  phase: GenerationPhase;
  /** 0-based index of the image being made, and how many the request makes. */
  image: number;
  images: number;
  seed: bigint;
  /** Steps done in the sampling phase (0 before the first step), and the total. */
  step: number;
  steps: number;
  /** Cheap latent-to-RGB preview of the current x0 estimate (sampling phase). */
  preview?: PreviewImage;
}

export interface GeneratedImage {
  seed: bigint;
  image: RgbImage;
  /** The sampled latent [1, 4, H/8, W/8], in the diffusion's scaled space (before decode). */
  latent: Tensor;
  seconds: { encode: number; sample: number; decode: number };
  unetEvaluations: number;
}

export interface GenerateOptions {
  onProgress?: (p: GenerationProgress) => void;
  signal?: AbortSignal;
  /** Preview every n steps (default 1); 0 disables previews. */
  previewEvery?: number;
  /** How long the models' components stay built (component-residency.ts); default `resident`. */
  memory?: MemoryMode;
  /** Called before a component is built, with the name of the model it belongs to. */
  onComponent?: (model: string, component: CheckpointComponent, index: number, total: number) => void;
}

/** The codecs the vae refiner switch passes the latent through: the chosen (or base) VAE, then the refiner's. */
function switchCodecs({ base, refiner, vae }: PipelineModels): SwitchCodecs {
  const baseDecoder = vae === undefined ? base.vaeDecoder : vae.decoder;
  if (baseDecoder === null) throw new Error(`${vae?.name ?? base.name}: the vae refiner switch needs the base model's VAE decoder`);
  if (refiner?.vaeEncoder == null) throw new Error(`${refiner?.name ?? 'refiner'}: the vae refiner switch needs the refiner's VAE encoder`);
  return {
    baseDecoder,
    baseScale: getFamilyProfile(base.architecture.family).latentScale,
    refinerEncoder: refiner.vaeEncoder,
    refinerScale: getFamilyProfile(refiner.architecture.family).latentScale,
  };
}

/** The sampling schedule: ComfyUI computes one extra step and drops the penultimate sigma for some samplers. */
export function scheduleFor(request: GenerationRequest, family: CheckpointArchitecture['family']): Float64Array {
  const denoise = request.input?.denoise ?? 1;
  const aysFamily = getFamilyProfile(family).latentSpace;
  const discard = SAMPLERS_DISCARDING_PENULTIMATE_SIGMA.has(resolveSamplerName(request.sampler));
  const sigmas = getSigmas(request.scheduler, request.steps + (discard ? 1 : 0), { denoise, family: aysFamily });
  if (!discard) return sigmas;
  return Float64Array.from([...sigmas.slice(0, -2), sigmas[sigmas.length - 1]!]);
}

/** Initial x: pure noise at full denoise (scaled by sqrt(1 + sigma^2) as ComfyUI's `max_denoise`), else the re-noised input latent. */
export function prepareLatent(noise: Float32Array, dims: number[], sigma0: number, start: Tensor | null): Tensor {
  const fullDenoise = start === null && Math.abs(sigma0 - getSigmaMax()) <= 1e-5 * getSigmaMax();
  const scale = fullDenoise ? Math.sqrt(1 + sigma0 * sigma0) : sigma0;
  const data = new Float32Array(noise.length);
  for (let i = 0; i < data.length; i++) data[i] = noise[i]! * scale + (start?.data[i] ?? 0);
  return { dims, data };
}

/** The models of one generation: a base checkpoint, optionally a refiner and a VAE that replaces the base's own. */
export interface PipelineModels {
  base: PipelineModel;
  refiner?: PipelineModel;
  vae?: VaeCodec;
  /** Fooocus's inpaint head, for the fooocus-v2.6 inpaint engine (the base UNet then carries the patch). */
  inpaintHead?: InpaintHead;
  /**
   * The base UNet built with image prompt inputs (UnetGraphOptions.imagePrompts), for requests with image prompts.
   * It may have control residual inputs too (and be `controls.unet` as well): a step fills the inputs it does not
   * use with neutral values (neutral-guidance-feeds.ts).
   */
  imagePromptUnet?: ModelSession;
  /** For requests with controls: the base UNet with residual inputs and each type's ControlNet (control-lora-model.ts). */
  controls?: PipelineControls;
}

export interface PipelineControls {
  /** The base UNet built with `controlResiduals` (with image prompt inputs too, possibly: see imagePromptUnet). */
  unet: ModelSession;
  /** The same with image prompt inputs too, for requests that mix both kinds. */
  unetWithImagePrompts?: ModelSession;
  nets: Partial<Record<ControlPromptType, ControlNetModel>>;
}

/**
 * The stage controls of a request's control hints, or undefined without any. With inpaint, each map (the size of
 * the padded input) is cropped and resized as the working area was, so the control lines up with what is generated.
 */
async function stageControlsFor(models: PipelineModels, request: GenerationRequest, steps: number, plan: InpaintPlan | null, signal?: AbortSignal): Promise<StageControls | undefined> {
  const hints = request.controls ?? [];
  if (hints.length === 0) return undefined;
  const controls = models.controls;
  if (controls === undefined) throw new Error(`${models.base.name}: controls need the UNet built with control residual inputs`);
  const nets: StageControlNet[] = [];
  for (const [i, hint] of hints.entries()) {
    const net = controls.nets[hint.type];
    if (net === undefined) throw new Error(`${models.base.name}: no ControlNet loaded for ${hint.type}`);
    let map = hint.map;
    if (plan !== null) {
      if ('planes' in map) throw new InvalidGenerationRequestError(`controls[${i}].map`, 'must be an RGB image when the request inpaints (it is cropped to the inpaint area)');
      map = plan.toWorkingArea(map);
    }
    // The hint encoder runs here, once per control image, not at every step.
    nets.push({ session: net.session, features: await net.encodeHint(toHintTensor(map), signal), weight: hint.weight, stopAt: hint.stopAt });
  }
  const skips = controls.nets[hints[0]!.type]!.skips;
  return { unet: controls.unet, ...(controls.unetWithImagePrompts ? { unetWithImagePrompts: controls.unetWithImagePrompts } : {}), nets, skips, steps };
}

/** The inpaint preparation of a request (crop, fill, encodes), or null for text- and image-to-image. */
async function planFor(models: PipelineModels, request: GenerationRequest, signal?: AbortSignal): Promise<InpaintPlan | null> {
  if (request.inpaint === undefined) return null;
  const { base, vae } = models;
  const encoder = vae === undefined ? base.vaeEncoder : vae.encoder;
  if (encoder === null) throw new Error(`${vae?.name ?? base.name}: inpaint needs the VAE encoder`);
  return planInpaint(
    {
      family: base.architecture.family,
      inpaintFeature: base.inpaintFeature,
      nineChannel: base.architecture.unet?.inChannels === 9,
      encoder,
      ...(models.inpaintHead ? { head: models.inpaintHead } : {}),
    },
    request,
    signal,
  );
}

export async function generate(models: PipelineModels, request: GenerationRequest, options: GenerateOptions = {}): Promise<GeneratedImage[]> {
  validateGenerationRequest(request);
  const { base, refiner, vae } = models;
  if (vae !== undefined) checkVaeFamily(vae.name, vae.latentChannels, base.architecture.family);
  const { signal } = options;
  const report = options.onProgress ?? (() => undefined);
  const profile = getFamilyProfile(base.architecture.family);
  const previewEvery = options.previewEvery ?? 1;
  const sigmas = scheduleFor(request, base.architecture.family);
  const steps = sigmas.length - 1;
  const switchStep = refiner === undefined ? steps : Math.round(steps * request.refinerSwitch);
  const method = request.refinerSwitchMethod ?? DEFAULT_REFINER_SWITCH_METHOD;
  const enterPhase = phaseEntryFor(models, request, options);
  await enterPhase('encode');
  const plan = await planFor(models, request, signal);
  const imagePrompts = request.imagePrompts !== undefined && request.imagePrompts.length > 0 ? request.imagePrompts : undefined;
  if (imagePrompts !== undefined && models.imagePromptUnet === undefined) throw new Error(`${base.name}: image prompts need the UNet built with image prompt inputs`);
  const controls = await stageControlsFor(models, request, steps, plan, signal);
  const neutral = imagePrompts === undefined && controls === undefined ? undefined : buildNeutralGuidanceFeeds(base.architecture.unet!, imagePrompts);
  const latentDims = plan?.latentDims ?? [1, profile.latentChannels, request.height / profile.vaeScaleFactor, request.width / profile.vaeScaleFactor]; // [B, 4, H/8, W/8]
  const results: GeneratedImage[] = [];

  for (let index = 0; index < request.imageCount; index++) {
    const seed = (request.seed + BigInt(index)) % (MAX_SEED + 1n);
    const progress = { image: index, images: request.imageCount, seed, steps };

    // 1. encode prompts (per model: the refiner has its own text encoders and ADM)
    await enterPhase('encode');
    report({ ...progress, phase: 'encode', step: 0 });
    let started = performance.now();
    // The UNet joins the conditioning once the sample phase has built it.
    const conditionFor = async (model: PipelineModel): Promise<(unet: ModelSession) => DenoiserStage> => {
      const common = { width: request.width, height: request.height, admScalers: request.admScalers };
      const positive = await buildStageConditioning(model.architecture, model.textEncoders, { ...common, parts: request.prompt, polarity: 'positive' }, signal);
      const negative = await buildStageConditioning(model.architecture, model.textEncoders, { ...common, parts: request.negativePrompt, polarity: 'negative' }, signal);
      return (unet) => ({
        unet,
        ...(model === base && plan?.inputs !== undefined ? { inpaint: plan.inputs } : {}),
        ...(model === base && imagePrompts !== undefined ? { imagePrompts: { unet: models.imagePromptUnet!, prompts: imagePrompts, steps } } : {}),
        ...(model === base && controls !== undefined ? { controls } : {}),
        ...(neutral !== undefined && model === base ? { neutral } : {}),
        positive,
        negative,
      });
    };
    const baseCondition = await conditionFor(base);
    const refinerCondition = refiner !== undefined && switchStep < steps ? await conditionFor(refiner) : undefined;
    const encodeSeconds = (performance.now() - started) / 1000;

    // 2. prepare latents: the same generator gives the initial noise and then each step's noise
    started = performance.now();
    const generator = new TorchGenerator(seed);
    const noise = generator.randn(latentDims);
    let start: Tensor | null = null;
    if (plan !== null) {
      start = plan.start;
    } else if (request.input !== undefined) {
      const encoder = vae === undefined ? base.vaeEncoder : vae.encoder;
      if (encoder === null) throw new Error(`${vae?.name ?? base.name}: image-to-image needs the VAE encoder`);
      const mean = request.input.tiled === true ? await encodeToLatentTiled(encoder, request.input.image, { ...TILED_CODEC, ...(signal ? { signal } : {}) }) : await encodeToLatent(encoder, request.input.image, signal);
      start = { dims: mean.dims, data: mean.data.map((v) => v * profile.latentScale) };
    }
    const x = prepareLatent(noise, latentDims, sigmas[0]!, start);

    // 3. denoise (the refiner takes over at the switch step, in one sampler run or two: refiner-switch.ts)
    await enterPhase('sample');
    const baseStage = baseCondition(base.unet);
    const refinerStage = refiner !== undefined && refinerCondition !== undefined ? refinerCondition(refiner.unet) : undefined;
    let currentStep = 0;
    let unetEvaluations = 0;
    const guidance = { cfg: request.cfg, sharpness: request.sharpness, adaptiveCfg: request.adaptiveCfg };
    const onUnetCall = (rows: number) => (unetEvaluations += rows);
    const context = {
      noise: (dims: readonly number[]) => generator.randn(dims),
      signal,
      onStep: (step: number, total: number, _x: Tensor, denoised: Tensor) => {
        currentStep = step + 1;
        const preview = previewEvery > 0 && (step + 1) % previewEvery === 0 ? previewLatentToRgb(denoised, profile.latentSpace) : undefined;
        report({ ...progress, phase: 'sample', step: step + 1, steps: total, ...(preview ? { preview } : {}) });
      },
    };
    report({ ...progress, phase: 'sample', step: 0 });
    const sampler = getSampler(request.sampler);
    // Inpaint keeps the known latent in place at every model call, with its own noise stream (seed + 1).
    const energy = plan === null ? null : new TorchGenerator((seed + 1n) % (MAX_SEED + 1n));
    const finishDenoiser = (d: Denoiser): Denoiser => (plan === null ? d : blendKnownLatent(d, { ...plan.known, noise: (dims) => energy!.randn(dims) }));
    const sampled =
      plan === null && refinerStage !== undefined && method !== 'joint' && switchStep > 0
        ? await sampleInTwoRuns(x, {
            sampler,
            sigmas,
            base: baseStage,
            refiner: refinerStage,
            switchStep,
            method,
            denoiser: { guidance, onUnetCall },
            context,
            ...(method === 'vae' ? { codecs: switchCodecs(models) } : {}),
          })
        : await sampler(
            finishDenoiser(createUnetDenoiser({
              base: baseStage,
              ...(refinerStage ? { refiner: { stage: refinerStage, fromStep: switchStep } } : {}),
              guidance,
              currentStep: () => currentStep,
              onUnetCall,
            })),
            x,
            sigmas,
            context,
          );
    const sampleSeconds = (performance.now() - started) / 1000;

    // 4. decode (the chosen VAE, else the base model's; SDXL base and refiner share the latent space)
    await enterPhase('decode');
    started = performance.now();
    report({ ...progress, phase: 'decode', step: steps });
    const decoder = vae === undefined ? (base.vaeDecoder ?? refiner?.vaeDecoder ?? null) : vae.decoder;
    if (decoder === null) throw new Error(`${vae?.name ?? base.name}: ${vae === undefined ? 'the checkpoint' : 'the VAE file'} has no VAE decoder`);
    const unscaled: Tensor = { dims: sampled.dims, data: sampled.data.map((v) => v / profile.latentScale) };
    const decoded = await decodeLatent(decoder, unscaled, { signal, ...(request.input?.tiled === true ? TILED_CODEC : {}) });
    const image = plan === null ? decoded : plan.finish(decoded);
    results.push({ seed, image, latent: sampled, seconds: { encode: encodeSeconds, sample: sampleSeconds, decode: (performance.now() - started) / 1000 }, unetEvaluations });
  }
  return results;
}

/** The components each phase of `request` runs, per model (see component-residency.ts). */
export function planJobComponents(models: PipelineModels, request: GenerationRequest): Record<GenerationPhase, PhaseComponents> {
  const { base, refiner, vae } = models;
  const steps = scheduleFor(request, base.architecture.family).length - 1;
  const switchStep = refiner === undefined ? steps : Math.round(steps * request.refinerSwitch);
  const refines = refiner !== undefined && switchStep < steps;
  const method = request.refinerSwitchMethod ?? DEFAULT_REFINER_SWITCH_METHOD;
  return planPhaseComponents({
    encodesImage: request.input !== undefined || request.inpaint !== undefined,
    refines,
    // The same condition as the two-run sampling below: inpaint always samples in one run.
    vaeSwitch: refines && method === 'vae' && request.inpaint === undefined && switchStep > 0,
    standaloneVae: vae !== undefined,
    baseDecodes: base.architecture.vae?.hasDecoder === true,
  });
}

/**
 * The pipeline's phase hook: builds each phase's components (and, per phase, releases the others) through the
 * models' component hosts. Models without a host (assembled by hand) are used as they are.
 */
function phaseEntryFor(models: PipelineModels, request: GenerationRequest, options: GenerateOptions): (phase: GenerationPhase) => Promise<void> {
  const { base, refiner, vae } = models;
  const hosts: Partial<Record<ModelRole, { name: string; components: ComponentHost }>> = {};
  if (base.components) hosts.base = { name: base.name, components: base.components };
  if (refiner?.components) hosts.refiner = { name: refiner.name, components: refiner.components };
  if (vae?.components) hosts.vae = { name: vae.name, components: vae.components };
  return createPhaseEntry(hosts, planJobComponents(models, request), options.memory ?? 'resident', {
    ...(options.onComponent ? { onComponent: options.onComponent } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
