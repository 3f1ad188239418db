/**
 * GroundingDINO's text branch: a BERT encoder (Devlin et al. 2019; post-LayerNorm layers, exact GELU, LayerNorm
 * eps 1e-12) in transformers' `BertModel` layout under `model.text_backbone.`, run with the phrase-block attention
 * mask and restarting position ids (grounding-dino-text.ts), then `model.text_projection` to the detector's width.
 *
 * Inputs:  input_ids [1, T] and position_ids [1, T] (int64), text_attention [1, T, T] (1 = may attend, 0 = not)
 * Output:  [1, T, d_model]
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { attention, gelu, layerNorm, linear } from './layers.ts';

/** BERT's LayerNorm epsilon (`layer_norm_eps`). */
const BERT_EPS = 1e-12;
/** BERT's head width: bert-base has 12 heads of 64 over 768 channels. */
export const BERT_HEAD_DIM = 64;
/** transformers turns a 0 in the mask into float32's lowest value added to the scores. */
const MASKED = -3.4028234663852886e38;

/** (1 - mask) * lowest, as [1, 1, T, T] to add to every head's scores. */
export function additiveMask(g: GraphBuilder, mask: string): string {
  const inverted = g.op('Sub', [g.constFloat([1], []), mask]);
  return g.op('Unsqueeze', [g.op('Mul', [inverted, g.constFloat([MASKED], [])]), g.constInt64([1])]);
}

export function buildBertText(g: GraphBuilder, prefix: string, ids: string, positions: string, mask: string, layers: number): string {
  const width = g.shapeOf(`${prefix}embeddings.word_embeddings.weight`)![1]!;
  const heads = width / BERT_HEAD_DIM;
  const e = `${prefix}embeddings.`;
  // Token type 0 throughout: its embedding row 0 is added to every token.
  const tokenType = g.op('Gather', [g.weight(`${e}token_type_embeddings.weight`), g.constInt64([0], [])], { axis: attr.int(0) }); // [W]
  const summed = g.op('Add', [g.op('Add', [g.op('Gather', [g.weight(`${e}word_embeddings.weight`), ids]), g.op('Gather', [g.weight(`${e}position_embeddings.weight`), positions])]), tokenType]);
  let x = layerNorm(g, summed, `${e}LayerNorm.`, BERT_EPS); // [1, T, W]
  const scoresMask = additiveMask(g, mask);
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}encoder.layer.${i}.`;
    const q = linear(g, x, `${p}attention.self.query.`);
    const k = linear(g, x, `${p}attention.self.key.`);
    const v = linear(g, x, `${p}attention.self.value.`);
    const attended = linear(g, attention(g, q, k, v, heads, BERT_HEAD_DIM, scoresMask), `${p}attention.output.dense.`);
    x = layerNorm(g, g.op('Add', [attended, x]), `${p}attention.output.LayerNorm.`, BERT_EPS);
    const hidden = linear(g, gelu(g, linear(g, x, `${p}intermediate.dense.`)), `${p}output.dense.`);
    x = layerNorm(g, g.op('Add', [hidden, x]), `${p}output.LayerNorm.`, BERT_EPS);
  }
  return x;
}

/** Number of BERT layers under `prefix`. */
export function countBertLayers(has: (key: string) => boolean, prefix: string): number {
  let n = 0;
  while (has(`${prefix}encoder.layer.${n}.attention.self.query.weight`)) n++;
  return n;
}
