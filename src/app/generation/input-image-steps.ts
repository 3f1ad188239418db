/**
 * The Input Image steps a request can carry, each chosen by one request field (`varyUpscale`: Upscale or Vary;
 * `inpaint`: Inpaint or Outpaint). The use case (generate-images.ts) knows none of them by name: it calls every
 * step the request chose at three points, so a new kind of input is one more entry in INPUT_IMAGE_STEPS.
 *
 * 1. `prepare` (at submit): check the choice against what is installed and the input image, and resolve what it
 *    fixes: the choice the stored request records, the result's size, the image-to-image denoise, and how image 0
 *    is held to the engine's rules (`adjustCheck`);
 * 2. `compose` (each image): what it changes in the engine request before sampling (prompt, step count);
 * 3. `run` (each image, after the models are verified): turn the input pixels into the engine's input and extra
 *    settings, or into the final image itself (an upscaler-only upscale).
 */
import { IMAGE_SIZE_LIMITS, type GreyMask, type ModelFamily, type RgbImage } from '../../engine/index.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import type { AppGenerationRequest, VerifiedModel } from './app-generation-request.ts';
import { ImageRequestError, type ImageRequest } from './image-request.ts';
import { prepareInpaintRun } from './inpaint-run.ts';
import { addInpaintPrompt, checkInpaintEngineFits, checkInpaintInput, placeholderInpaint, resolveInpaintChoice } from './inpaint-step.ts';
import { prepareVaryUpscale, runVaryUpscaleStep, varyUpscaleSteps } from './vary-upscale-step.ts';

/** The image-to-image input the engine takes (the input pixels, the denoise, a tiled VAE). */
export type EngineInput = NonNullable<AppGenerationRequest['input']>;

/** What image 0 is validated as at submit: its size, its input and any inpaint settings. */
export interface EngineCheck {
  size: { width: number; height: number };
  input: { image: RgbImage; denoise: number } | undefined;
  inpaint?: AppGenerationRequest['inpaint'];
}

export interface StepPrepareContext {
  /** The draft's Input Image choices as the client gave them (a step may refuse a combination with another's). */
  draft: Pick<Partial<ImageRequest>, InputImageStep['field']>;
  family: ModelFamily;
  /** The checkpoint (store file name) the request runs on. */
  model: string;
  listing: readonly ModelListing[];
  /** Whether the request has an input image. */
  hasInput: boolean;
  /** Reads the input image once for the whole request; undefined when the caller cannot read files at submit. */
  readInput: (() => Promise<RgbImage>) | undefined;
  readUpscalerScale?: (name: string) => Promise<number>;
  readMask?: (file: string) => Promise<GreyMask>;
  /** The input channels of a checkpoint's UNet (9: an inpaint UNet); null when it has none. */
  readUnetInChannels?: (model: string) => Promise<number | null>;
  maxPixels?: number;
}

export interface PreparedStep {
  /** The request fields the step resolved (its choice with the defaults it fills in). */
  request: Partial<ImageRequest>;
  /** The result's size, when the step fixes it (else the request's size rules apply). */
  size?: { width: number; height: number };
  /** The image-to-image denoise the request records, when the step fixes it. */
  denoise?: number;
  /** How image 0 is validated instead of the plain image-to-image check. */
  adjustCheck?: (check: EngineCheck, request: ImageRequest) => EngineCheck;
}

export interface StepRunContext {
  request: ImageRequest;
  /** The input image as read (before any crop to the latent grid). */
  pixels: RgbImage;
  /** The base checkpoint, verified. */
  model: VerifiedModel;
  listing: readonly ModelListing[];
  store: ModelStore;
  /** Verifies a store file of this kind against the trust manifest. */
  verify: (name: string, kind: 'upscalers') => Promise<VerifiedModel>;
  /** Runs a verified upscaler over an image. */
  upscale: (upscaler: VerifiedModel & { name: string }, image: RgbImage) => Promise<RgbImage>;
  inputDir: string;
  maskSource?: string;
  /** The decoded inpaint mask (the studio's uploads). */
  mask?: GreyMask;
  signal?: AbortSignal;
}

export type StepResult =
  /** The step's image is the result: saved as it is, no diffusion. */
  | { kind: 'final'; image: RgbImage }
  | { kind: 'generate'; input: EngineInput; extra?: Partial<AppGenerationRequest> };

export interface InputImageStep {
  /** The request field that chooses the step. */
  readonly field: 'varyUpscale' | 'inpaint';
  prepare(context: StepPrepareContext): Promise<PreparedStep>;
  /** The engine prompt and step count for the step (each optional: absent leaves the request's own). */
  compose?(request: ImageRequest, prompt: string): { prompt?: string; steps?: number };
  /** `input`: the image-to-image input so far (the grid-cropped input image, or an earlier step's result). */
  run(context: StepRunContext, input: EngineInput): Promise<StepResult>;
}

/** Upscale or Vary (vary-upscale-step.ts): the input becomes the image-to-image input, or is the result. */
const varyUpscaleStep: InputImageStep = {
  field: 'varyUpscale',
  async prepare(context) {
    // Fooocus's Input Image panel runs one tab: Upscale or Variation, or Inpaint or Outpaint.
    if (context.draft.inpaint !== undefined) throw new ImageRequestError('varyUpscale', 'conflict', 'varyUpscale and inpaint cannot be combined: choose Upscale/Vary or Inpaint/Outpaint');
    const image = context.readInput === undefined ? undefined : await context.readInput();
    const prepared = await prepareVaryUpscale(context.draft.varyUpscale!, {
      input: image,
      family: context.family,
      listing: context.listing,
      ...(context.readUpscalerScale === undefined ? {} : { readUpscalerScale: context.readUpscalerScale }),
      ...(context.maxPixels === undefined ? {} : { maxPixels: context.maxPixels }),
    });
    const { width, height, imageToImage } = prepared.size;
    return {
      request: { varyUpscale: prepared.choice },
      size: { width, height },
      denoise: prepared.denoise,
      // An upscaler-only result makes no diffusion image (its size was held to the upscale rules): image 0's
      // settings are still checked, as a text-to-image at the smallest size.
      ...(imageToImage ? {} : { adjustCheck: () => ({ size: { width: IMAGE_SIZE_LIMITS.min, height: IMAGE_SIZE_LIMITS.min }, input: undefined }) }),
    };
  },
  compose(request) {
    const steps = varyUpscaleSteps(request.varyUpscale!, request.performance);
    return steps === undefined ? {} : { steps };
  },
  async run(context, input) {
    const { request, listing } = context;
    const family = (listing.find((m) => m.kind === 'checkpoints' && m.name === request.model)?.family ?? 'sdxl') as ModelFamily;
    const upscaler = request.varyUpscale!.upscaler;
    const step = await runVaryUpscaleStep(request.varyUpscale!, context.pixels, {
      family,
      performance: request.performance,
      size: { width: request.width, height: request.height },
      upscale: async (img) => context.upscale({ ...(await context.verify(upscaler!, 'upscalers')), name: upscaler! }, img),
    });
    if (step.kind === 'final') return step;
    return { kind: 'generate', input: { ...input, image: step.image, denoise: step.denoise, ...(step.tiledVae ? { tiled: true } : {}) } };
  },
};

/** Inpaint or Outpaint (inpaint-step.ts, inpaint-run.ts): the whole input at its own size, the mask, the engine's files. */
const inpaintStep: InputImageStep = {
  field: 'inpaint',
  async prepare(context) {
    const inpaint = resolveInpaintChoice(context.draft.inpaint!, { hasInput: context.hasInput, family: context.family, listing: context.listing });
    if (inpaint.engine !== undefined && context.readUnetInChannels !== undefined) {
      const inChannels = await context.readUnetInChannels(context.model);
      if (inChannels !== null) checkInpaintEngineFits(inpaint.engine, context.model, inChannels);
    }
    // An inpaint result has the input's own size (plus any outpaint padding), not a size of the model's grid.
    const size = await checkInpaintInput(inpaint, context.readInput, context.readMask);
    return {
      request: { inpaint },
      ...(size === null ? {} : { size }),
      adjustCheck: (check, request) => {
        const placeholder = placeholderInpaint(request.inpaint!, check.size);
        return { ...check, input: check.input && { image: placeholder.image, denoise: request.inpaint!.strength ?? check.input.denoise }, inpaint: placeholder.settings };
      },
    };
  },
  compose(request, prompt) {
    return { prompt: addInpaintPrompt(prompt, request.inpaint) };
  },
  async run(context) {
    const { request, pixels } = context;
    const run = await prepareInpaintRun(request.inpaint!, pixels, context.model, {
      store: context.store,
      listing: context.listing,
      inputDir: context.inputDir,
      ...(context.maskSource === undefined ? {} : { maskSource: context.maskSource }),
      mask: context.mask,
      signal: context.signal,
    });
    return { kind: 'generate', input: { image: pixels, denoise: request.inpaint!.strength ?? request.input!.denoise }, extra: { ...run } };
  },
};

/** Every Input Image step, in the order they prepare and run. */
export const INPUT_IMAGE_STEPS: readonly InputImageStep[] = [varyUpscaleStep, inpaintStep];

/** The steps a request (or draft) chose. */
export function findInputImageSteps(request: Partial<ImageRequest>): InputImageStep[] {
  return INPUT_IMAGE_STEPS.filter((step) => request[step.field] !== undefined);
}

/** Prepares every chosen step at submit; the first size and denoise a step fixes win. */
export async function prepareInputImageSteps(context: StepPrepareContext): Promise<PreparedStep> {
  const merged: PreparedStep = { request: {} };
  const adjusts: NonNullable<PreparedStep['adjustCheck']>[] = [];
  for (const step of findInputImageSteps(context.draft)) {
    const prepared = await step.prepare(context);
    Object.assign(merged.request, prepared.request);
    merged.size ??= prepared.size;
    merged.denoise ??= prepared.denoise;
    if (prepared.adjustCheck !== undefined) adjusts.push(prepared.adjustCheck);
  }
  if (adjusts.length > 0) merged.adjustCheck = (check, request) => adjusts.reduce((c, adjust) => adjust(c, request), check);
  return merged;
}

/** The engine prompt and explicit step count after every chosen step (the request's own steps win over a step's). */
export function composeInputImageSteps(request: ImageRequest): { prompt: string; steps: number | undefined } {
  let prompt = request.prompt;
  let steps: number | undefined;
  for (const step of findInputImageSteps(request)) {
    const composed = step.compose?.(request, prompt) ?? {};
    prompt = composed.prompt ?? prompt;
    steps ??= composed.steps;
  }
  return { prompt, steps: request.steps ?? steps };
}

/** Runs every chosen step over the input: the final image, or what the engine generates from. */
export async function runInputImageSteps(context: StepRunContext, input: EngineInput): Promise<StepResult> {
  let current = input;
  let extra: Partial<AppGenerationRequest> = {};
  for (const step of findInputImageSteps(context.request)) {
    const next = await step.run(context, current);
    if (next.kind === 'final') return next;
    current = next.input;
    extra = { ...extra, ...next.extra };
  }
  return { kind: 'generate', input: current, extra };
}
