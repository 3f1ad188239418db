/**
 * The denoiser the samplers call: an epsilon-prediction UNet wrapped the k-diffusion way (Karras et al. 2022:
 * input scaled by 1/sqrt(sigma^2 + 1), x0 = x - sigma * eps) with Fooocus's guidance inside it: CFG with the
 * unconditional pass skipped at CFG 1, image sharpness on the positive eps, adaptive CFG, timed ADM for SDXL,
 * and the switch to a refiner model at a given step.
 */
import { combineCfg } from '../guidance/adaptive-cfg.ts';
import { computeDiffusionProgress } from '../guidance/diffusion-progress.ts';
import { selectAdm } from '../guidance/sdxl-adm.ts';
import { applySharpness, computeEps } from '../guidance/sharpness.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { Denoiser } from '../sampling/sampler-types.ts';
import { sigmaToTimestep } from '../sampling/sigma-table.ts';
import type { Tensor } from '../tensor.ts';
import { buildImagePromptFeeds, selectActivePrompts, type StageImagePrompts } from './image-prompt-feeds.ts';
import { runControlNets, selectActiveControls, type StageControls } from './control-feeds.ts';
import { fillNeutralInputs } from './neutral-guidance-feeds.ts';

/** ADM vector `y` of one prompt: fixed (refiner), or Fooocus's scaled/original pair chosen by timestep (SDXL). */
export type AdmConditioning = { kind: 'fixed'; y: Float32Array } | { kind: 'timed'; scaled: Float32Array; original: Float32Array; end: number };

export interface StageConditioning {
  context: Tensor; // [1, T, ctx]
  adm: AdmConditioning | null;
}

/** One model the sampler runs: the base, or the refiner after the switch. */
export interface DenoiserStage {
  unet: ModelSession;
  positive: StageConditioning;
  negative: StageConditioning;
  /** Inpaint inputs fixed for the whole run, one row each (repeated for every batch row). */
  inpaint?: StageInpaintInputs;
  /** Image prompts (IP-Adapter): steps where one is active run this graph instead of `unet`. */
  imagePrompts?: StageImagePrompts;
  /** Control-LoRA ControlNets (PyraCanny, CPDS): steps where one is active add their residuals. */
  controls?: StageControls;
  /**
   * Values for guidance inputs a step leaves unset (neutral-guidance-feeds.ts), so one graph with both kinds of
   * inputs can serve as the image prompt, the controlled and the mixed UNet.
   */
  neutral?: Readonly<Record<string, Tensor>>;
}

/** The UNet graph a step runs: the plain one unless image prompts or controls are active there. */
function selectUnetSession(stage: DenoiserStage, prompts: boolean, controls: boolean): ModelSession {
  if (!controls) return prompts ? stage.imagePrompts!.unet : stage.unet;
  if (!prompts) return stage.controls!.unet;
  const both = stage.controls!.unetWithImagePrompts;
  if (both === undefined) throw new Error('this stage has image prompts and controls active together but no UNet graph with both inputs');
  return both;
}

export interface StageInpaintInputs {
  /** Channels appended to x for a 9-channel UNet: [1, 5, h, w] = latent mask, masked-image latent. */
  concat?: Tensor;
  /** Fooocus's inpaint head output [1, model channels, h, w] (the UNet's `inpaint_feature` input). */
  feature?: Tensor;
}

/** `rows` copies of a one-row tensor stacked on the batch axis. */
function repeatRows(t: Tensor, rows: number): Tensor {
  const data = new Float32Array(rows * t.data.length);
  for (let r = 0; r < rows; r++) data.set(t.data, r * t.data.length);
  return { dims: [rows, ...t.dims.slice(1)], data };
}

/** x with the stage's extra channels appended per row: [rows, C + extra, h, w]. */
function appendChannels(x: Float32Array, rows: number, dims: readonly number[], extra: Tensor): Tensor {
  const [, channels, h, w] = dims as [number, number, number, number];
  const extraChannels = extra.dims[1]!;
  const perRow = channels * h * w;
  const extraPerRow = extraChannels * h * w;
  const data = new Float32Array(rows * (perRow + extraPerRow));
  for (let r = 0; r < rows; r++) {
    data.set(x.subarray(r * perRow, (r + 1) * perRow), r * (perRow + extraPerRow));
    data.set(extra.data, r * (perRow + extraPerRow) + perRow);
  }
  return { dims: [rows, channels + extraChannels, h, w], data };
}

export interface GuidanceSettings {
  cfg: number;
  /** Fooocus "Image Sharpness" (default 2); 0 disables the filter. */
  sharpness: number;
  /** Fooocus "CFG Mimicking from TSNR" (default 7). */
  adaptiveCfg: number;
}

export interface DenoiserOptions {
  base: DenoiserStage;
  refiner?: { stage: DenoiserStage; fromStep: number };
  guidance: GuidanceSettings;
  /** The sampler's current step, advanced by the pipeline's onStep; decides base vs refiner. */
  currentStep: () => number;
  /** Counts UNet evaluations (one per batch row), for tests and statistics. */
  onUnetCall?: (rows: number) => void;
}

function admFor(c: StageConditioning, timestep: number): Float32Array | null {
  if (c.adm === null) return null;
  return c.adm.kind === 'fixed' ? c.adm.y : selectAdm(c.adm.scaled, c.adm.original, timestep, c.adm.end);
}

/** Runs the UNet on x for each conditioning; rows with equal context length share one batched call. */
async function predictEps(stage: DenoiserStage, xIn: Tensor, timestep: number, conds: StageConditioning[], step: number, signal: AbortSignal | undefined, onCall?: (rows: number) => void): Promise<Float32Array[]> {
  const sameLength = conds.every((c) => c.context.dims[1] === conds[0]!.context.dims[1]);
  if (!sameLength && conds.length > 1) {
    const out: Float32Array[] = [];
    for (const c of conds) out.push(...(await predictEps(stage, xIn, timestep, [c], step, signal, onCall)));
    return out;
  }
  const rows = conds.length;
  const n = xIn.data.length;
  const x = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) x.set(xIn.data, r * n);
  const [, tokens, width] = conds[0]!.context.dims as [number, number, number];
  const context = new Float32Array(rows * tokens * width);
  conds.forEach((c, r) => context.set(c.context.data, r * tokens * width));
  const concat = stage.inpaint?.concat;
  const feeds: Record<string, Tensor> = {
    x: concat === undefined ? { dims: [rows, ...xIn.dims.slice(1)], data: x } : appendChannels(x, rows, xIn.dims, concat),
    timesteps: { dims: [rows], data: new Float32Array(rows).fill(timestep) },
    context: { dims: [rows, tokens, width], data: context },
  };
  const adms = conds.map((c) => admFor(c, timestep));
  if (adms[0] !== null) {
    const w = adms[0]!.length;
    const y = new Float32Array(rows * w);
    adms.forEach((a, r) => y.set(a!, r * w));
    feeds.y = { dims: [rows, w], data: y };
  }
  if (stage.inpaint?.feature !== undefined) feeds.inpaint_feature = repeatRows(stage.inpaint.feature, rows);
  const prompts = selectActivePrompts(stage.imagePrompts, step);
  if (prompts.length > 0) Object.assign(feeds, buildImagePromptFeeds(prompts, conds.map((c) => c !== stage.negative)));
  const controls = selectActiveControls(stage.controls, step);
  if (controls.length > 0) Object.assign(feeds, await runControlNets(controls, feeds, stage.controls!.skips, signal));
  onCall?.(rows);
  const unet = selectUnetSession(stage, prompts.length > 0, controls.length > 0);
  if (stage.neutral !== undefined && unet !== stage.unet) fillNeutralInputs(unet, feeds, stage.neutral);
  const out = (await unet.run(feeds, signal)).out!.data;
  return conds.map((_, r) => out.subarray(r * n, (r + 1) * n));
}

/** x0 = x - sigma * eps (epsilon parameterization). */
function toDenoised(x: Tensor, eps: Float32Array, sigma: number): Tensor {
  const data = new Float32Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = x.data[i]! - sigma * eps[i]!;
  return { dims: x.dims, data };
}

export function createUnetDenoiser(options: DenoiserOptions): Denoiser {
  const { guidance } = options;
  const skipUncond = Math.abs(guidance.cfg - 1) < 1e-9;
  return async (x, sigma, signal) => {
    const step = options.currentStep();
    const stage = options.refiner !== undefined && step >= options.refiner.fromStep ? options.refiner.stage : options.base;
    const timestep = sigmaToTimestep(sigma);
    const scale = 1 / Math.sqrt(sigma * sigma + 1);
    const xIn: Tensor = { dims: x.dims, data: x.data.map((v) => v * scale) };
    if (skipUncond) {
      const [eps] = await predictEps(stage, xIn, timestep, [stage.positive], step, signal, options.onUnetCall);
      return toDenoised(x, eps!, sigma);
    }
    const [epsPos, epsNeg] = await predictEps(stage, xIn, timestep, [stage.positive, stage.negative], step, signal, options.onUnetCall);
    const positiveX0 = toDenoised(x, epsPos!, sigma);
    const negativeX0 = toDenoised(x, epsNeg!, sigma);
    const progress = computeDiffusionProgress(timestep);
    const positiveEps = applySharpness(x, positiveX0, guidance.sharpness, progress); // x - x0 form, sharpened
    const finalEps = combineCfg(computeEps(x, negativeX0), positiveEps, guidance.cfg, guidance.adaptiveCfg, progress);
    const data = new Float32Array(x.data.length);
    for (let i = 0; i < data.length; i++) data[i] = x.data[i]! - finalEps.data[i]!;
    return { dims: x.dims, data };
  };
}
