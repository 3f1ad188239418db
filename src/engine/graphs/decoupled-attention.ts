/**
 * IP-Adapter's decoupled cross-attention (Ye et al. 2023, eq. 5): each cross-attention layer of the UNet adds,
 * to its attention over the text tokens, lambda times an attention of the same queries over the image tokens'
 * own keys and values, Attention(Q, K_t, V_t) + lambda * Attention(Q, K_i, V_i), before the output projection.
 * Several image prompts each get their own softmax and their own lambda.
 *
 * The image keys and values are graph inputs, projected once per image outside the UNet (ip-key-value graph), and
 * so is lambda (`ip_scale` [layers, prompts]): any image, adapter file, mix of prompts or weight runs through one
 * graph, which is built once.
 */
import type { UnetConfig } from '../models/architecture.ts';
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';

export interface ImagePromptLayers {
  /** Cross-attention key prefix -> its index in the IP-Adapter's order. */
  indexOf: ReadonlyMap<string, number>;
  scale: string;
}

export const IP_SCALE_INPUT = 'ip_scale';

export function ipKeyInput(layer: number): string {
  return `ip_k.${layer}`;
}

export function ipValueInput(layer: number): string {
  return `ip_v.${layer}`;
}

/**
 * The cross-attention layers (`attn2.` key prefixes) in the order IP-Adapter files number them: the input blocks,
 * then the output blocks, then the middle block (the module order of the publisher's UNet), each block's
 * transformer layers in turn.
 */
export function ipAdapterLayerOrder(cfg: UnetConfig): string[] {
  const prefixes: string[] = [];
  const add = (block: string, depth: number) => {
    for (let i = 0; i < depth; i++) prefixes.push(`${cfg.prefix}${block}.1.transformer_blocks.${i}.attn2.`);
  };
  cfg.inputTransformerDepth.forEach((depth, block) => add(`input_blocks.${block}`, depth ?? 0));
  cfg.outputTransformerDepth.forEach((depth, block) => add(`output_blocks.${block}`, depth ?? 0));
  add('middle_block', cfg.middleTransformerDepth);
  return prefixes;
}

export function createImagePromptLayers(g: GraphBuilder, cfg: UnetConfig): ImagePromptLayers {
  const order = ipAdapterLayerOrder(cfg);
  const scale = g.input(IP_SCALE_INPUT, 'float32', [order.length, 'prompts']);
  return { indexOf: new Map(order.map((prefix, i) => [prefix, i])), scale };
}

/**
 * `textOut` [B, N, C] plus the scaled attention of `q` [B, N, C] over every prompt's image keys and values
 * [B, P, T, C]: scores [B, H, P, N, T] get a softmax per prompt, are weighted by that prompt's scale, and the
 * prompts' outputs are summed.
 */
export function addImagePromptAttention(g: GraphBuilder, layers: ImagePromptLayers, prefix: string, q: string, textOut: string, heads: number, width: number): string {
  const layer = layers.indexOf.get(prefix);
  if (layer === undefined) throw new Error(`graph "${g.name}": "${prefix}" is not a cross-attention layer of this UNet`);
  const headDim = width / heads;
  const keys = g.input(ipKeyInput(layer), 'float32', ['batch', 'prompts', 'image_tokens', width]);
  const values = g.input(ipValueInput(layer), 'float32', ['batch', 'prompts', 'image_tokens', width]);
  const split = g.constInt64([0, 0, 0, heads, headDim]);
  const qh = g.op('Unsqueeze', [g.op('Transpose', [g.op('Reshape', [q, g.constInt64([0, 0, heads, headDim])])], { perm: attr.ints([0, 2, 1, 3]) }), g.constInt64([2])]); // [B, H, 1, N, D]
  const kt = g.op('Transpose', [g.op('Reshape', [keys, split])], { perm: attr.ints([0, 3, 1, 4, 2]) }); // [B, H, P, D, T]
  const vh = g.op('Transpose', [g.op('Reshape', [values, split])], { perm: attr.ints([0, 3, 1, 2, 4]) }); // [B, H, P, T, D]
  const scores = g.op('Mul', [g.op('MatMul', [qh, kt]), g.constFloat([1 / Math.sqrt(headDim)], [])]); // [B, H, P, N, T]
  const probs = g.float32Island(() => g.op('Softmax', [scores], { axis: attr.int(-1) })); // float32 in a float16 graph, as attention()
  const perPrompt = g.op('MatMul', [probs, vh]); // [B, H, P, N, D]
  const lambda = g.op('Reshape', [g.op('Gather', [layers.scale, g.constInt64([layer], [])], { axis: attr.int(0) }), g.constInt64([1, 1, -1, 1, 1])]); // [1, 1, P, 1, 1]
  const summed = g.op('ReduceSum', [g.op('Mul', [perPrompt, lambda]), g.constInt64([2])], { keepdims: attr.int(0) }); // [B, H, N, D]
  const merged = g.op('Reshape', [g.op('Transpose', [summed], { perm: attr.ints([0, 2, 1, 3]) }), g.constInt64([0, 0, width])]); // [B, N, C]
  return g.op('Add', [textOut, merged]);
}
