/**
 * Segment Anything (Kirillov et al. 2023) as the publisher's `model.safetensors` lays it out in transformers' key
 * names (facebook/sam-vit-base, -large, -huge): `vision_encoder.*` (ViT with windowed and global attention,
 * decomposed relative positions, a conv neck), `prompt_encoder.*`, `mask_decoder.*` (two-way transformer,
 * output upscaling, hypernetwork MLPs, IoU head) and `shared_image_embedding.*` (the random-Fourier positions).
 *
 * Every size comes from the tensors' shapes: width and patch from the patch embedding, the token grid from the
 * absolute positions, each layer's head width and whether it attends globally from its relative-position table
 * (2 * grid - 1 rows for a global layer, 2 * window - 1 for a windowed one). The two-way transformer's head count
 * is the one number shapes cannot show: every published SAM uses 8, the family's constant here.
 */
import path from 'node:path';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { FooocusError } from '../errors/fooocus-error.ts';

/** A file given as Segment Anything weights that does not hold them. */
export class SamLayoutError extends FooocusError {
  declare readonly file: string;

  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: not a Segment Anything (SAM) model in transformers' layout: ${detail}`, { file, rule: 'sam-layout' });
  }
}

export const SAM_VISION = 'vision_encoder.';
export const SAM_PROMPT = 'prompt_encoder.';
export const SAM_DECODER = 'mask_decoder.';

/** SAM's fixed numbers (transformers' SamConfig defaults, the same for ViT-B, -L and -H). */
export const SAM_PROFILE = {
  /** LayerNorm epsilon of the ViT, its neck, the two-way blocks and the channels-first norms. */
  normEps: 1e-6,
  /** The two-way transformer's final LayerNorm keeps PyTorch's default epsilon. */
  finalNormEps: 1e-5,
  decoderHeads: 8,
  /** ImageNet statistics on 0..255 pixels. */
  pixelMean: [123.675, 116.28, 103.53],
  pixelStd: [58.395, 57.12, 57.375],
  /** Logits above this are inside the mask. */
  maskThreshold: 0,
} as const;

export interface SamVisionLayout {
  width: number;
  patch: number;
  /** Tokens per side of the image embedding (64 for a 1024 input). */
  grid: number;
  /** Input side in pixels: patch * grid (1024). */
  imageSize: number;
  layers: number;
  heads: number;
  mlp: number;
  /** Side of the attention windows of the windowed layers (14). */
  window: number;
  /** Indexes of the layers that attend over the whole grid (ViT-B: 2, 5, 8, 11). */
  globalLayers: number[];
  /** Channels of the neck, the image embedding's (256). */
  outChannels: number;
}

export interface SamDecoderLayout {
  /** Width of prompt tokens and image embedding (256). */
  hidden: number;
  layers: number;
  heads: number;
  mlp: number;
  /** Mask tokens: one single-mask output and three multimask outputs. */
  maskTokens: number;
  /** Linear layers of each hypernetwork MLP and of the IoU head (3). */
  mlpDepth: number;
  /** Key of the [2, hidden / 2] Gaussian matrix of the random-Fourier positional encoding. */
  positionKey: string;
}

export interface SamLayout {
  vision: SamVisionLayout;
  decoder: SamDecoderLayout;
}

function countFrom0(header: SafetensorsHeader, key: (i: number) => string): number {
  let n = 0;
  while (header.tensors.has(key(n))) n++;
  return n;
}

function detectVision(header: SafetensorsHeader, fail: (detail: string) => never): SamVisionLayout {
  const shape = (key: string): number[] | undefined => header.tensors.get(key)?.shape;
  const patchKey = `${SAM_VISION}patch_embed.projection.weight`;
  const patchShape = shape(patchKey);
  if (patchShape?.length !== 4 || patchShape[1] !== 3 || patchShape[2] !== patchShape[3]) fail(`"${patchKey}" is missing or not a square RGB patch conv`);
  const [width, , patch] = patchShape as [number, number, number, number];
  const posKey = `${SAM_VISION}pos_embed`;
  const pos = shape(posKey);
  if (pos?.length !== 4 || pos[1] !== pos[2] || pos[3] !== width) fail(`"${posKey}" is missing or not [1, grid, grid, ${width}]`);
  const grid = pos![1]!;
  const layers = countFrom0(header, (i) => `${SAM_VISION}layers.${i}.attn.qkv.weight`);
  if (layers === 0) fail(`no encoder layers ("${SAM_VISION}layers.0.attn.qkv.weight" is missing)`);
  const globalLayers: number[] = [];
  let window = 0;
  let headDim = 0;
  for (let i = 0; i < layers; i++) {
    const key = `${SAM_VISION}layers.${i}.attn.rel_pos_h`;
    const rel = shape(key);
    if (rel?.length !== 2) fail(`"${key}" is missing (only SAM's relative-position attention is supported)`);
    const [rows, dim] = rel as [number, number];
    if (headDim === 0) headDim = dim;
    if (dim !== headDim || width % dim !== 0) fail(`"${key}" has head width ${dim}; expected ${headDim} dividing ${width}`);
    const span = (rows + 1) / 2;
    if (span === grid) globalLayers.push(i);
    else if (window === 0 || span === window) window = span;
    else fail(`"${key}" spans ${span} positions; the other windowed layers span ${window}`);
    const relW = shape(`${SAM_VISION}layers.${i}.attn.rel_pos_w`);
    if (relW?.[0] !== rows || relW[1] !== dim) fail(`"${SAM_VISION}layers.${i}.attn.rel_pos_w" does not match "${key}" [${rows}, ${dim}]`);
  }
  if (!Number.isInteger(window) || window < 1) window = grid; // every layer global: windows never used
  const mlp = shape(`${SAM_VISION}layers.0.mlp.lin1.weight`)?.[0];
  if (mlp === undefined) fail(`"${SAM_VISION}layers.0.mlp.lin1.weight" is missing`);
  const neck = shape(`${SAM_VISION}neck.conv1.weight`);
  if (neck?.length !== 4 || neck[1] !== width) fail(`"${SAM_VISION}neck.conv1.weight" is missing or does not take ${width} channels`);
  return { width, patch, grid, imageSize: patch * grid, layers, heads: width / headDim, mlp: mlp!, window, globalLayers, outChannels: neck![0]! };
}

function detectDecoder(header: SafetensorsHeader, hidden: number, fail: (detail: string) => never): SamDecoderLayout {
  const shape = (key: string): number[] | undefined => header.tensors.get(key)?.shape;
  const tokens = shape(`${SAM_DECODER}mask_tokens.weight`);
  if (tokens?.length !== 2 || tokens[1] !== hidden) fail(`"${SAM_DECODER}mask_tokens.weight" is missing or not [masks, ${hidden}]`);
  const layers = countFrom0(header, (i) => `${SAM_DECODER}transformer.layers.${i}.self_attn.q_proj.weight`);
  if (layers === 0) fail(`no two-way layers ("${SAM_DECODER}transformer.layers.0.self_attn.q_proj.weight" is missing)`);
  const mlp = shape(`${SAM_DECODER}transformer.layers.0.mlp.lin1.weight`)?.[0];
  if (mlp === undefined) fail(`"${SAM_DECODER}transformer.layers.0.mlp.lin1.weight" is missing`);
  const heads = SAM_PROFILE.decoderHeads;
  const cross = shape(`${SAM_DECODER}transformer.layers.0.cross_attn_token_to_image.q_proj.weight`)?.[0];
  if (cross === undefined || cross % heads !== 0 || hidden % heads !== 0) fail(`the two-way attention widths (${hidden}, ${cross}) do not split into ${heads} heads`);
  const positionKey = ['shared_image_embedding.positional_embedding', `${SAM_PROMPT}shared_embedding.positional_embedding`].find((k) => header.tensors.has(k));
  if (positionKey === undefined) fail('"shared_image_embedding.positional_embedding" is missing');
  if (shape(positionKey!)?.join() !== `2,${hidden / 2}`) fail(`"${positionKey}" is not [2, ${hidden / 2}]`);
  for (const i of [2, 3]) {
    if (shape(`${SAM_PROMPT}point_embed.${i}.weight`)?.join() !== `1,${hidden}`) fail(`"${SAM_PROMPT}point_embed.${i}.weight" (a box corner) is missing or not [1, ${hidden}]`);
  }
  if (!header.tensors.has(`${SAM_PROMPT}no_mask_embed.weight`)) fail(`"${SAM_PROMPT}no_mask_embed.weight" is missing`);
  const mlpDepth = 2 + countFrom0(header, (i) => `${SAM_DECODER}iou_prediction_head.layers.${i}.weight`);
  return { hidden, layers, heads, mlp: mlp!, maskTokens: tokens![0]!, mlpDepth, positionKey: positionKey! };
}

/** Reads SAM's sizes from the file's tensors; refuses, naming the file, anything that is not SAM. */
export function detectSamLayout(header: SafetensorsHeader): SamLayout {
  const fail = (detail: string): never => {
    throw new SamLayoutError(header.file, detail);
  };
  if (!header.tensors.has(`${SAM_VISION}patch_embed.projection.weight`) || !header.tensors.has(`${SAM_DECODER}iou_token.weight`)) {
    const sample = [...header.tensors.keys()].slice(0, 3).map((k) => `"${k}"`).join(', ');
    fail(`"${SAM_VISION}patch_embed.projection.weight" or "${SAM_DECODER}iou_token.weight" is missing (the file starts ${sample || 'with no tensors'})`);
  }
  const vision = detectVision(header, fail);
  return { vision, decoder: detectDecoder(header, vision.outChannels, fail) };
}
