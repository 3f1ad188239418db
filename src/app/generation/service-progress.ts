/**
 * What a job reports while it runs. Every step other than sampling (hashing and loading models, describing the
 * input first, an upscaler's tiles, the Enhance tabs, prompt encoding and VAE decoding) carries `message`: what it
 * does, in words for the user. The CLI and the page show that one field and nothing phase by phase, so a new step
 * reaches both by saying what it does here. A step that counts (tiles, tokens, bytes) adds `done` of `total`.
 */
import type { GenerationProgress } from '../../engine/index.ts';
import type { MemoryChoice } from './memory-mode.ts';

/** The sampler's steps; `message`: the stage they sample for (an Enhance tab's repaint), when there is one. */
export type SamplingProgress = GenerationProgress & { phase: 'sample'; message?: string };

/** How far a step that counts has come: `done` of `total`, in `unit` (tiles, tokens or components when absent). */
export interface StageCount {
  done: number;
  total: number;
  unit?: 'MiB';
}

export type StageProgress =
  /** The engine's prompt encoding (and the input's VAE encoding) and VAE decoding around the sampler. */
  | (GenerationProgress & { phase: 'encode' | 'decode'; message: string })
  /** Building a model's component (UNet, text encoders, VAE, an upscaler, a detector, the LoRAs bound). */
  | ({ phase: 'load'; model: string; component: string; message: string } & StageCount)
  /** Hashing a model file against the trust manifest. */
  | ({ phase: 'verify'; model: string; message: string } & StageCount)
  /** Running an upscaler model over the input image, tile by tile. */
  | ({ phase: 'upscale'; model: string; message: string } & StageCount)
  /** An Enhance tab: what it is finding, that it found nothing and was skipped, or that it is repainting. */
  | { phase: 'enhance'; tab: number; tabs: number; message: string }
  /** Describing the input image to make the prompt (`describeFirst`): a captioner's tokens, or one tagger run. */
  | ({ phase: 'describe'; type: string; message: string } & StageCount)
  /** How the job keeps its models in memory (sent when it differs from the previous job's). */
  | { phase: 'memory'; mode: MemoryChoice['mode']; message: string };

export type ServiceProgress = SamplingProgress | StageProgress;

/** The engine's progress with its words: encoding and decoding say so, sampling is passed on as it is. */
export function toServiceProgress(p: GenerationProgress): ServiceProgress {
  if (p.phase === 'sample') return { ...p, phase: 'sample' };
  return { ...p, phase: p.phase, message: p.phase === 'encode' ? `encoding prompt (seed ${p.seed})` : `decoding (seed ${p.seed})` };
}

/** Hands on `report`, marking its sampling steps as done for `stage` (an Enhance tab's repaint). */
export function reportSamplingFor(stage: string, report: ((p: ServiceProgress) => void) | undefined): ((p: ServiceProgress) => void) | undefined {
  if (report === undefined) return undefined;
  return (p) => report(p.phase === 'sample' ? { ...p, message: stage } : p);
}

/** One line for a step's progress: its message, and how far it has come when it counts (`tile 3/12`, `40%`). */
export function formatStageProgress(p: StageProgress): string {
  if (!('total' in p) || p.total <= 1) return p.message;
  if (p.unit !== undefined) return `${p.message} (${Math.floor((100 * p.done) / p.total)}%)`;
  return `${p.message} (${p.done}/${p.total})`;
}
