/**
 * The BLIP captioning model's configuration (Li et al. 2022, `BlipForConditionalGeneration`), read from a
 * .safetensors file in transformers' key layout: a ViT image encoder under `vision_model.` (fused `qkv`
 * projection, `post_layernorm`) and a BERT decoder under `text_decoder.bert.` (causal self-attention,
 * cross-attention to the image tokens, post-LayerNorm) with its LM head under `text_decoder.cls.predictions.`.
 * Widths, depths, patch and image size, vocabulary and position counts come from tensor shapes; the head count,
 * which shapes do not carry, from the 64-wide heads every published BLIP uses (ViT-B 12, ViT-L 16, BERT-base 12).
 * Anything else is refused with a BlipLayoutError naming the file and the key.
 */
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';

export const BLIP_VISION_PREFIX = 'vision_model.';
export const BLIP_TEXT_PREFIX = 'text_decoder.bert.';
export const BLIP_HEAD_PREFIX = 'text_decoder.cls.predictions.';
/** Published BLIP heads are 64 wide in both towers. */
const HEAD_WIDTH = 64;

/** A file that is not a BLIP captioner in transformers' layout. */
export class BlipLayoutError extends FooocusError {
  declare readonly file: string;

  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: not a BLIP captioning model (transformers' BlipForConditionalGeneration): ${detail}`, { file, rule: 'blip-layout' });
  }
}

export interface BlipVisionConfig {
  width: number;
  layers: number;
  heads: number;
  patch: number;
  imageSize: number;
  /** Patches plus the class token. */
  tokens: number;
  mlpWidth: number;
}

export interface BlipTextConfig {
  width: number;
  layers: number;
  heads: number;
  intermediate: number;
  vocabSize: number;
  maxPositions: number;
  /** Width of the image tokens the cross-attention reads (the vision width). */
  encoderWidth: number;
  /** The LM head's output weight: its own key when stored, else the tied word embeddings. */
  headWeightKey: string;
  headBiasKey: string;
}

export interface BlipConfig {
  vision: BlipVisionConfig;
  text: BlipTextConfig;
}

function headsOf(file: string, width: number, what: string): number {
  if (width % HEAD_WIDTH !== 0) throw new BlipLayoutError(file, `${what} width ${width} does not split into ${HEAD_WIDTH}-wide heads`);
  return width / HEAD_WIDTH;
}

function countLayers(header: SafetensorsHeader, keyOf: (layer: number) => string): number {
  let layers = 0;
  while (header.tensors.has(keyOf(layers))) layers++;
  return layers;
}

/** `headWidth` overrides the 64-wide heads for tiny test models. */
export function detectBlipLayout(header: SafetensorsHeader, { headWidth = HEAD_WIDTH }: { headWidth?: number } = {}): BlipConfig {
  const file = header.file;
  const shape = (key: string, rank: number): number[] => {
    const s = header.tensors.get(key)?.shape;
    if (s === undefined) throw new BlipLayoutError(file, `"${key}" is missing`);
    if (s.length !== rank) throw new BlipLayoutError(file, `"${key}" has shape [${s}], expected ${rank} dimensions`);
    return s;
  };
  const expect = (key: string, expected: readonly number[]): void => {
    const s = shape(key, expected.length);
    if (s.some((d, i) => d !== expected[i])) throw new BlipLayoutError(file, `"${key}" has shape [${s}], expected [${expected}]`);
  };
  const heads = (width: number, what: string): number => (headWidth === HEAD_WIDTH ? headsOf(file, width, what) : width / headWidth);

  // 1. the image encoder
  const v = BLIP_VISION_PREFIX;
  const [width, channels, patch, patchW] = shape(`${v}embeddings.patch_embedding.weight`, 4) as [number, number, number, number];
  if (channels !== 3 || patchW !== patch) throw new BlipLayoutError(file, `"${v}embeddings.patch_embedding.weight" is not a square RGB patch embedding`);
  const [, tokens, positionWidth] = shape(`${v}embeddings.position_embedding`, 3) as [number, number, number];
  const side = Math.round(Math.sqrt(tokens - 1));
  if (positionWidth !== width || side * side !== tokens - 1) throw new BlipLayoutError(file, `"${v}embeddings.position_embedding" does not fit ${width}-wide patch embeddings`);
  expect(`${v}embeddings.class_embedding`, [1, 1, width]);
  const visionLayers = countLayers(header, (i) => `${v}encoder.layers.${i}.self_attn.qkv.weight`);
  if (visionLayers === 0) throw new BlipLayoutError(file, `"${v}encoder.layers.0.self_attn.qkv.weight" is missing`);
  const mlpWidth = shape(`${v}encoder.layers.0.mlp.fc1.weight`, 2)[0]!;
  for (let i = 0; i < visionLayers; i++) {
    const p = `${v}encoder.layers.${i}.`;
    expect(`${p}self_attn.qkv.weight`, [3 * width, width]);
    expect(`${p}self_attn.qkv.bias`, [3 * width]);
    expect(`${p}self_attn.projection.weight`, [width, width]);
    expect(`${p}mlp.fc1.weight`, [mlpWidth, width]);
    expect(`${p}mlp.fc2.weight`, [width, mlpWidth]);
    expect(`${p}layer_norm1.weight`, [width]);
    expect(`${p}layer_norm2.weight`, [width]);
  }
  expect(`${v}post_layernorm.weight`, [width]);
  const vision: BlipVisionConfig = { width, layers: visionLayers, heads: heads(width, 'vision'), patch, imageSize: side * patch, tokens, mlpWidth };

  // 2. the text decoder
  const t = BLIP_TEXT_PREFIX;
  const [vocabSize, textWidth] = shape(`${t}embeddings.word_embeddings.weight`, 2) as [number, number];
  const [maxPositions] = shape(`${t}embeddings.position_embeddings.weight`, 2) as [number];
  expect(`${t}embeddings.position_embeddings.weight`, [maxPositions, textWidth]);
  const textLayers = countLayers(header, (i) => `${t}encoder.layer.${i}.attention.self.query.weight`);
  if (textLayers === 0) throw new BlipLayoutError(file, `"${t}encoder.layer.0.attention.self.query.weight" is missing`);
  const intermediate = shape(`${t}encoder.layer.0.intermediate.dense.weight`, 2)[0]!;
  for (let i = 0; i < textLayers; i++) {
    const p = `${t}encoder.layer.${i}.`;
    for (const name of ['query', 'key', 'value']) expect(`${p}attention.self.${name}.weight`, [textWidth, textWidth]);
    expect(`${p}attention.output.dense.weight`, [textWidth, textWidth]);
    expect(`${p}crossattention.self.query.weight`, [textWidth, textWidth]);
    for (const name of ['key', 'value']) expect(`${p}crossattention.self.${name}.weight`, [textWidth, width]);
    expect(`${p}crossattention.output.dense.weight`, [textWidth, textWidth]);
    expect(`${p}intermediate.dense.weight`, [intermediate, textWidth]);
    expect(`${p}output.dense.weight`, [textWidth, intermediate]);
  }
  expect(`${BLIP_HEAD_PREFIX}transform.dense.weight`, [textWidth, textWidth]);
  const storedHead = `${BLIP_HEAD_PREFIX}decoder.weight`;
  const headWeightKey = header.tensors.has(storedHead) ? storedHead : `${t}embeddings.word_embeddings.weight`;
  expect(headWeightKey, [vocabSize, textWidth]);
  const headBiasKey = header.tensors.has(`${BLIP_HEAD_PREFIX}bias`) ? `${BLIP_HEAD_PREFIX}bias` : `${BLIP_HEAD_PREFIX}decoder.bias`;
  expect(headBiasKey, [vocabSize]);
  const text: BlipTextConfig = {
    width: textWidth,
    layers: textLayers,
    heads: heads(textWidth, 'text'),
    intermediate,
    vocabSize,
    maxPositions,
    encoderWidth: width,
    headWeightKey,
    headBiasKey,
  };
  return { vision, text };
}
