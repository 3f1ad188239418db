/**
 * The IP-Adapter Plus file's layout (Ye et al. 2023, "IP-Adapter"), read from tensor shapes: the Resampler under
 * `image_proj.` (a perceiver: learned query latents attending to the vision features) and the extra key/value
 * projections of every cross-attention layer under `ip_adapter.<n>.` (n = 1, 3, 5, ...: the publisher numbers
 * every attention processor of the UNet and only the cross-attention ones have weights). The publisher's
 * .safetensors and a converted nested-dict .bin (`models convert`) have the same flat keys.
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { ImagePromptModelError } from './image-prompt-model-error.ts';

export interface ResamplerConfig {
  /** Width of the vision features it reads (the encoder's width). */
  inputWidth: number;
  /** Width of its latents. */
  width: number;
  queries: number;
  depth: number;
  heads: number;
  headDim: number;
  ffWidth: number;
  /** Width of the image tokens it outputs: the UNet's context width. */
  outputWidth: number;
}

export interface IpAdapterConfig {
  resampler: ResamplerConfig;
  /** Output width of each cross-attention layer's key/value projection, in the publisher's order. */
  layerWidths: number[];
}

export const RESAMPLER_PREFIX = 'image_proj.';
/** Every published Resampler uses 64-wide heads. */
const HEAD_DIM = 64;

export function ipLayerKey(layer: number, which: 'k' | 'v'): string {
  return `ip_adapter.${2 * layer + 1}.to_${which}_ip.weight`;
}

export function detectIpAdapter(header: SafetensorsHeader): IpAdapterConfig {
  const shape = (key: string): number[] => {
    const s = header.tensors.get(key)?.shape;
    if (s === undefined) throw new ImagePromptModelError(header.file, `"${key}" is missing: not an IP-Adapter Plus model`);
    return s;
  };
  const latents = shape(`${RESAMPLER_PREFIX}latents`); // [1, queries, width]
  if (latents.length !== 3 || latents[0] !== 1) throw new ImagePromptModelError(header.file, `"${RESAMPLER_PREFIX}latents" has shape [${latents}], expected [1, queries, width]`);
  const [, queries, width] = latents as [number, number, number];
  const [projInOut, inputWidth] = shape(`${RESAMPLER_PREFIX}proj_in.weight`) as [number, number];
  if (projInOut !== width) throw new ImagePromptModelError(header.file, `"${RESAMPLER_PREFIX}proj_in.weight" outputs ${projInOut}, the latents are ${width} wide`);
  const [outputWidth] = shape(`${RESAMPLER_PREFIX}proj_out.weight`) as [number, number];
  let depth = 0;
  while (header.tensors.has(`${RESAMPLER_PREFIX}layers.${depth}.0.to_q.weight`)) depth++;
  if (depth === 0) throw new ImagePromptModelError(header.file, `"${RESAMPLER_PREFIX}layers.0.0.to_q.weight" is missing: not an IP-Adapter Plus model`);
  const [inner] = shape(`${RESAMPLER_PREFIX}layers.0.0.to_q.weight`) as [number, number];
  if (inner % HEAD_DIM !== 0) throw new ImagePromptModelError(header.file, `the Resampler's attention is ${inner} wide, not a whole number of ${HEAD_DIM}-wide heads`);
  const [ffWidth] = shape(`${RESAMPLER_PREFIX}layers.0.1.1.weight`) as [number, number];
  const layerWidths: number[] = [];
  for (let layer = 0; header.tensors.has(ipLayerKey(layer, 'k')); layer++) {
    const k = shape(ipLayerKey(layer, 'k'));
    const v = shape(ipLayerKey(layer, 'v'));
    if (k[1] !== outputWidth || v.join() !== k.join()) {
      throw new ImagePromptModelError(header.file, `"${ipLayerKey(layer, 'k')}" has shape [${k}], expected [width, ${outputWidth}] and the same as its value projection`);
    }
    layerWidths.push(k[0]!);
  }
  if (layerWidths.length === 0) throw new ImagePromptModelError(header.file, `"${ipLayerKey(0, 'k')}" is missing: the file has no cross-attention projections`);
  return { resampler: { inputWidth, width, queries, depth, heads: inner / HEAD_DIM, headDim: HEAD_DIM, ffWidth, outputWidth }, layerWidths };
}
