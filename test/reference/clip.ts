/**
 * Reference forward pass of the CLIP text towers: OpenAI CLIP ViT-L/14 in Hugging Face layout (`CLIPTextTransformer`
 * in transformers' `modeling_clip.py`) and OpenCLIP (`CLIP.encode_text` with `transformer.py` ResidualAttentionBlocks).
 * Both are pre-LayerNorm transformers (eps 1e-5) with a causal mask; they differ in key names, packed q/k/v and the
 * MLP activation (cfg.activation).
 */
import type { ClipTextConfig } from '../../src/engine/models/architecture.ts';
import { add, attention, gelu, layerNorm, linear, quickGelu, slice } from './ops.ts';
import { dim, expectShape, zeros, type RefTensor, type WeightSource } from './tensor.ts';

export interface ClipTextOptions {
  /** `last`: the output of every layer; `penultimate`: the hidden state before the last layer (the "clip skip"). */
  outputLayer: 'last' | 'penultimate';
  /** Apply final_layer_norm / ln_final to the returned hidden state. */
  finalLayerNorm: boolean;
}

export interface ClipTextOutput {
  hidden: RefTensor; // [B, T, width]
  /** OpenCLIP only: ln_final(last layer) at the EOS token @ text_projection, [B, projectionDim]. */
  pooled: RefTensor | null;
}

function finalNormKey(cfg: ClipTextConfig): string {
  return cfg.prefix + (cfg.layout === 'clip-l' ? 'final_layer_norm' : 'ln_final');
}

/** Token embedding plus learned absolute position embedding for positions 0..T-1. tokens [B][T] -> [B, T, width]. */
export function clipEmbeddingsReference(weights: WeightSource, cfg: ClipTextConfig, tokens: readonly (readonly number[])[]): RefTensor {
  const hf = cfg.layout === 'clip-l';
  const tokenTable = weights(cfg.prefix + (hf ? 'embeddings.token_embedding.weight' : 'token_embedding.weight')); // [V, W]
  const positionTable = weights(cfg.prefix + (hf ? 'embeddings.position_embedding.weight' : 'positional_embedding')); // [P, W]
  const W = cfg.width;
  expectShape(tokenTable, [cfg.vocabSize, W], 'token embedding');
  expectShape(positionTable, [cfg.maxPositions, W], 'position embedding');
  const B = tokens.length;
  const T = tokens[0]?.length ?? 0;
  if (T > cfg.maxPositions) throw new Error(`clip: ${T} tokens exceed ${cfg.maxPositions} positions`);
  const out = zeros([B, T, W]);
  tokens.forEach((row, b) => {
    if (row.length !== T) throw new Error('clip: token rows differ in length');
    row.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= cfg.vocabSize) throw new Error(`clip: token id ${id} outside the vocabulary`);
      for (let i = 0; i < W; i++) out.data[(b * T + t) * W + i] = tokenTable.data[id * W + i]! + positionTable.data[t * W + i]!;
    });
  });
  return out;
}

/**
 * One encoder layer: x + out_proj(causal_attention(ln1(x))), then + fc2(act(fc1(ln2(x)))). In OpenCLIP layout
 * q, k, v are the row blocks [0, W), [W, 2W), [2W, 3W) of `attn.in_proj_weight` (nn.MultiheadAttention's packing).
 */
export function clipEncoderLayerReference(weights: WeightSource, cfg: ClipTextConfig, layer: number, x: RefTensor): RefTensor {
  const hf = cfg.layout === 'clip-l';
  const p = cfg.prefix + (hf ? `encoder.layers.${layer}.` : `transformer.resblocks.${layer}.`);
  const w = (name: string): RefTensor => weights(p + name);
  const act = cfg.activation === 'quick_gelu' ? quickGelu : gelu;
  const W = cfg.width;

  const h = hf ? layerNorm(x, w('layer_norm1.weight'), w('layer_norm1.bias')) : layerNorm(x, w('ln_1.weight'), w('ln_1.bias'));
  let q: RefTensor;
  let k: RefTensor;
  let v: RefTensor;
  if (hf) {
    q = linear(h, w('self_attn.q_proj.weight'), w('self_attn.q_proj.bias'));
    k = linear(h, w('self_attn.k_proj.weight'), w('self_attn.k_proj.bias'));
    v = linear(h, w('self_attn.v_proj.weight'), w('self_attn.v_proj.bias'));
  } else {
    const packed = w('attn.in_proj_weight'); // [3W, W]
    const packedBias = w('attn.in_proj_bias'); // [3W]
    expectShape(packed, [3 * W, W], 'attn.in_proj_weight');
    const part = (i: number): RefTensor =>
      linear(h, slice(packed, 0, i * W, (i + 1) * W), slice(packedBias, 0, i * W, (i + 1) * W));
    [q, k, v] = [part(0), part(1), part(2)];
  }
  const attended = attention(q, k, v, cfg.heads, { causal: true }); // [B, T, W]
  const outProj = hf ? 'self_attn.out_proj' : 'attn.out_proj';
  const out = add(x, linear(attended, w(`${outProj}.weight`), w(`${outProj}.bias`)));

  const h2 = hf ? layerNorm(out, w('layer_norm2.weight'), w('layer_norm2.bias')) : layerNorm(out, w('ln_2.weight'), w('ln_2.bias'));
  const [fc1, fc2] = hf ? ['mlp.fc1', 'mlp.fc2'] : ['mlp.c_fc', 'mlp.c_proj'];
  const m = linear(act(linear(h2, w(`${fc1}.weight`), w(`${fc1}.bias`))), w(`${fc2}.weight`), w(`${fc2}.bias`));
  return add(out, m);
}

/**
 * The text tower: tokens [B][T] (T <= maxPositions, normally 77) -> hidden [B, T, width] and, for OpenCLIP with a
 * projection, the pooled vector `ln_final(x)[b, argmax(tokens[b])] @ text_projection` (open_clip `encode_text`:
 * the EOS id is the largest id, the projection is a [width, projectionDim] matrix multiplied on the right).
 */
export function clipTextReference(
  weights: WeightSource,
  cfg: ClipTextConfig,
  tokens: readonly (readonly number[])[],
  opts: ClipTextOptions,
): ClipTextOutput {
  const finalNorm = (t: RefTensor): RefTensor => layerNorm(t, weights(`${finalNormKey(cfg)}.weight`), weights(`${finalNormKey(cfg)}.bias`));
  const wantPooled = cfg.layout === 'open-clip' && cfg.projectionDim !== null;
  const stopAt = opts.outputLayer === 'last' ? cfg.layers : cfg.layers - 1;
  if (stopAt < 0) throw new Error('clip: penultimate output needs at least one layer');

  let x = clipEmbeddingsReference(weights, cfg, tokens);
  let hidden: RefTensor | null = stopAt === 0 ? x : null;
  const runLayers = wantPooled ? cfg.layers : stopAt;
  for (let layer = 0; layer < runLayers; layer++) {
    x = clipEncoderLayerReference(weights, cfg, layer, x);
    if (layer + 1 === stopAt) hidden = x;
  }
  if (hidden === null) throw new Error('clip: hidden state not reached');
  if (opts.finalLayerNorm) hidden = finalNorm(hidden);

  let pooled: RefTensor | null = null;
  if (wantPooled && cfg.projectionDim !== null) {
    const projection = weights(`${cfg.prefix}text_projection`); // [W, P]
    const P = cfg.projectionDim;
    const W = cfg.width;
    expectShape(projection, [W, P], 'text_projection');
    const normed = finalNorm(x); // [B, T, W]
    const T = dim(normed, 1);
    const result = zeros([tokens.length, P]);
    tokens.forEach((row, b) => {
      const eos = argmax(row);
      for (let j = 0; j < P; j++) {
        let s = 0;
        for (let i = 0; i < W; i++) s += normed.data[(b * T + eos) * W + i]! * projection.data[i * P + j]!;
        result.data[b * P + j] = s;
      }
    });
    pooled = result;
  }
  return { hidden, pooled };
}

/** Index of the first maximum, as `torch.argmax`. */
function argmax(row: readonly number[]): number {
  let best = 0;
  row.forEach((v, i) => {
    if (v > row[best]!) best = i;
  });
  return best;
}
