/**
 * Reference forward passes of BLIP's captioner (Li et al. 2022), written from transformers' published module
 * definitions (`BlipVisionModel`, `BlipTextLMHeadModel`) with the plain ops: the ViT image encoder to its
 * post-LayerNormed last hidden state, and the BERT decoder over a whole token sequence (causal self-attention,
 * cross-attention to the image tokens, post-LayerNorm layers) to the logits of every position.
 */
import { add, attention, conv2d, gelu, layerNorm, linear } from './ops.ts';
import { zeros, type RefTensor, type WeightSource } from './tensor.ts';

export interface BlipReferenceConfig {
  vision: { width: number; layers: number; heads: number; patch: number };
  text: { width: number; layers: number; heads: number };
  /** The LM head's vocabulary projection: the stored decoder weight or the tied word embeddings. */
  headWeightKey: string;
}

/** Rows [start, start + count) of a [rows, ...] tensor. */
function rows(t: RefTensor, start: number, count: number): RefTensor {
  const inner = t.data.length / t.shape[0]!;
  return { shape: [count, ...t.shape.slice(1)], data: t.data.slice(start * inner, (start + count) * inner) };
}

/** pixels [1, 3, S, S] -> image_embeds [1, tokens, width]. */
export function blipVisionReference(w: WeightSource, cfg: BlipReferenceConfig, pixels: RefTensor): RefTensor {
  const p = 'vision_model.';
  const W = cfg.vision.width;
  const grid = conv2d(pixels, w(`${p}embeddings.patch_embedding.weight`), w(`${p}embeddings.patch_embedding.bias`), { stride: cfg.vision.patch });
  const cells = grid.shape[2]! * grid.shape[3]!;
  const cls = w(`${p}embeddings.class_embedding`);
  const pos = w(`${p}embeddings.position_embedding`);
  let x = zeros([1, cells + 1, W]);
  for (let t = 0; t <= cells; t++) {
    for (let c = 0; c < W; c++) x.data[t * W + c] = (t === 0 ? cls.data[c]! : grid.data[c * cells + (t - 1)]!) + pos.data[t * W + c]!;
  }
  const norm = (t: RefTensor, key: string): RefTensor => layerNorm(t, w(`${key}weight`), w(`${key}bias`), 1e-5);
  for (let i = 0; i < cfg.vision.layers; i++) {
    const l = `${p}encoder.layers.${i}.`;
    const lin = (t: RefTensor, name: string): RefTensor => linear(t, w(`${l}${name}.weight`), w(`${l}${name}.bias`));
    const n1 = norm(x, `${l}layer_norm1.`);
    const qkvW = w(`${l}self_attn.qkv.weight`);
    const qkvB = w(`${l}self_attn.qkv.bias`);
    const [q, k, v] = [0, 1, 2].map((b) => linear(n1, rows(qkvW, b * W, W), rows(qkvB, b * W, W))) as [RefTensor, RefTensor, RefTensor];
    x = add(x, lin(attention(q, k, v, cfg.vision.heads), 'self_attn.projection'));
    x = add(x, lin(gelu(lin(norm(x, `${l}layer_norm2.`), 'mlp.fc1')), 'mlp.fc2'));
  }
  return norm(x, `${p}post_layernorm.`);
}

/** ids (one sequence) and image_embeds [1, N, E] -> logits [1, T, vocab] at every position. */
export function blipDecoderReference(w: WeightSource, cfg: BlipReferenceConfig, ids: readonly number[], image: RefTensor): RefTensor {
  const p = 'text_decoder.bert.';
  const W = cfg.text.width;
  const T = ids.length;
  const words = w(`${p}embeddings.word_embeddings.weight`);
  const positions = w(`${p}embeddings.position_embeddings.weight`);
  const embedded = zeros([1, T, W]);
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < W; c++) embedded.data[t * W + c] = words.data[ids[t]! * W + c]! + positions.data[t * W + c]!;
  }
  const norm = (t: RefTensor, key: string): RefTensor => layerNorm(t, w(`${key}weight`), w(`${key}bias`), 1e-12);
  let x = norm(embedded, `${p}embeddings.LayerNorm.`);
  for (let i = 0; i < cfg.text.layers; i++) {
    const l = `${p}encoder.layer.${i}.`;
    const lin = (t: RefTensor, name: string): RefTensor => linear(t, w(`${l}${name}.weight`), w(`${l}${name}.bias`));
    const selfOut = attention(lin(x, 'attention.self.query'), lin(x, 'attention.self.key'), lin(x, 'attention.self.value'), cfg.text.heads, { causal: true });
    const a = norm(add(lin(selfOut, 'attention.output.dense'), x), `${l}attention.output.LayerNorm.`);
    const crossOut = attention(lin(a, 'crossattention.self.query'), lin(image, 'crossattention.self.key'), lin(image, 'crossattention.self.value'), cfg.text.heads);
    const c = norm(add(lin(crossOut, 'crossattention.output.dense'), a), `${l}crossattention.output.LayerNorm.`);
    x = norm(add(lin(gelu(lin(c, 'intermediate.dense')), 'output.dense'), c), `${l}output.LayerNorm.`);
  }
  const h = 'text_decoder.cls.predictions.';
  const transformed = norm(gelu(linear(x, w(`${h}transform.dense.weight`), w(`${h}transform.dense.bias`))), `${h}transform.LayerNorm.`);
  return linear(transformed, w(cfg.headWeightKey), w(`${h}bias`));
}
