/**
 * GroundingDINO (Liu et al. 2023) end to end in plain TypeScript, following transformers' module order, for one
 * image without padding: Swin stages, the input projections, the feature enhancer, two-stage query selection,
 * the decoder with box refinement and the contrastive class logits.
 */
import { deformableAttentionReference } from './deformable-attention.ts';
import { groundingTextReference, maskedAttention } from './grounding-dino-text.ts';
import { conv2d, groupNorm, imageToTokens, layerNorm, linear, softmax } from './ops.ts';
import { swinReference, type SwinReferenceConfig } from './swin.ts';
import { zeros, type RefTensor, type WeightSource } from './tensor.ts';

export interface GroundingReferenceConfig {
  swin: SwinReferenceConfig;
  width: number;
  heads: number;
  levels: number;
  points: number;
  encoderLayers: number;
  decoderLayers: number;
  bertLayers: number;
  bertHeads: number;
  queries: number;
}

const EPS = 1e-5;

function add(a: RefTensor, b: RefTensor): RefTensor {
  const out = zeros(a.shape);
  for (let i = 0; i < out.data.length; i++) out.data[i] = a.data[i]! + b.data[i % b.data.length]!;
  return out;
}
function relu(x: RefTensor): RefTensor {
  return { shape: x.shape, data: x.data.map((v) => Math.max(0, v)) };
}
function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}
function logit(v: number): number {
  const x = Math.min(Math.max(v, 1e-5), 1 - 1e-5);
  return Math.log(x / (1 - x));
}
/** a [N, K] x b^T [M, K] -> [N, M] */
function matmulT(a: RefTensor, b: RefTensor): RefTensor {
  const [N, K] = a.shape as [number, number];
  const M = b.shape[0]!;
  const out = zeros([N, M]);
  for (let i = 0; i < N; i++) for (let j = 0; j < M; j++) {
    let s = 0;
    for (let k = 0; k < K; k++) s += a.data[i * K + k]! * b.data[j * K + k]!;
    out.data[i * M + j] = s;
  }
  return out;
}

/** Sine features of one scalar: sin at even k, cos at odd k, of v / T^(2 floor(k/2) / n). */
function sine(v: number, n: number, temperature: number): number[] {
  return Array.from({ length: n }, (_, k) => {
    const a = v / temperature ** ((2 * Math.floor(k / 2)) / n);
    return k % 2 === 0 ? Math.sin(a) : Math.cos(a);
  });
}

export interface GroundingReferenceOutputs {
  logits: RefTensor;
  boxes: RefTensor;
}

export function groundingDinoReference(
  w: WeightSource,
  cfg: GroundingReferenceConfig,
  pixels: RefTensor,
  ids: readonly number[],
  positions: readonly number[],
  mask: Uint8Array,
): GroundingReferenceOutputs {
  const W = cfg.width;
  const lin = (x: RefTensor, p: string): RefTensor => linear(x, w(`${p}weight`), w(`${p}bias`));
  const ln = (x: RefTensor, p: string): RefTensor => layerNorm(x, w(`${p}weight`), w(`${p}bias`), EPS);
  const mlp = (x: RefTensor, p: string, layers: number): RefTensor => {
    let h = x;
    for (let i = 0; i < layers; i++) h = i < layers - 1 ? relu(lin(h, `${p}layers.${i}.`)) : lin(h, `${p}layers.${i}.`);
    return h;
  };
  const T = ids.length;

  // text
  let text = groundingTextReference(w, 'model.text_backbone.', ids, positions, mask, cfg.bertLayers, cfg.bertHeads, 'model.text_projection.'); // [T, W]

  // image levels
  const stages = swinReference(w, cfg.swin, pixels);
  const maps = stages.map((s, i) => groupNorm(conv2d(s, w(`model.input_proj_vision.${i}.0.weight`), w(`model.input_proj_vision.${i}.0.bias`)), 32, w(`model.input_proj_vision.${i}.1.weight`), w(`model.input_proj_vision.${i}.1.bias`)));
  for (let l = stages.length; l < cfg.levels; l++) {
    const source = l === stages.length ? stages[stages.length - 1]! : maps[maps.length - 1]!;
    maps.push(groupNorm(conv2d(source, w(`model.input_proj_vision.${l}.0.weight`), w(`model.input_proj_vision.${l}.0.bias`), { stride: 2, padding: 1 }), 32, w(`model.input_proj_vision.${l}.1.weight`), w(`model.input_proj_vision.${l}.1.bias`)));
  }
  const sizes = maps.map((m) => [m.shape[2]!, m.shape[3]!] as [number, number]);
  const S = sizes.reduce((n, [h, ww]) => n + h * ww, 0);
  let vision: RefTensor = { shape: [S, W], data: new Float32Array(S * W) };
  let at = 0;
  for (const m of maps) {
    const t = imageToTokens(m);
    vision.data.set(t.data, at);
    at += t.data.length;
  }
  const levelEmbed = w('model.level_embed');
  const pos = zeros([S, W]);
  const ref2 = zeros([1, S, cfg.levels, 2]);
  const proposals: number[][] = [];
  let row = 0;
  sizes.forEach(([h, ww], l) => {
    for (let y = 0; y < h; y++) for (let x = 0; x < ww; x++, row++) {
      const e = [...sine(((y + 1) / (h + 1e-6)) * 2 * Math.PI, W / 2, 20), ...sine(((x + 1) / (ww + 1e-6)) * 2 * Math.PI, W / 2, 20)];
      for (let c = 0; c < W; c++) pos.data[row * W + c] = e[c]! + levelEmbed.data[l * W + c]!;
      for (let k = 0; k < cfg.levels; k++) ref2.data.set([(x + 0.5) / ww, (y + 0.5) / h], (row * cfg.levels + k) * 2);
      proposals.push([(x + 0.5) / ww, (y + 0.5) / h, 0.05 * 2 ** l, 0.05 * 2 ** l]);
    }
  });
  const textPos = zeros([T, W]);
  positions.forEach((p, t) => textPos.data.set(sine(p * 2 * Math.PI, W, 10000), t * W));

  // feature enhancer
  const pairHeads = cfg.heads / 2;
  for (let i = 0; i < cfg.encoderLayers; i++) {
    const p = `model.encoder.layers.${i}.`;
    const f = `${p}fusion_layer.`;
    const v = ln(vision, `${f}layer_norm_vision.`);
    const t = ln(text, `${f}layer_norm_text.`);
    const embed = w(`${f}attn.vision_proj.weight`).shape[0]!;
    const d = embed / pairHeads;
    const q = lin(v, `${f}attn.vision_proj.`);
    const k = lin(t, `${f}attn.text_proj.`);
    const vv = lin(v, `${f}attn.values_vision_proj.`);
    const tv = lin(t, `${f}attn.values_text_proj.`);
    const outV = zeros([S, embed]);
    const outT = zeros([T, embed]);
    for (let h = 0; h < pairHeads; h++) {
      const scores = zeros([S, T]);
      for (let a = 0; a < S; a++) for (let b = 0; b < T; b++) {
        let s = 0;
        for (let e = 0; e < d; e++) s += q.data[a * embed + h * d + e]! * d ** -0.5 * k.data[b * embed + h * d + e]!;
        scores.data[a * T + b] = s;
      }
      // softmax is shift-invariant; the model's max shift and clamp only matter past 50000
      const pv = softmax(scores);
      const transposed = zeros([T, S]);
      for (let a = 0; a < S; a++) for (let b = 0; b < T; b++) transposed.data[b * S + a] = scores.data[a * T + b]!;
      const pt = softmax(transposed);
      for (let a = 0; a < S; a++) for (let e = 0; e < d; e++) {
        let s = 0;
        for (let b = 0; b < T; b++) s += pv.data[a * T + b]! * tv.data[b * embed + h * d + e]!;
        outV.data[a * embed + h * d + e] = s;
      }
      for (let b = 0; b < T; b++) for (let e = 0; e < d; e++) {
        let s = 0;
        for (let a = 0; a < S; a++) s += pt.data[b * S + a]! * vv.data[a * embed + h * d + e]!;
        outT.data[b * embed + h * d + e] = s;
      }
    }
    const gammaV = w(`${f}vision_param`);
    const gammaT = w(`${f}text_param`);
    const dv = lin(outV, `${f}attn.out_vision_proj.`);
    const dt = lin(outT, `${f}attn.out_text_proj.`);
    vision = { shape: [S, W], data: v.data.map((x, j) => x + gammaV.data[j % W]! * dv.data[j]!) };
    text = { shape: [T, W], data: t.data.map((x, j) => x + gammaT.data[j % W]! * dt.data[j]!) };
    const te = `${p}text_enhancer_layer.`;
    const qk = add(text, textPos);
    const sa = maskedAttention(lin(qk, `${te}self_attn.query.`), lin(qk, `${te}self_attn.key.`), lin(text, `${te}self_attn.value.`), pairHeads, (r, c) => mask[r * T + c] === 1);
    text = ln(add(text, lin(sa, `${te}self_attn.out_proj.`)), `${te}layer_norm_before.`);
    text = ln(add(text, lin(relu(lin(text, `${te}fc1.`)), `${te}fc2.`)), `${te}layer_norm_after.`);
    const de = `${p}deformable_layer.`;
    const attended = deformableAttentionReference(w, `${de}self_attn.`, { shape: [1, S, W], data: add(vision, pos).data }, { shape: [1, S, W], data: vision.data }, ref2, sizes, cfg.heads, cfg.points);
    vision = ln(add(vision, { shape: [S, W], data: attended.data }), `${de}self_attn_layer_norm.`);
    vision = ln(add(vision, lin(relu(lin(vision, `${de}fc1.`)), `${de}fc2.`)), `${de}final_layer_norm.`);
  }

  // query selection
  const validRows = proposals.map((b) => b.every((v) => v > 0.01 && v < 0.99));
  const masked: RefTensor = { shape: [S, W], data: vision.data.map((v, j) => (validRows[Math.floor(j / W)] ? v : 0)) };
  const objectQuery = ln(lin(masked, 'model.enc_output.'), 'model.enc_output_norm.');
  const classes = matmulT(objectQuery, text); // [S, T]
  const best = Array.from({ length: S }, (_, s) => Math.max(...classes.data.subarray(s * T, (s + 1) * T)));
  const K = Math.min(cfg.queries, S);
  const order = best.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, K).map(([, i]) => i);
  const delta = mlp(objectQuery, 'model.encoder_output_bbox_embed.', 3);
  let reference = order.map((s) => proposals[s]!.map((v, c) => (validRows[s] ? sigmoid(delta.data[s * 4 + c]! + Math.log(v / (1 - v))) : 1)));
  const queryEmbed = w('model.query_position_embeddings.weight');
  let hidden: RefTensor = { shape: [K, W], data: queryEmbed.data.slice(0, K * W) };

  // decoder
  const boxHead = (i: number): string => (hasKey(w, `bbox_embed.${i}.layers.0.weight`) ? `bbox_embed.${i}.` : 'bbox_embed.0.');
  let previous = reference;
  for (let i = 0; i < cfg.decoderLayers; i++) {
    const p = `model.decoder.layers.${i}.`;
    const sinePos = zeros([K, 2 * W]);
    reference.forEach((box, qi) => {
      const [x, y, bw, bh] = box as [number, number, number, number];
      sinePos.data.set([...sine(y * 2 * Math.PI, W / 2, 10000), ...sine(x * 2 * Math.PI, W / 2, 10000), ...sine(bw * 2 * Math.PI, W / 2, 10000), ...sine(bh * 2 * Math.PI, W / 2, 10000)], qi * 2 * W);
    });
    const queryPos = mlp(sinePos, 'model.decoder.reference_points_head.', 2);
    const withPos = add(hidden, queryPos);
    const all = (): boolean => true;
    const self = maskedAttention(lin(withPos, `${p}self_attn.query.`), lin(withPos, `${p}self_attn.key.`), lin(hidden, `${p}self_attn.value.`), cfg.heads, all);
    hidden = ln(add(hidden, lin(self, `${p}self_attn.out_proj.`)), `${p}self_attn_layer_norm.`);
    const tq = add(hidden, queryPos);
    const cross = maskedAttention(lin(tq, `${p}encoder_attn_text.query.`), lin(text, `${p}encoder_attn_text.key.`), lin(text, `${p}encoder_attn_text.value.`), cfg.heads, all);
    hidden = ln(add(hidden, lin(cross, `${p}encoder_attn_text.out_proj.`)), `${p}encoder_attn_text_layer_norm.`);
    const boxes4 = zeros([1, K, cfg.levels, 4]);
    reference.forEach((box, qi) => {
      for (let l = 0; l < cfg.levels; l++) boxes4.data.set(box, (qi * cfg.levels + l) * 4);
    });
    const deform = deformableAttentionReference(w, `${p}encoder_attn.`, { shape: [1, K, W], data: add(hidden, queryPos).data }, { shape: [1, S, W], data: vision.data }, boxes4, sizes, cfg.heads, cfg.points);
    hidden = ln(add(hidden, { shape: [K, W], data: deform.data }), `${p}encoder_attn_layer_norm.`);
    hidden = ln(add(hidden, lin(relu(lin(hidden, `${p}fc1.`)), `${p}fc2.`)), `${p}final_layer_norm.`);
    const tmp = mlp(hidden, boxHead(i), 3);
    previous = reference;
    reference = reference.map((box, qi) => box.map((v, c) => sigmoid(tmp.data[qi * 4 + c]! + logit(v))));
  }
  const normed = ln(hidden, 'model.decoder.layer_norm.');
  const logits = matmulT(normed, text);
  const finalDelta = mlp(normed, boxHead(cfg.decoderLayers - 1), 3);
  const boxes = zeros([1, K, 4]);
  previous.forEach((box, qi) => box.forEach((v, c) => (boxes.data[qi * 4 + c] = sigmoid(finalDelta.data[qi * 4 + c]! + logit(v)))));
  return { logits: { shape: [1, K, T], data: logits.data }, boxes };
}

function hasKey(w: WeightSource, key: string): boolean {
  try {
    w(key);
    return true;
  } catch {
    return false;
  }
}
