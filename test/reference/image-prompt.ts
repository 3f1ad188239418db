/**
 * Reference forward passes of the image prompt models, written from the papers and the published module
 * definitions with the plain ops: the CLIP vision transformer to its penultimate hidden state (transformers'
 * `CLIPVisionTransformer`), IP-Adapter Plus's Resampler, and decoupled cross-attention (Ye et al. 2023, eq. 5:
 * Attention(Q, K, V) + lambda * Attention(Q, K', V')).
 */
import { add, attention, concat, conv2d, gelu, layerNorm, linear, quickGelu } from './ops.ts';
import { reshape, zeros, type RefTensor, type WeightSource } from './tensor.ts';

export interface VisionReferenceConfig {
  width: number;
  layers: number;
  heads: number;
  patch: number;
  activation: 'gelu' | 'quick_gelu';
}

/** pixels [B, 3, S, S] -> hidden_states[-2] [B, 1 + (S/p)^2, width]. */
export function visionEncoderReference(w: WeightSource, cfg: VisionReferenceConfig, pixels: RefTensor): RefTensor {
  const p = 'vision_model.';
  const B = pixels.shape[0]!;
  const grid = conv2d(pixels, w(`${p}embeddings.patch_embedding.weight`), null, { stride: cfg.patch }); // [B, W, g, g]
  const cells = grid.shape[2]! * grid.shape[3]!;
  const W = cfg.width;
  const tokens = zeros([B, cells + 1, W]);
  const cls = w(`${p}embeddings.class_embedding`);
  const pos = w(`${p}embeddings.position_embedding.weight`);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t <= cells; t++) {
      for (let c = 0; c < W; c++) {
        const value = t === 0 ? cls.data[c]! : grid.data[(b * W + c) * cells + (t - 1)]!;
        tokens.data[(b * (cells + 1) + t) * W + c] = value + pos.data[t * W + c]!;
      }
    }
  }
  let x = layerNorm(tokens, w(`${p}pre_layrnorm.weight`), w(`${p}pre_layrnorm.bias`));
  const act = cfg.activation === 'gelu' ? gelu : quickGelu;
  for (let i = 0; i < cfg.layers - 1; i++) {
    const l = `${p}encoder.layers.${i}.`;
    const lin = (name: string, t: RefTensor) => linear(t, w(`${l}${name}.weight`), w(`${l}${name}.bias`));
    const n1 = layerNorm(x, w(`${l}layer_norm1.weight`), w(`${l}layer_norm1.bias`));
    x = add(x, lin('self_attn.out_proj', attention(lin('self_attn.q_proj', n1), lin('self_attn.k_proj', n1), lin('self_attn.v_proj', n1), cfg.heads)));
    const n2 = layerNorm(x, w(`${l}layer_norm2.weight`), w(`${l}layer_norm2.bias`));
    x = add(x, lin('mlp.fc2', act(lin('mlp.fc1', n2))));
  }
  return x;
}

/** features [B, T, vision width] -> image tokens [B, queries, context width]. */
export function resamplerReference(w: WeightSource, cfg: { depth: number; heads: number }, features: RefTensor): RefTensor {
  const p = 'image_proj.';
  const B = features.shape[0]!;
  const norm = (t: RefTensor, key: string) => layerNorm(t, w(`${key}weight`), w(`${key}bias`));
  const x = linear(features, w(`${p}proj_in.weight`), w(`${p}proj_in.bias`));
  const seed = w(`${p}latents`);
  let latents = concat(Array.from({ length: B }, () => seed), 0);
  for (let i = 0; i < cfg.depth; i++) {
    const a = `${p}layers.${i}.0.`;
    const nx = norm(x, `${a}norm1.`);
    const nl = norm(latents, `${a}norm2.`);
    const q = linear(nl, w(`${a}to_q.weight`), null);
    const kv = linear(concat([nx, nl], 1), w(`${a}to_kv.weight`), null);
    const inner = q.shape[2]!;
    const k = sliceLast(kv, 0, inner);
    const v = sliceLast(kv, inner, 2 * inner);
    latents = add(linear(attention(q, k, v, cfg.heads), w(`${a}to_out.weight`), null), latents);
    const f = `${p}layers.${i}.1.`;
    latents = add(linear(gelu(linear(norm(latents, `${f}0.`), w(`${f}1.weight`), null)), w(`${f}3.weight`), null), latents);
  }
  return norm(linear(latents, w(`${p}proj_out.weight`), w(`${p}proj_out.bias`)), `${p}norm_out.`);
}

function sliceLast(t: RefTensor, start: number, end: number): RefTensor {
  const width = t.shape[t.shape.length - 1]!;
  const rows = t.data.length / width;
  const out = new Float32Array(rows * (end - start));
  for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * width + start, r * width + end), r * (end - start));
  return reshape({ shape: [rows, end - start], data: out }, [...t.shape.slice(0, -1), end - start]);
}

/**
 * Decoupled cross-attention's image part for one layer: sum over prompts p of scale[p] * Attention(q, K_p, V_p),
 * q [B, N, C], keys and values [B, P, T, C].
 */
export function imagePromptAttentionReference(q: RefTensor, keys: RefTensor, values: RefTensor, scales: readonly number[], heads: number): RefTensor {
  const [B, P, T, C] = keys.shape as [number, number, number, number];
  let sum = zeros([B, q.shape[1]!, C]);
  for (let p = 0; p < P; p++) {
    const pick = (t: RefTensor): RefTensor => {
      const out = zeros([B, T, C]);
      for (let b = 0; b < B; b++) out.data.set(t.data.subarray(((b * P + p) * T) * C, ((b * P + p) * T + T) * C), b * T * C);
      return out;
    };
    const a = attention(q, pick(keys), pick(values), heads);
    sum = add(sum, { shape: a.shape, data: a.data.map((v) => v * scales[p]!) });
  }
  return sum;
}
