/**
 * BLIP's caption decoder (Li et al. 2022): a BERT (Devlin et al. 2018) with causal self-attention, cross-attention
 * to the image tokens and an LM head, as two ONNX graphs named by transformers' `text_decoder.*` keys.
 *
 * `blip-image-memory`: image_embeds [1, N, E] -> cross_key_<i>, cross_value_<i> [1, N, W] for every layer. The image
 * side of the cross-attention is the same for every token, so it is projected once per image.
 *
 * `blip-text-step`: the decoder over new tokens with a key/value cache (Vaswani et al. 2017's incremental decoding).
 *   input_ids [1, T] (int64), past_key_<i>, past_value_<i> [1, P, W] (P may be 0), cross_key_<i>, cross_value_<i>
 *   -> logits [1, vocab] of the last new token, present_key_<i>, present_value_<i> [1, P + T, W].
 * Feeding the whole sequence with P = 0 re-runs the decoder from scratch; the same graph serves both.
 *
 * Post-LayerNorm BERT layers: a = LN(x + SelfAttn(x)), c = LN(a + CrossAttn(a, image)), LN(c + FFN(c)); positions
 * are absolute (P .. P + T - 1), embeddings word + position then LayerNorm; no token-type embeddings.
 */
import { BLIP_HEAD_PREFIX, BLIP_TEXT_PREFIX, type BlipTextConfig } from '../describe/blip-layout.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { attention, gelu, layerNorm, linear } from './layers.ts';

/** transformers' BlipTextConfig.layer_norm_eps (BERT's). */
const NORM_EPS = 1e-12;
/** What a masked score becomes: float32's lowest value, as transformers' extended attention mask uses. */
const MASKED = -3.4028234663852886e38;

export const memoryNames = (layer: number): { key: string; value: string } => ({ key: `cross_key_${layer}`, value: `cross_value_${layer}` });
export const pastNames = (layer: number): { key: string; value: string } => ({ key: `past_key_${layer}`, value: `past_value_${layer}` });
export const presentNames = (layer: number): { key: string; value: string } => ({ key: `present_key_${layer}`, value: `present_value_${layer}` });

const layerPrefix = (layer: number): string => `${BLIP_TEXT_PREFIX}encoder.layer.${layer}.`;

export function buildBlipImageMemoryGraph(checkpoint: SafetensorsHeader, cfg: BlipTextConfig): OnnxModel {
  const g = new GraphBuilder('blip-image-memory', checkpoint);
  const image = g.input('image_embeds', 'float32', [1, 'tokens', cfg.encoderWidth]);
  for (let i = 0; i < cfg.layers; i++) {
    const p = `${layerPrefix(i)}crossattention.self.`;
    const names = memoryNames(i);
    g.output(linear(g, image, `${p}key.`), names.key, 'float32', [1, 'tokens', cfg.width]);
    g.output(linear(g, image, `${p}value.`), names.value, 'float32', [1, 'tokens', cfg.width]);
  }
  return g.build({ 'fooocus.graph': 'blip-image-memory' });
}

/** A scalar int64 element of a shape vector. */
function dimOf(g: GraphBuilder, value: string, axis: number): string {
  return g.op('Gather', [g.op('Shape', [value]), g.constInt64([axis], [])]);
}

/** Absolute positions P .. P+T-1 and the causal mask [T, P+T] (0 where key j <= query position, else MASKED). */
function buildPositions(g: GraphBuilder, ids: string, pastKey: string): { positions: string; mask: string } {
  const past = dimOf(g, pastKey, 1);
  const total = g.op('Add', [past, dimOf(g, ids, 1)]);
  const one = g.constInt64([1], []);
  const positions = g.op('Range', [past, total, one]); // [T]
  const keys = g.op('Range', [g.constInt64([0], []), total, one]); // [P+T]
  const future = g.op('Greater', [g.op('Unsqueeze', [keys, g.constInt64([0])]), g.op('Unsqueeze', [positions, g.constInt64([1])])]); // [T, P+T]
  const mask = g.op('Where', [future, g.constFloat([MASKED], []), g.constFloat([0], [])]);
  return { positions, mask };
}

interface StepLayer {
  hidden: string;
  presentKey: string;
  presentValue: string;
}

function buildStepLayer(g: GraphBuilder, x: string, mask: string, cfg: BlipTextConfig, layer: number): StepLayer {
  const p = layerPrefix(layer);
  const headDim = cfg.width / cfg.heads;
  const past = pastNames(layer);
  const memory = memoryNames(layer);
  const presentKey = g.op('Concat', [past.key, linear(g, x, `${p}attention.self.key.`)], { axis: attr.int(1) }); // [1, P+T, W]
  const presentValue = g.op('Concat', [past.value, linear(g, x, `${p}attention.self.value.`)], { axis: attr.int(1) });
  const selfOut = attention(g, linear(g, x, `${p}attention.self.query.`), presentKey, presentValue, cfg.heads, headDim, mask);
  const a = layerNorm(g, g.op('Add', [linear(g, selfOut, `${p}attention.output.dense.`), x]), `${p}attention.output.LayerNorm.`, NORM_EPS);
  const crossOut = attention(g, linear(g, a, `${p}crossattention.self.query.`), memory.key, memory.value, cfg.heads, headDim);
  const c = layerNorm(g, g.op('Add', [linear(g, crossOut, `${p}crossattention.output.dense.`), a]), `${p}crossattention.output.LayerNorm.`, NORM_EPS);
  const ffn = linear(g, gelu(g, linear(g, c, `${p}intermediate.dense.`)), `${p}output.dense.`);
  return { hidden: layerNorm(g, g.op('Add', [ffn, c]), `${p}output.LayerNorm.`, NORM_EPS), presentKey, presentValue };
}

/** The LM head on the last token: dense, GELU, LayerNorm, then the (tied) vocabulary projection. */
function buildHead(g: GraphBuilder, hidden: string, cfg: BlipTextConfig): string {
  const last = g.op('Slice', [hidden, g.constInt64([-1]), g.constInt64([2 ** 31]), g.constInt64([1])]); // [1, 1, W]
  const h = gelu(g, linear(g, last, `${BLIP_HEAD_PREFIX}transform.dense.`));
  const normed = layerNorm(g, h, `${BLIP_HEAD_PREFIX}transform.LayerNorm.`, NORM_EPS);
  // A plain Gemm on [1, W]: with the generic last-axis projection (Reshape back through Shape/Concat) here, ONNX
  // Runtime's graph optimizer failed at session creation, looking up a node output its own folding had removed.
  const flat = g.op('Reshape', [normed, g.constInt64([1, cfg.width])]);
  return g.op('Gemm', [flat, g.weight(cfg.headWeightKey), g.weight(cfg.headBiasKey)], { transB: attr.int(1) }); // [1, V]
}

export function buildBlipTextStepGraph(checkpoint: SafetensorsHeader, cfg: BlipTextConfig): OnnxModel {
  const g = new GraphBuilder('blip-text-step', checkpoint);
  const ids = g.input('input_ids', 'int64', [1, 'new']);
  for (let i = 0; i < cfg.layers; i++) {
    const past = pastNames(i);
    g.input(past.key, 'float32', [1, 'past', cfg.width]);
    g.input(past.value, 'float32', [1, 'past', cfg.width]);
    const memory = memoryNames(i);
    g.input(memory.key, 'float32', [1, 'tokens', cfg.width]);
    g.input(memory.value, 'float32', [1, 'tokens', cfg.width]);
  }
  const e = `${BLIP_TEXT_PREFIX}embeddings.`;
  const { positions, mask } = buildPositions(g, ids, pastNames(0).key);
  const words = g.op('Gather', [g.weight(`${e}word_embeddings.weight`), ids]); // [1, T, W]
  const placed = g.op('Add', [words, g.op('Gather', [g.weight(`${e}position_embeddings.weight`), positions])]);
  let h = layerNorm(g, placed, `${e}LayerNorm.`, NORM_EPS);
  for (let i = 0; i < cfg.layers; i++) {
    const layer = buildStepLayer(g, h, mask, cfg, i);
    h = layer.hidden;
    const present = presentNames(i);
    g.output(layer.presentKey, present.key, 'float32', [1, 'all', cfg.width]);
    g.output(layer.presentValue, present.value, 'float32', [1, 'all', cfg.width]);
  }
  g.output(buildHead(g, h, cfg), 'logits', 'float32', [1, cfg.vocabSize]);
  return g.build({ 'fooocus.graph': 'blip-text-step' });
}
