/**
 * BLIP's image encoder (Li et al. 2022; a ViT, Dosovitskiy et al. 2021) as an ONNX graph named by transformers'
 * `vision_model.*` keys: patch embedding with bias, class token, learned positions (no pre-LayerNorm, unlike CLIP),
 * pre-LayerNorm layers with one fused `qkv` projection, exact GELU, and `post_layernorm` on every token.
 *
 * Input:   pixel_values [B, 3, S, S], CLIP-normalized
 * Output:  image_embeds [B, tokens, width]: the last hidden state after post_layernorm, what the decoder attends to
 */
import { BLIP_VISION_PREFIX, type BlipVisionConfig } from '../describe/blip-layout.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, gelu, layerNorm, linear, projectLastAxis } from './layers.ts';

/** transformers' BlipVisionConfig.layer_norm_eps. */
const NORM_EPS = 1e-5;

function buildEmbeddings(g: GraphBuilder, pixels: string, cfg: BlipVisionConfig): string {
  const p = `${BLIP_VISION_PREFIX}embeddings.`;
  const patches = g.op('Conv', [pixels, g.weight(`${p}patch_embedding.weight`), g.weight(`${p}patch_embedding.bias`)], {
    kernel_shape: attr.ints([cfg.patch, cfg.patch]),
    strides: attr.ints([cfg.patch, cfg.patch]),
  }); // [B, W, S/p, S/p]
  const tokens = g.op('Transpose', [g.op('Reshape', [patches, g.constInt64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) }); // [B, tokens-1, W]
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.constInt64([0]), g.constInt64([1])]);
  const classShape = g.op('Concat', [batch, g.constInt64([1, cfg.width])], { axis: attr.int(0) });
  const classToken = g.op('Expand', [g.weight(`${p}class_embedding`, [1, 1, cfg.width]), classShape]); // [B, 1, W]
  const withClass = g.op('Concat', [classToken, tokens], { axis: attr.int(1) }); // [B, tokens, W]
  return g.op('Add', [withClass, g.weight(`${p}position_embedding`, [1, cfg.tokens, cfg.width])]);
}

/** The fused projection read as three [W, W] row blocks of `qkv.weight` (q, k, v in that order), each in place. */
function projectQkv(g: GraphBuilder, x: string, prefix: string, width: number): [string, string, string] {
  const project = (block: number): string =>
    projectLastAxis(g, x, g.weightRows(`${prefix}weight`, block * width, width), g.weightRows(`${prefix}bias`, block * width, width), width, width);
  return [project(0), project(1), project(2)];
}

/** x + projection(attention(ln1(x))), then x + fc2(gelu(fc1(ln2(x)))). */
function buildLayer(g: GraphBuilder, x: string, cfg: BlipVisionConfig, layer: number): string {
  const p = `${BLIP_VISION_PREFIX}encoder.layers.${layer}.`;
  const [q, k, v] = projectQkv(g, layerNorm(g, x, `${p}layer_norm1.`, NORM_EPS), `${p}self_attn.qkv.`, cfg.width);
  const h = g.op('Add', [x, linear(g, attention(g, q, k, v, cfg.heads, cfg.width / cfg.heads), `${p}self_attn.projection.`)]);
  const hidden = gelu(g, linear(g, layerNorm(g, h, `${p}layer_norm2.`, NORM_EPS), `${p}mlp.fc1.`));
  return g.op('Add', [h, linear(g, hidden, `${p}mlp.fc2.`)]);
}

export function buildBlipVisionGraph(checkpoint: SafetensorsHeader, cfg: BlipVisionConfig): OnnxModel {
  const g = new GraphBuilder('blip-vision', checkpoint);
  const pixels = g.input('pixel_values', 'float32', ['batch', 3, cfg.imageSize, cfg.imageSize]);
  let h = buildEmbeddings(g, pixels, cfg);
  for (let i = 0; i < cfg.layers; i++) h = buildLayer(g, h, cfg, i);
  g.output(layerNorm(g, h, `${BLIP_VISION_PREFIX}post_layernorm.`, NORM_EPS), 'image_embeds', 'float32', ['batch', cfg.tokens, cfg.width]);
  return g.build({ 'fooocus.graph': 'blip-vision' });
}
