/**
 * BERT (Devlin et al. 2019) with an explicit [T, T] attention mask, written out token by token, as GroundingDINO
 * runs it over the prompt, plus the text projection.
 */
import { gelu, layerNorm, linear } from './ops.ts';
import { zeros, type RefTensor, type WeightSource } from './tensor.ts';

/** Masked multi-head attention on projected q, k, v [T, W]: masked pairs take no weight at all. */
export function maskedAttention(q: RefTensor, k: RefTensor, v: RefTensor, heads: number, allowed: (i: number, j: number) => boolean): RefTensor {
  const T = q.shape[0]!;
  const S = k.shape[0]!;
  const W = q.shape[1]!;
  const Wv = v.shape[1]!;
  const d = W / heads;
  const dv = Wv / heads;
  const out = zeros([T, Wv]);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < T; i++) {
      const scores: number[] = [];
      for (let j = 0; j < S; j++) {
        if (!allowed(i, j)) {
          scores.push(-Infinity);
          continue;
        }
        let s = 0;
        for (let e = 0; e < d; e++) s += q.data[i * W + h * d + e]! * k.data[j * W + h * d + e]!;
        scores.push(s / Math.sqrt(d));
      }
      const max = Math.max(...scores);
      const ex = scores.map((s) => (s === -Infinity ? 0 : Math.exp(s - max)));
      const sum = ex.reduce((a, b) => a + b, 0);
      for (let c = 0; c < dv; c++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += ex[j]! * v.data[j * Wv + h * dv + c]!;
        out.data[i * Wv + h * dv + c] = acc / sum;
      }
    }
  }
  return out;
}

function addInto(a: RefTensor, b: RefTensor): RefTensor {
  const out = zeros(a.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i]! + b.data[i]!;
  return out;
}

/** ids, positions [T]; mask [T*T] (1 = may attend) -> projected text features [T, d_model]. */
export function groundingTextReference(w: WeightSource, prefix: string, ids: readonly number[], positions: readonly number[], mask: Uint8Array, layers: number, heads: number, projection: string): RefTensor {
  const T = ids.length;
  const words = w(`${prefix}embeddings.word_embeddings.weight`);
  const W = words.shape[1]!;
  const pos = w(`${prefix}embeddings.position_embeddings.weight`);
  const type = w(`${prefix}embeddings.token_type_embeddings.weight`);
  const summed = zeros([T, W]);
  for (let t = 0; t < T; t++) for (let c = 0; c < W; c++) summed.data[t * W + c] = words.data[ids[t]! * W + c]! + pos.data[positions[t]! * W + c]! + type.data[c]!;
  const eps = 1e-12;
  let x = layerNorm(summed, w(`${prefix}embeddings.LayerNorm.weight`), w(`${prefix}embeddings.LayerNorm.bias`), eps);
  const lin = (input: RefTensor, p: string): RefTensor => linear(input, w(`${p}weight`), w(`${p}bias`));
  for (let i = 0; i < layers; i++) {
    const p = `${prefix}encoder.layer.${i}.`;
    const a = maskedAttention(lin(x, `${p}attention.self.query.`), lin(x, `${p}attention.self.key.`), lin(x, `${p}attention.self.value.`), heads, (r, c) => mask[r * T + c] === 1);
    x = layerNorm(addInto(lin(a, `${p}attention.output.dense.`), x), w(`${p}attention.output.LayerNorm.weight`), w(`${p}attention.output.LayerNorm.bias`), eps);
    const hidden = lin(gelu(lin(x, `${p}intermediate.dense.`)), `${p}output.dense.`);
    x = layerNorm(addInto(hidden, x), w(`${p}output.LayerNorm.weight`), w(`${p}output.LayerNorm.bias`), eps);
  }
  return lin(x, projection);
}
