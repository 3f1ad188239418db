/**
 * IP-Adapter Plus's Resampler (Ye et al. 2023, after Alayrac et al. 2022's Perceiver Resampler) as an ONNX graph
 * named by the file's `image_proj.*` keys: `queries` learned latents attend, layer by layer, to the projected vision
 * features concatenated with themselves, then a projection to the UNet's context width and a LayerNorm.
 *
 * Input:   image_embeds [B, tokens, vision width] (the vision encoder's penultimate hidden state)
 * Output:  image_tokens [B, queries, context width]
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { RESAMPLER_PREFIX, type ResamplerConfig } from '../ip-adapter/ip-adapter-layout.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, gelu, layerNorm, linear } from './layers.ts';

/** Perceiver attention: queries from the normed latents, keys and values from [normed features; normed latents]. */
function buildPerceiverAttention(g: GraphBuilder, features: string, latents: string, cfg: ResamplerConfig, prefix: string): string {
  const x = layerNorm(g, features, `${prefix}norm1.`);
  const l = layerNorm(g, latents, `${prefix}norm2.`);
  const q = linear(g, l, `${prefix}to_q.`); // [B, queries, inner]
  const kv = linear(g, g.op('Concat', [x, l], { axis: attr.int(1) }), `${prefix}to_kv.`); // [B, tokens + queries, 2 * inner]
  const inner = cfg.heads * cfg.headDim;
  const [k, v] = g.opN('Split', [kv, g.constInt64([inner, inner])], 2, { axis: attr.int(-1) });
  return linear(g, attention(g, q, k!, v!, cfg.heads, cfg.headDim), `${prefix}to_out.`);
}

/** LayerNorm, Linear to ffWidth, GELU, Linear back (no biases). */
function buildFeedForward(g: GraphBuilder, x: string, prefix: string): string {
  return linear(g, gelu(g, linear(g, layerNorm(g, x, `${prefix}0.`), `${prefix}1.`)), `${prefix}3.`);
}

export function buildResamplerGraph(checkpoint: SafetensorsHeader, cfg: ResamplerConfig): OnnxModel {
  const g = new GraphBuilder('ip-resampler', checkpoint);
  const p = RESAMPLER_PREFIX;
  const embeds = g.input('image_embeds', 'float32', ['batch', 'tokens', cfg.inputWidth]);
  const features = linear(g, embeds, `${p}proj_in.`); // [B, tokens, width]
  const batch = g.op('Slice', [g.op('Shape', [embeds]), g.constInt64([0]), g.constInt64([1])]);
  const latentShape = g.op('Concat', [batch, g.constInt64([cfg.queries, cfg.width])], { axis: attr.int(0) });
  let latents = g.op('Expand', [g.weight(`${p}latents`, [1, cfg.queries, cfg.width]), latentShape]); // [B, queries, width]
  for (let i = 0; i < cfg.depth; i++) {
    latents = g.op('Add', [buildPerceiverAttention(g, features, latents, cfg, `${p}layers.${i}.0.`), latents]);
    latents = g.op('Add', [buildFeedForward(g, latents, `${p}layers.${i}.1.`), latents]);
  }
  const tokens = layerNorm(g, linear(g, latents, `${p}proj_out.`), `${p}norm_out.`);
  g.output(tokens, 'image_tokens', 'float32', ['batch', cfg.queries, cfg.outputWidth]);
  return g.build({ 'fooocus.graph': 'ip-resampler' });
}
