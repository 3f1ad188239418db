/**
 * Enhance run over one image, after it is made (or on the input image alone): an Upscale or Vary first if the
 * choice says before, then each tab in order — find its region, erode/dilate and invert the mask, skip the tab
 * (and say so) when nothing is left to repaint, else repaint through the inpaint with the tab's prompt and
 * settings — the next tab working on the result; then the Upscale or Vary if it comes after. Pixels the inpaint's
 * soft mask does not reach stay as they were, bit for bit (its paste-back guarantees it per tab).
 */
import { isMaskEmpty, prepareInpaintMask, type ModelFamily, type RegionDetection, type RegionQuery, type RgbImage } from '../../engine/index.ts';
import type { ModelListing, ModelStore } from '../models/model-store.ts';
import type { AppGenerationRequest } from '../generation/app-generation-request.ts';
import type { ServiceProgress } from '../generation/generation-service.ts';
import type { EnhanceChoice, EnhanceTab, ImageRequest } from '../generation/image-request.ts';
import { prepareInpaintRun } from '../generation/inpaint-run.ts';
import { needsUpscaler, planVaryUpscaleSize, runVaryUpscaleStep } from '../generation/vary-upscale-step.ts';
import { planRegionDetector, toTabInpaint } from './enhance-choice.ts';

/** Progress of the Enhance phase: which tab, and what it did (found, skipped, repainting). */
export type EnhanceProgress = Extract<ServiceProgress, { phase: 'enhance' }>;

/** What each tab did, for the metadata. */
export interface EnhanceOutcome {
  tab: number;
  regions: number;
  skipped: boolean;
}

export interface EnhanceRunContext {
  request: ImageRequest;
  /** The verified models and settings every repaint shares with the image (checkpoint, refiner, VAE, LoRAs). */
  base: Pick<AppGenerationRequest, 'model' | 'refiner' | 'vae' | 'loras' | 'jobTag'>;
  /** Composes image `index` of a request into the engine's fields (the use case's composeImage). */
  compose: (request: ImageRequest) => Omit<AppGenerationRequest, 'model' | 'refiner' | 'vae' | 'loras' | 'input'>;
  listing: readonly ModelListing[];
  store: ModelStore;
  inputDir: string;
  family: ModelFamily;
  /** Finds a tab's region with a foreground-mask model from the store (verified by the caller). */
  detectForeground: (file: string, image: RgbImage, query: RegionQuery) => Promise<RegionDetection>;
  /** Finds a tab's region with GroundingDINO boxes and SAM masks (the store's fixed files, verified by the caller). */
  detectText: (image: RgbImage, query: RegionQuery) => Promise<RegionDetection>;
  /** Runs the engine and returns the image unsaved; `stage`: what its sampling is for, in the progress (a tab's repaint). */
  render: (request: AppGenerationRequest, stage?: string) => Promise<RgbImage>;
  upscale: (image: RgbImage) => Promise<RgbImage>;
  onProgress?: (p: ServiceProgress) => void;
  signal?: AbortSignal;
}

/** The tab's prompt, or the request's when the tab's is empty (Fooocus falls back the same way). */
function orFallback(text: string | undefined, fallback: string): string {
  return text === undefined || text.trim() === '' ? fallback : text;
}

/** The engine request of one repaint: the tab's prompts composed as the request's are (styles, wildcards). */
function composeTab(context: EnhanceRunContext, tab: EnhanceTab, image: RgbImage): ImageRequest {
  const { varyUpscale: _v, inpaint: _i, enhance: _e, imagePrompts: _p, ...rest } = context.request;
  const inpaint = toTabInpaint(tab);
  return {
    ...rest,
    prompt: orFallback(tab.prompt, context.request.prompt),
    negative: orFallback(tab.negative, context.request.negative),
    width: image.width,
    height: image.height,
    input: { file: context.request.input?.file ?? '', denoise: inpaint.strength ?? 1 },
    inpaint,
  };
}

async function repaintTab(context: EnhanceRunContext, tab: EnhanceTab, at: number, image: RgbImage): Promise<{ image: RgbImage; outcome: EnhanceOutcome }> {
  const tabs = context.request.enhance!.tabs.length;
  const report = (message: string) => context.onProgress?.({ phase: 'enhance', tab: at, tabs, message });
  const plan = planRegionDetector(tab, context.listing, `enhance.tabs[${at}]`);
  report(`Enhance ${at + 1}/${tabs}: finding "${tab.detectionPrompt}"`);
  const query: RegionQuery = { prompt: tab.detectionPrompt, boxThreshold: tab.boxThreshold ?? 0.3, textThreshold: tab.textThreshold ?? 0.25, maxDetections: tab.maxDetections ?? 0 };
  const found = plan.kind === 'foreground' ? await context.detectForeground(plan.file, image, query) : await context.detectText(image, query);
  const prepared = prepareInpaintMask({ maskErode: tab.maskErode ?? 0, invertMask: tab.invertMask ?? false }, found.mask);
  if (found.regions === 0 || isMaskEmpty(prepared)) {
    report(`Enhance ${at + 1}/${tabs}: no "${tab.detectionPrompt}" found, tab skipped`);
    return { image, outcome: { tab: at, regions: found.regions, skipped: true } };
  }
  const repainting = `Enhance ${at + 1}/${tabs}: repainting "${tab.detectionPrompt}" (${found.regions} region${found.regions === 1 ? '' : 's'})`;
  report(repainting);
  const tabRequest = composeTab(context, tab, image);
  const run = await prepareInpaintRun(tabRequest.inpaint!, image, context.base.model, {
    store: context.store,
    listing: context.listing,
    inputDir: context.inputDir,
    mask: found.mask,
    signal: context.signal,
  });
  const result = await context.render({ ...context.compose(tabRequest), ...context.base, input: { image, denoise: tabRequest.input!.denoise }, ...run }, repainting);
  return { image: result, outcome: { tab: at, regions: found.regions, skipped: false } };
}

/** The Upscale or Vary of an Enhance choice over the image (the request's own prompts). */
async function runEnhanceVaryUpscale(context: EnhanceRunContext, choice: NonNullable<EnhanceChoice['varyUpscale']>, image: RgbImage): Promise<RgbImage> {
  const { inpaint: _i, enhance: _e, imagePrompts: _p, ...rest } = context.request;
  // The upscaler runs once: its scale decides the planned size, and the step reuses its image.
  const upscaled = needsUpscaler(choice) ? await context.upscale(image) : null;
  const size = planVaryUpscaleSize(choice, image, context.family, upscaled === null ? 1 : upscaled.width / image.width);
  const step = await runVaryUpscaleStep(choice, image, { family: context.family, performance: context.request.performance, size, upscale: async () => upscaled! });
  if (step.kind === 'final') return step.image;
  // Composed with the choice, so the step count is the mode's (an upscale's image-to-image steps).
  const request: ImageRequest = { ...rest, width: step.image.width, height: step.image.height, varyUpscale: choice, input: { file: context.request.input?.file ?? '', denoise: step.denoise } };
  return context.render({ ...context.compose(request), ...context.base, input: { image: step.image, denoise: step.denoise, ...(step.tiledVae ? { tiled: true } : {}) } });
}

/** Runs the request's Enhance choice over an image; returns the final image and what each tab did. */
export async function runEnhance(context: EnhanceRunContext, image: RgbImage): Promise<{ image: RgbImage; outcomes: EnhanceOutcome[] }> {
  const choice = context.request.enhance!;
  let current = image;
  if (choice.varyUpscale !== undefined && choice.varyUpscaleOrder !== 'after') current = await runEnhanceVaryUpscale(context, choice.varyUpscale, current);
  const outcomes: EnhanceOutcome[] = [];
  for (const [at, tab] of choice.tabs.entries()) {
    if (context.signal?.aborted) throw context.signal.reason;
    const done = await repaintTab(context, tab, at, current);
    current = done.image;
    outcomes.push(done.outcome);
  }
  if (choice.varyUpscale !== undefined && choice.varyUpscaleOrder === 'after') current = await runEnhanceVaryUpscale(context, choice.varyUpscale, current);
  return { image: current, outcomes };
}
