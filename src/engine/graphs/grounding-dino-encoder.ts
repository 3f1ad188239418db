/**
 * GroundingDINO's feature enhancer (Liu et al. 2023, sec. 3.2), in transformers' `GroundingDinoEncoder` layout:
 * per layer, image-text fusion (bi-directional cross attention with layer scales), then text self-attention under
 * the phrase mask, then multi-scale deformable self-attention on the image tokens. Also the vision neck that
 * turns backbone stages into the encoder's levels.
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { deformableAttention, type LevelGeometry } from './grounding-dino-deformable.ts';
import { attention, groupNorm, layerNorm, linear } from './layers.ts';

/** Sizes of the detector transformer, from its weights (heads from the fixed head widths of the family). */
export interface GroundingDinoTransformerShape {
  width: number;
  /** Deformable attention and decoder heads (8 of 32 at width 256). */
  heads: number;
  levels: number;
  points: number;
  encoderLayers: number;
  decoderLayers: number;
}

const NORM_EPS = 1e-5;
/** GroupNorm groups of the input projections (fixed by the model, not by its width). */
const NECK_GROUPS = 32;

/** Backbone stages -> `levels` maps of `width` channels: 1x1 conv + GroupNorm per stage, 3x3 stride-2 convs after. */
export function buildVisionNeck(g: GraphBuilder, stages: readonly string[], levels: number): string[] {
  const maps = stages.map((s, i) => groupNorm(g, projectConv(g, s, `model.input_proj_vision.${i}.0.`, 1, 0), `model.input_proj_vision.${i}.1.`, NECK_GROUPS, NORM_EPS));
  for (let l = stages.length; l < levels; l++) {
    const source = l === stages.length ? stages[stages.length - 1]! : maps[maps.length - 1]!;
    maps.push(groupNorm(g, projectConv(g, source, `model.input_proj_vision.${l}.0.`, 2, 1), `model.input_proj_vision.${l}.1.`, NECK_GROUPS, NORM_EPS));
  }
  return maps;
}

function projectConv(g: GraphBuilder, x: string, prefix: string, stride: number, padding: number): string {
  const k = g.shapeOf(`${prefix}weight`)![2]!;
  return g.op('Conv', [x, g.weight(`${prefix}weight`), g.weight(`${prefix}bias`)], {
    kernel_shape: attr.ints([k, k]),
    strides: attr.ints([stride, stride]),
    pads: attr.ints([padding, padding, padding, padding]),
  });
}

/** transformers' `GroundingDinoMultiheadAttention`: query/key/value/out_proj, optional additive mask. */
export function multiheadAttention(g: GraphBuilder, prefix: string, queries: string, keys: string, values: string, heads: number, mask?: string): string {
  const width = g.shapeOf(`${prefix}query.weight`)![0]!;
  const q = linear(g, queries, `${prefix}query.`);
  const k = linear(g, keys, `${prefix}key.`);
  const v = linear(g, values, `${prefix}value.`);
  return linear(g, attention(g, q, k, v, heads, width / heads, mask), `${prefix}out_proj.`);
}

/** Position embedding of text tokens: interleaved sin/cos of id * 2pi / 10000^(2 floor(k/2) / width). */
export function textPositionEmbedding(g: GraphBuilder, positionIds: string, width: number): string {
  const frequencies = Float32Array.from({ length: width }, (_, k) => (2 * Math.PI) / 10000 ** ((2 * Math.floor(k / 2)) / width));
  const angles = g.op('Mul', [g.op('Unsqueeze', [g.op('Cast', [positionIds], { to: attr.int(1) }), g.constInt64([2])]), g.constFloat(frequencies, [width])]); // [1, T, W]
  const even = Float32Array.from({ length: width }, (_, k) => (k % 2 === 0 ? 1 : 0));
  const odd = even.map((v) => 1 - v);
  return g.op('Add', [g.op('Mul', [g.op('Sin', [angles]), g.constFloat(even, [width])]), g.op('Mul', [g.op('Cos', [angles]), g.constFloat(odd, [width])])]);
}

/** [1, N, heads*d] -> [heads, N, d] */
function splitHeads(g: GraphBuilder, x: string, heads: number, d: number): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.constInt64([0, 0, heads, d])])], { perm: attr.ints([0, 2, 1, 3]) });
}

/** [1, heads, N, d] -> [1, N, heads*d] */
function mergeHeads(g: GraphBuilder, x: string, width: number): string {
  return g.op('Reshape', [g.op('Transpose', [x], { perm: attr.ints([0, 2, 1, 3]) }), g.constInt64([0, 0, width])]);
}

/**
 * Bi-directional image-text attention (`GroundingDinoBiMultiHeadAttention`): one score matrix, softmax over text
 * for the image side and over image tokens for the text side, after the same max-shift and +-50000 clamp.
 */
function biAttention(g: GraphBuilder, p: string, vision: string, text: string, heads: number): [string, string] {
  const embed = g.shapeOf(`${p}vision_proj.weight`)![0]!;
  const d = embed / heads;
  const q = splitHeads(g, g.op('Mul', [linear(g, vision, `${p}vision_proj.`), g.constFloat([d ** -0.5], [])]), heads, d); // [1, h, Nv, d]
  const k = splitHeads(g, linear(g, text, `${p}text_proj.`), heads, d); // [1, h, Nt, d]
  const vv = splitHeads(g, linear(g, vision, `${p}values_vision_proj.`), heads, d);
  const tv = splitHeads(g, linear(g, text, `${p}values_text_proj.`), heads, d);
  const raw = g.op('MatMul', [q, g.op('Transpose', [k], { perm: attr.ints([0, 1, 3, 2]) })]); // [1, h, Nv, Nt]
  const clamp = (x: string): string => g.op('Clip', [x, g.constFloat([-50000], []), g.constFloat([50000], [])]);
  const shifted = clamp(g.op('Sub', [raw, g.op('ReduceMax', [raw], { keepdims: attr.int(1) })]));
  const visionOut = g.op('MatMul', [g.op('Softmax', [shifted], { axis: attr.int(-1) }), tv]); // [1, h, Nv, d]
  const transposed = g.op('Transpose', [shifted], { perm: attr.ints([0, 1, 3, 2]) }); // [1, h, Nt, Nv]
  const textScores = clamp(g.op('Sub', [transposed, g.op('ReduceMax', [transposed], { axes: attr.ints([-1]), keepdims: attr.int(1) })]));
  const textOut = g.op('MatMul', [g.op('Softmax', [textScores], { axis: attr.int(-1) }), vv]); // [1, h, Nt, d]
  return [linear(g, mergeHeads(g, visionOut, embed), `${p}out_vision_proj.`), linear(g, mergeHeads(g, textOut, embed), `${p}out_text_proj.`)];
}

function feedForward(g: GraphBuilder, x: string, fc1: string, fc2: string): string {
  return linear(g, g.op('Relu', [linear(g, x, fc1)]), fc2);
}

export interface EncoderInputs {
  /** [1, S, W] flattened level features. */
  vision: string;
  /** [1, S, W] level position embeddings (sine + level embedding). */
  visionPositions: string;
  /** [1, S, L, 2] reference points. */
  reference: string;
  geometry: LevelGeometry;
  /** [1, T, W] projected text features. */
  text: string;
  /** [1, T, W] text position embeddings. */
  textPositions: string;
  /** [1, 1, T, T] additive phrase mask. */
  textMask: string;
}

/** The encoder's layers; returns the enhanced [vision, text]. */
export function buildGroundingEncoder(g: GraphBuilder, inputs: EncoderInputs, shape: GroundingDinoTransformerShape): [string, string] {
  let { vision, text } = inputs;
  const pairHeads = shape.heads / 2;
  for (let i = 0; i < shape.encoderLayers; i++) {
    const p = `model.encoder.layers.${i}.`;
    // 1. fusion: residuals start from the normed features
    const f = `${p}fusion_layer.`;
    const normedVision = layerNorm(g, vision, `${f}layer_norm_vision.`, NORM_EPS);
    const normedText = layerNorm(g, text, `${f}layer_norm_text.`, NORM_EPS);
    const [deltaVision, deltaText] = biAttention(g, `${f}attn.`, normedVision, normedText, pairHeads);
    vision = g.op('Add', [normedVision, g.op('Mul', [g.weight(`${f}vision_param`), deltaVision])]);
    text = g.op('Add', [normedText, g.op('Mul', [g.weight(`${f}text_param`), deltaText])]);
    // 2. text self-attention (post-norm), positions on queries and keys
    const t = `${p}text_enhancer_layer.`;
    const withPositions = g.op('Add', [text, inputs.textPositions]);
    text = layerNorm(g, g.op('Add', [text, multiheadAttention(g, `${t}self_attn.`, withPositions, withPositions, text, pairHeads, inputs.textMask)]), `${t}layer_norm_before.`, NORM_EPS);
    text = layerNorm(g, g.op('Add', [text, feedForward(g, text, `${t}fc1.`, `${t}fc2.`)]), `${t}layer_norm_after.`, NORM_EPS);
    // 3. deformable self-attention on the image tokens (positions on the queries only)
    const d = `${p}deformable_layer.`;
    const query = g.op('Add', [vision, inputs.visionPositions]);
    const attended = deformableAttention(g, `${d}self_attn.`, query, vision, inputs.reference, 2, inputs.geometry, shape);
    vision = layerNorm(g, g.op('Add', [vision, attended]), `${d}self_attn_layer_norm.`, NORM_EPS);
    vision = layerNorm(g, g.op('Add', [vision, feedForward(g, vision, `${d}fc1.`, `${d}fc2.`)]), `${d}final_layer_norm.`, NORM_EPS);
  }
  return [vision, text];
}
