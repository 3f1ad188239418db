/**
 * One image of a request with Enhance: make the image as the request says (text-to-image, an Input Image step, or
 * the input image itself when Enhance is all the request asks for), run the Enhance choice over it unsaved, then
 * save the result once with the tabs recorded in its metadata.
 */
import type { EnhanceRecord, ModelFamily, RgbImage } from '../../engine/index.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import type { AppGenerationRequest, VerifiedModel } from '../generation/app-generation-request.ts';
import type { GenerationService, SavedImage, ServiceProgress } from '../generation/generation-service.ts';
import type { EnhanceChoice, ImageRequest } from '../generation/image-request.ts';
import type { StepResult } from '../generation/input-image-steps.ts';
import { reportSamplingFor } from '../generation/service-progress.ts';
import { runEnhance, type EnhanceOutcome, type EnhanceRunContext } from './enhance-run.ts';
import { TEXT_DETECTOR_FILES } from './text-detector-files.ts';
import type { VerifiedTextDetectorFiles } from './text-detector-slot.ts';

export interface EnhancedImageContext {
  request: ImageRequest;
  /** The image's engine request without its input (verified models, composed fields). */
  appRequest: Omit<AppGenerationRequest, 'input'>;
  listing: readonly ModelListing[];
  store: ModelStore;
  family: ModelFamily;
  inputDir: string;
  service: Pick<GenerationService, 'render' | 'saveResult' | 'saveUpscaled' | 'upscale' | 'detectForeground' | 'detectText'>;
  compose: EnhanceRunContext['compose'];
  verify: (name: string, kind: 'detection' | 'sam' | 'upscalers') => Promise<VerifiedModel>;
}

export interface EnhancedImageOptions {
  signal?: AbortSignal;
  onProgress?: (p: ServiceProgress) => void;
}

/** The metadata record of a choice and what each tab did. */
export function describeEnhance(choice: EnhanceChoice, outcomes: readonly EnhanceOutcome[]): EnhanceRecord {
  return {
    tabs: choice.tabs.map((tab, at) => {
      const outcome = outcomes.find((o) => o.tab === at);
      return { ...tab, ...(outcome === undefined ? {} : { regions: outcome.regions, skipped: outcome.skipped }) };
    }),
    ...(choice.varyUpscale === undefined ? {} : { varyUpscale: { ...choice.varyUpscale }, varyUpscaleOrder: choice.varyUpscaleOrder ?? 'before' }),
  };
}

/** The text detector's three store files, each checked against its size and SHA-256 before it is read. */
async function verifyTextDetector(context: EnhancedImageContext): Promise<VerifiedTextDetectorFiles> {
  const { detector, vocabulary, segmenter } = TEXT_DETECTOR_FILES;
  return {
    detector: await context.verify(detector.name, detector.kind),
    vocabulary: await context.verify(vocabulary.name, vocabulary.kind),
    segmenter: await context.verify(segmenter.name, segmenter.kind),
  };
}

/** Makes, enhances and saves image `index`; `runSteps`: the request's Input Image steps over its input, if it chose any. */
export async function generateEnhanced(context: EnhancedImageContext, pixels: RgbImage | undefined, opts: EnhancedImageOptions, runSteps: (() => Promise<StepResult>) | undefined): Promise<SavedImage> {
  const { service, appRequest } = context;
  const serviceOpts = { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) };
  // 1. the image the tabs work on
  let made: { image: RgbImage; seed: bigint; seconds: SavedImage['seconds'] };
  if (pixels === undefined) {
    made = (await service.render(appRequest as AppGenerationRequest, serviceOpts))[0]!;
  } else if (runSteps !== undefined) {
    const step = await runSteps();
    made = step.kind === 'final' ? { image: step.image, seed: appRequest.seed, seconds: { encode: 0, sample: 0, decode: 0 } } : (await service.render({ ...appRequest, input: step.input, ...step.extra }, serviceOpts))[0]!;
  } else {
    made = { image: pixels, seed: appRequest.seed, seconds: { encode: 0, sample: 0, decode: 0 } };
  }
  // 2. Enhance, each repaint with the image's seed
  const base = {
    model: appRequest.model,
    ...(appRequest.refiner ? { refiner: appRequest.refiner } : {}),
    ...(appRequest.vae ? { vae: appRequest.vae } : {}),
    ...(appRequest.loras ? { loras: appRequest.loras } : {}),
  };
  const { image, outcomes } = await runEnhance(
    {
      request: context.request,
      base,
      compose: (request) => ({ ...context.compose(request), seed: made.seed }),
      listing: context.listing,
      store: context.store,
      inputDir: context.inputDir,
      family: context.family,
      detectForeground: async (file, img, query) => service.detectForeground({ ...(await context.verify(file, 'detection')), name: file }, img, query, serviceOpts),
      detectText: async (img, query) => service.detectText(await verifyTextDetector(context), img, query, serviceOpts),
      render: async (request, stage) => {
        const onProgress = stage === undefined ? opts.onProgress : reportSamplingFor(stage, opts.onProgress);
        return (await service.render(request, { ...serviceOpts, ...(onProgress ? { onProgress } : {}) }))[0]!.image;
      },
      upscale: async (img) => {
        const name = context.request.enhance!.varyUpscale!.upscaler!;
        return service.upscale({ ...(await context.verify(name, 'upscalers')), name }, img, serviceOpts);
      },
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    },
    made.image,
  );
  // 3. one save, with the tabs in the metadata
  const record = describeEnhance(context.request.enhance!, outcomes);
  return service.saveResult({ ...appRequest, inputImage: { ...appRequest.inputImage, enhance: record } }, image, made.seed, made.seconds);
}
