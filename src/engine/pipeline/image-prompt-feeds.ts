/**
 * The UNet inputs of the image prompts active at a step (decoupled-attention.ts): per cross-attention layer the
 * stacked keys and values [rows, prompts, tokens, width], the image's for a positive row and the unconditional
 * image's for a negative row, and each prompt's weight as its scale in every layer. With no prompt active the
 * pipeline runs the plain UNet graph instead, so such steps are the plain generation's bit for bit.
 */
import { ipKeyInput, ipValueInput, IP_SCALE_INPUT } from '../graphs/decoupled-attention.ts';
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';
import { isGuidanceActive, type AdapterKeysValues, type ImagePromptEmbedding } from './image-guidance.ts';

/** What a denoiser stage needs to apply image prompts: the UNet graph with image prompt inputs, and the prompts. */
export interface StageImagePrompts {
  unet: ModelSession;
  prompts: readonly ImagePromptEmbedding[];
  /** Steps of the whole schedule, for "stop at". */
  steps: number;
}

export function selectActivePrompts(stage: StageImagePrompts | undefined, step: number): ImagePromptEmbedding[] {
  return stage === undefined ? [] : stage.prompts.filter((p) => isGuidanceActive(p, step, stage.steps));
}

/** `positiveRows[r]`: row r is conditioned on the prompt (else on the negative prompt). */
export function buildImagePromptFeeds(prompts: readonly ImagePromptEmbedding[], positiveRows: readonly boolean[]): Record<string, Tensor> {
  const layers = prompts[0]!.positive.keys.length;
  const feeds: Record<string, Tensor> = {};
  for (let layer = 0; layer < layers; layer++) {
    feeds[ipKeyInput(layer)] = stackRows(prompts, positiveRows, (kv) => kv.keys[layer]!, layer);
    feeds[ipValueInput(layer)] = stackRows(prompts, positiveRows, (kv) => kv.values[layer]!, layer);
  }
  const scale = new Float32Array(layers * prompts.length);
  for (let layer = 0; layer < layers; layer++) prompts.forEach((p, i) => (scale[layer * prompts.length + i] = p.weight));
  feeds[IP_SCALE_INPUT] = { dims: [layers, prompts.length], data: scale };
  return feeds;
}

function stackRows(prompts: readonly ImagePromptEmbedding[], positiveRows: readonly boolean[], pick: (kv: AdapterKeysValues) => Tensor, layer: number): Tensor {
  const first = pick(prompts[0]!.positive); // [1, T, C]
  const [, tokens, width] = first.dims as [number, number, number];
  const per = tokens * width;
  const data = new Float32Array(positiveRows.length * prompts.length * per);
  positiveRows.forEach((positive, r) => {
    prompts.forEach((p, i) => {
      const t = pick(positive ? p.positive : p.negative);
      if (t.data.length !== per) throw new Error(`image prompt ${i}: layer ${layer} has [${t.dims}], the first prompt [${first.dims}]; prompts must have equal token counts`);
      data.set(t.data, (r * prompts.length + i) * per);
    });
  });
  return { dims: [positiveRows.length, prompts.length, tokens, width], data };
}
