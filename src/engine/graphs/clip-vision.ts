/**
 * The CLIP vision transformer (Radford et al. 2021; Dosovitskiy et al. 2021's ViT) up to its penultimate hidden
 * state, the image features IP-Adapter Plus reads, as an ONNX graph named by transformers' `vision_model.*` keys.
 *
 * Input:   pixel_values [B, 3, S, S], CLIP-normalized (clip-image-preprocess.ts)
 * Output:  hidden [B, tokens, width]: the output of the second-to-last encoder layer (hidden_states[-2]),
 *          before post_layernorm
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { VISION_PREFIX, type VisionEncoderConfig } from '../ip-adapter/vision-encoder-layout.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, gelu, layerNorm, linear, quickGelu } from './layers.ts';

const NORM_EPS = 1e-5;

/** Patch embedding (a strided conv, no bias), the class token in front, learned positions, pre-LayerNorm. */
function buildVisionEmbeddings(g: GraphBuilder, pixels: string, cfg: VisionEncoderConfig): string {
  const p = `${VISION_PREFIX}embeddings.`;
  const patches = g.op('Conv', [pixels, g.weight(`${p}patch_embedding.weight`)], {
    kernel_shape: attr.ints([cfg.patch, cfg.patch]),
    strides: attr.ints([cfg.patch, cfg.patch]),
  }); // [B, W, S/p, S/p]
  const tokens = g.op('Transpose', [g.op('Reshape', [patches, g.constInt64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) }); // [B, tokens-1, W]
  const batch = g.op('Slice', [g.op('Shape', [pixels]), g.constInt64([0]), g.constInt64([1])]);
  const classShape = g.op('Concat', [batch, g.constInt64([1, cfg.width])], { axis: attr.int(0) });
  const classToken = g.op('Expand', [g.op('Reshape', [g.weight(`${p}class_embedding`, [cfg.width]), g.constInt64([1, 1, cfg.width])]), classShape]); // [B, 1, W]
  const withClass = g.op('Concat', [classToken, tokens], { axis: attr.int(1) }); // [B, tokens, W]
  const positions = g.op('Unsqueeze', [g.weight(`${p}position_embedding.weight`, [cfg.tokens, cfg.width]), g.constInt64([0])]);
  return layerNorm(g, g.op('Add', [withClass, positions]), `${VISION_PREFIX}pre_layrnorm.`, NORM_EPS);
}

/** One pre-LayerNorm encoder layer: x + out_proj(attention(ln1(x))), then x + fc2(act(fc1(ln2(x)))). */
function buildVisionLayer(g: GraphBuilder, x: string, cfg: VisionEncoderConfig, layer: number): string {
  const p = `${VISION_PREFIX}encoder.layers.${layer}.`;
  const n1 = layerNorm(g, x, `${p}layer_norm1.`, NORM_EPS);
  const q = linear(g, n1, `${p}self_attn.q_proj.`);
  const k = linear(g, n1, `${p}self_attn.k_proj.`);
  const v = linear(g, n1, `${p}self_attn.v_proj.`);
  const h = g.op('Add', [x, linear(g, attention(g, q, k, v, cfg.heads, cfg.width / cfg.heads), `${p}self_attn.out_proj.`)]);
  const hidden = linear(g, layerNorm(g, h, `${p}layer_norm2.`, NORM_EPS), `${p}mlp.fc1.`);
  const activated = cfg.activation === 'gelu' ? gelu(g, hidden) : quickGelu(g, hidden);
  return g.op('Add', [h, linear(g, activated, `${p}mlp.fc2.`)]);
}

export function buildClipVisionGraph(checkpoint: SafetensorsHeader, cfg: VisionEncoderConfig): OnnxModel {
  const g = new GraphBuilder('clip-vision', checkpoint);
  const pixels = g.input('pixel_values', 'float32', ['batch', 3, cfg.imageSize, cfg.imageSize]);
  let h = buildVisionEmbeddings(g, pixels, cfg);
  // hidden_states[-2]: every layer but the last.
  for (let i = 0; i < cfg.layers - 1; i++) h = buildVisionLayer(g, h, cfg, i);
  g.output(h, 'hidden', 'float32', ['batch', cfg.tokens, cfg.width]);
  return g.build({ 'fooocus.graph': 'clip-vision' });
}
