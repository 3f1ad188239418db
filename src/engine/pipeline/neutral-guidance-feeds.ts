/**
 * Inputs that let one UNet graph built with both kinds of guidance inputs (image prompts and control residuals)
 * serve steps where only one kind is active: zero residuals added to the skips and the middle block, and one
 * image prompt of weight 0 whose single zero token adds exactly 0 to every cross-attention layer. The graph then
 * gives what the graph without those inputs gives, so a job needs one guided build instead of one per mix.
 */
import { skipChannelsOf } from '../control/control-lora.ts';
import { controlOutputNames } from '../graphs/control-net.ts';
import { ipKeyInput, ipValueInput, IP_SCALE_INPUT } from '../graphs/decoupled-attention.ts';
import type { UnetConfig } from '../models/architecture.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';
import type { ImagePromptEmbedding } from './image-guidance.ts';

/**
 * Neutral values for the UNet `cfg`'s control residual inputs ([1, C, 1, 1] zeros, broadcast over rows and
 * positions) and, given the job's image prompts (for each layer's width), its image prompt inputs.
 */
export function buildNeutralGuidanceFeeds(cfg: UnetConfig, prompts: readonly ImagePromptEmbedding[] = []): Record<string, Tensor> {
  const channels = skipChannelsOf(cfg);
  const names = controlOutputNames(channels.length);
  const feeds: Record<string, Tensor> = {};
  const zeros = (dims: number[]): Tensor => ({ dims, data: new Float32Array(dims.reduce((a, b) => a * b, 1)) });
  channels.forEach((c, i) => (feeds[names[i]!] = zeros([1, c, 1, 1])));
  feeds.control_middle = zeros([1, channels.at(-1)!, 1, 1]);
  const first = prompts[0];
  if (first !== undefined) {
    const layers = first.positive.keys.length;
    for (let layer = 0; layer < layers; layer++) {
      const width = first.positive.keys[layer]!.dims[2]!;
      feeds[ipKeyInput(layer)] = zeros([1, 1, 1, width]); // [rows, prompts, tokens, width], broadcast over rows
      feeds[ipValueInput(layer)] = zeros([1, 1, 1, width]);
    }
    feeds[IP_SCALE_INPUT] = zeros([layers, 1]);
  }
  return feeds;
}

/** Adds to `feeds` the neutral value of each input of `session` that the step does not set. */
export function fillNeutralInputs(session: ModelSession, feeds: Record<string, Tensor>, neutral: Readonly<Record<string, Tensor>>): void {
  for (const name of session.inputNames) {
    if (feeds[name] !== undefined) continue;
    const value = neutral[name];
    if (value !== undefined) feeds[name] = value;
  }
}
