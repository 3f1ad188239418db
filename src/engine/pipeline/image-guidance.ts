/**
 * What the engine takes from image prompts, once each image has been turned into guidance (the app decodes the
 * uploads; the IP-Adapter models and the control-map preprocessors produce these):
 *
 * - `ImagePromptEmbedding` (Image Prompt, FaceSwap): the IP-Adapter's image tokens of the image and of the
 *   unconditional image, projected into the extra keys and values of every cross-attention layer of the UNet.
 * - `ControlHint` (PyraCanny, CPDS): a preprocessed control map, the size of the result, for a control-LoRA
 *   ControlNet.
 *
 * Both carry `stopAt` and `weight`: the guidance is active while `step < stopAt * steps` (so stop 0 is never
 * active), and a weight of 0 or an inactive step runs the plain UNet graph, bit for bit.
 */
import type { RgbImage } from '../rgb-image.ts';
import type { Tensor } from '../tensor.ts';

/** Fooocus's four Image Prompt types, spelled as Fooocus's metadata spells them. */
export const IMAGE_PROMPT_TYPES = ['ImagePrompt', 'FaceSwap', 'PyraCanny', 'CPDS'] as const;
export type ImagePromptType = (typeof IMAGE_PROMPT_TYPES)[number];

/** The types an IP-Adapter serves (image tokens into cross-attention) and those a ControlNet serves (a control map). */
export type AdapterPromptType = Extract<ImagePromptType, 'ImagePrompt' | 'FaceSwap'>;
export type ControlPromptType = Extract<ImagePromptType, 'PyraCanny' | 'CPDS'>;

/** When and how strongly one image prompt guides the sampling. */
export interface GuidanceWindow {
  /** Active while step < stopAt * steps; 0..1. */
  stopAt: number;
  /** 0..2; 0 is the same as absent. */
  weight: number;
}

/**
 * A control map for a control-LoRA ControlNet: 8-bit RGB, or float planes [3, height, width] in 0..1 (what the
 * preprocessors compute before any rounding). Same size as the generated image.
 */
export type ControlMap = RgbImage | { width: number; height: number; planes: Float32Array };

export interface ControlHint extends GuidanceWindow {
  type: ControlPromptType;
  map: ControlMap;
}

/**
 * One image prompt through an IP-Adapter: the per-layer keys and values of the image tokens, for the image
 * (`positive`) and for the unconditional image (`negative`, from fooocus_ip_negative). `keys[i]` and `values[i]`
 * belong to the UNet's i-th cross-attention layer in graph order: [1, tokens, layer width] each.
 */
export interface ImagePromptEmbedding extends GuidanceWindow {
  type: AdapterPromptType;
  positive: AdapterKeysValues;
  negative: AdapterKeysValues;
}

export interface AdapterKeysValues {
  keys: Tensor[];
  values: Tensor[];
}

/** Whether guidance with this window runs at `step` of `steps` (0-based). */
export function isGuidanceActive(window: GuidanceWindow, step: number, steps: number): boolean {
  return window.weight > 0 && step < window.stopAt * steps;
}
