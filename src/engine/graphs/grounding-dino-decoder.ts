/**
 * GroundingDINO's language-guided query selection and cross-modality decoder (Liu et al. 2023, sec. 3.3-3.4), in
 * transformers' layout: every image token proposes a box, the `queries` tokens that best match any prompt token
 * become the decoder's reference boxes, and each decoder layer refines them (box deltas on the inverse sigmoid,
 * Zhu et al. 2021's iterative refinement). The class logits are dot products with the enhanced text tokens.
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { deformableAttention, type LevelGeometry } from './grounding-dino-deformable.ts';
import { multiheadAttention, type GroundingDinoTransformerShape } from './grounding-dino-encoder.ts';
import { layerNorm, linear } from './layers.ts';

const NORM_EPS = 1e-5;

/** `GroundingDinoMLPPredictionHead`: linear layers with ReLU between them. */
export function predictionHead(g: GraphBuilder, x: string, prefix: string): string {
  let layers = 0;
  while (g.has(`${prefix}layers.${layers}.weight`)) layers++;
  let h = x;
  for (let i = 0; i < layers; i++) {
    h = linear(g, h, `${prefix}layers.${i}.`);
    if (i < layers - 1) h = g.op('Relu', [h]);
  }
  return h;
}

/** `torch.special.logit(x, eps=1e-5)`: log(x / (1 - x)) with x clamped to [eps, 1 - eps]. */
function inverseSigmoid(g: GraphBuilder, x: string): string {
  const clamped = g.op('Clip', [x, g.constFloat([1e-5], []), g.constFloat([1 - 1e-5], [])]);
  return g.op('Log', [g.op('Div', [clamped, g.op('Sub', [g.constFloat([1], []), clamped])])]);
}

/**
 * Sine embedding of boxes [1, Q, 4] -> [1, Q, 4 * half]: per coordinate, interleaved sin/cos of v * 2pi /
 * 10000^(2 floor(k/2) / half), in the order y, x, w, h (the x/y exchange of the reference implementation).
 */
function boxSineEmbedding(g: GraphBuilder, boxes: string, half: number): string {
  const frequencies = Float32Array.from({ length: half }, (_, k) => (2 * Math.PI) / 10000 ** ((2 * Math.floor(k / 2)) / half));
  const angles = g.op('Mul', [g.op('Unsqueeze', [boxes, g.constInt64([3])]), g.constFloat(frequencies, [half])]); // [1, Q, 4, half]
  const even = Float32Array.from({ length: half }, (_, k) => (k % 2 === 0 ? 1 : 0));
  const odd = even.map((v) => 1 - v);
  const mixed = g.op('Add', [g.op('Mul', [g.op('Sin', [angles]), g.constFloat(even, [half])]), g.op('Mul', [g.op('Cos', [angles]), g.constFloat(odd, [half])])]);
  const ordered = g.op('Gather', [mixed, g.constInt64([1, 0, 2, 3])], { axis: attr.int(2) });
  return g.op('Reshape', [ordered, g.constInt64([0, 0, 4 * half])]);
}

/** Box head of decoder layer `i`: its own when saved, else the shared one (the heads are tied and saved once). */
export function boxHeadPrefix(has: (key: string) => boolean, i: number): string {
  for (const p of [`bbox_embed.${i}.`, 'bbox_embed.0.', `model.decoder.bbox_embed.${i}.`, 'model.decoder.bbox_embed.0.']) if (has(`${p}layers.0.weight`)) return p;
  return `bbox_embed.${i}.`; // missing: the weight lookup names it
}

export interface QuerySelectionInputs {
  /** [1, S, W] encoder image memory. */
  memory: string;
  /** [1, T, W] encoder text memory. */
  text: string;
  /** Constants of the input size: proposals [S, 4] (inverse sigmoid, +inf when invalid) and validity [S]. */
  proposals: { logits: Float32Array; valid: Float32Array };
  /** How many queries to keep (the checkpoint's query count, or every token when the image has fewer). */
  queries: number;
}

/** Top-scoring proposals: reference boxes [1, K, 4] (sigmoid) and the decoder's content queries [1, K, W]. */
export function selectQueries(g: GraphBuilder, inputs: QuerySelectionInputs): { reference: string; target: string } {
  const tokens = inputs.proposals.valid.length;
  const validity = g.constFloat(inputs.proposals.valid, [1, tokens, 1]);
  const objectQuery = layerNorm(g, linear(g, g.op('Mul', [inputs.memory, validity]), 'model.enc_output.'), 'model.enc_output_norm.', NORM_EPS); // [1, S, W]
  const classes = g.op('MatMul', [objectQuery, g.op('Transpose', [inputs.text], { perm: attr.ints([0, 2, 1]) })]); // [1, S, T]
  const best = g.op('ReduceMax', [classes], { axes: attr.ints([-1]), keepdims: attr.int(0) }); // [1, S]
  const [, indices] = g.opN('TopK', [best, g.constInt64([inputs.queries])], 2, { axis: attr.int(1), largest: attr.int(1), sorted: attr.int(1) });
  const coords = g.op('Add', [predictionHead(g, objectQuery, 'model.encoder_output_bbox_embed.'), g.constFloat(inputs.proposals.logits, [1, tokens, 4])]);
  const picked = g.op('Gather', [coords, g.op('Squeeze', [indices!, g.constInt64([0])])], { axis: attr.int(1) }); // [1, K, 4]
  const target = g.op('Unsqueeze', [g.weightRows('model.query_position_embeddings.weight', 0, inputs.queries), g.constInt64([0])]);
  return { reference: g.op('Sigmoid', [picked]), target };
}

export interface DecoderInputs {
  target: string;
  reference: string;
  memory: string;
  text: string;
  geometry: LevelGeometry;
}

/** The decoder and the detection heads: class logits [1, K, T] and boxes [1, K, 4] (cx, cy, w, h in 0..1). */
export function buildGroundingDecoder(g: GraphBuilder, inputs: DecoderInputs, shape: GroundingDinoTransformerShape): { logits: string; boxes: string } {
  const has = (key: string): boolean => g.has(key);
  let hidden = inputs.target;
  let reference = inputs.reference;
  let previousReference = reference;
  for (let i = 0; i < shape.decoderLayers; i++) {
    const p = `model.decoder.layers.${i}.`;
    const queryPos = predictionHead(g, boxSineEmbedding(g, reference, shape.width / 2), 'model.decoder.reference_points_head.');
    // 1. self-attention among queries
    const withPos = g.op('Add', [hidden, queryPos]);
    hidden = layerNorm(g, g.op('Add', [hidden, multiheadAttention(g, `${p}self_attn.`, withPos, withPos, hidden, shape.heads)]), `${p}self_attn_layer_norm.`, NORM_EPS);
    // 2. cross-attention to the text tokens
    const textQuery = g.op('Add', [hidden, queryPos]);
    hidden = layerNorm(g, g.op('Add', [hidden, multiheadAttention(g, `${p}encoder_attn_text.`, textQuery, inputs.text, inputs.text, shape.heads)]), `${p}encoder_attn_text_layer_norm.`, NORM_EPS);
    // 3. deformable cross-attention to the image memory around each reference box
    const boxes = g.op('Unsqueeze', [reference, g.constInt64([2])]);
    const levelBoxes = g.op('Expand', [boxes, g.constInt64([1, 1, shape.levels, 4])]); // [1, K, L, 4]
    const attended = deformableAttention(g, `${p}encoder_attn.`, g.op('Add', [hidden, queryPos]), inputs.memory, levelBoxes, 4, inputs.geometry, shape);
    hidden = layerNorm(g, g.op('Add', [hidden, attended]), `${p}encoder_attn_layer_norm.`, NORM_EPS);
    // 4. feed-forward
    hidden = layerNorm(g, g.op('Add', [hidden, linear(g, g.op('Relu', [linear(g, hidden, `${p}fc1.`)]), `${p}fc2.`)]), `${p}final_layer_norm.`, NORM_EPS);
    // 5. box refinement
    previousReference = reference;
    reference = g.op('Sigmoid', [g.op('Add', [predictionHead(g, hidden, boxHeadPrefix(has, i)), inverseSigmoid(g, reference)])]);
  }
  // Heads on the last layer's normed output, refining the reference that layer started from.
  const normed = layerNorm(g, hidden, 'model.decoder.layer_norm.', NORM_EPS);
  const logits = g.op('MatMul', [normed, g.op('Transpose', [inputs.text], { perm: attr.ints([0, 2, 1]) })]);
  const boxes = g.op('Sigmoid', [g.op('Add', [predictionHead(g, normed, boxHeadPrefix(has, shape.decoderLayers - 1)), inverseSigmoid(g, previousReference)])]);
  return { logits, boxes };
}
