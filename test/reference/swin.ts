/**
 * Swin Transformer (Liu et al. 2021) written window by window: each shifted window gathers its tokens from the
 * padded map by coordinates ((r + shift) mod Hp, (c + shift) mod Wp), attends with the relative position bias and
 * the region mask, and scatters its outputs back to the same coordinates. No reshapes, rolls or transposes, so a
 * layout slip in the graph cannot be mirrored here.
 */
import { conv2d, gelu, imageToTokens, layerNorm, linear } from './ops.ts';
import { zeros, type RefTensor, type WeightSource } from './tensor.ts';

export interface SwinReferenceConfig {
  prefix: string;
  patch: number;
  embedDim: number;
  depths: number[];
  heads: number[];
  window: number;
  outStages: number[];
}

const EPS = 1e-5;

function tokenRows(x: RefTensor, rows: number[], channels: number): RefTensor {
  const out = zeros([rows.length, channels]);
  rows.forEach((r, i) => {
    if (r >= 0) out.data.set(x.data.subarray(r * channels, (r + 1) * channels), i * channels);
  });
  return out;
}

function windowAttention(w: WeightSource, p: string, tokens: RefTensor, heads: number, ws: number, labels: number[]): RefTensor {
  const [n, C] = tokens.shape as [number, number];
  const d = C / heads;
  const q = linear(tokens, w(`${p}attention.self.query.weight`), w(`${p}attention.self.query.bias`));
  const k = linear(tokens, w(`${p}attention.self.key.weight`), w(`${p}attention.self.key.bias`));
  const v = linear(tokens, w(`${p}attention.self.value.weight`), w(`${p}attention.self.value.bias`));
  const table = w(`${p}attention.self.relative_position_bias_table`);
  const out = zeros([n, C]);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < n; i++) {
      const scores: number[] = [];
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let e = 0; e < d; e++) s += q.data[i * C + h * d + e]! * k.data[j * C + h * d + e]!;
        const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
        const dx = (i % ws) - (j % ws) + ws - 1;
        s = s / Math.sqrt(d) + table.data[(dy * (2 * ws - 1) + dx) * heads + h]!;
        scores.push(labels[i] === labels[j] ? s : s - 100);
      }
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < d; c++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += e[j]! * v.data[j * C + h * d + c]!;
        out.data[i * C + h * d + c] = acc / sum;
      }
    }
  }
  return linear(out, w(`${p}attention.output.dense.weight`), w(`${p}attention.output.dense.bias`));
}

function block(w: WeightSource, p: string, x: RefTensor, H: number, W: number, heads: number, window: number, shifted: boolean): RefTensor {
  const C = x.shape[2]!;
  const ws = window;
  const shift = shifted && Math.min(H, W) > window ? Math.floor(window / 2) : 0;
  const Hp = Math.ceil(H / ws) * ws;
  const Wp = Math.ceil(W / ws) * ws;
  const normed = layerNorm(x, w(`${p}layernorm_before.weight`), w(`${p}layernorm_before.bias`), EPS);
  const attended = zeros([H * W, C]);
  const region = (v: number, size: number): number => (shift === 0 ? 0 : v < size - ws ? 0 : v < size - shift ? 1 : 2);
  for (let wy = 0; wy < Hp / ws; wy++) {
    for (let wx = 0; wx < Wp / ws; wx++) {
      const rows: number[] = [];
      const labels: number[] = [];
      for (let t = 0; t < ws * ws; t++) {
        const sr = wy * ws + Math.floor(t / ws);
        const sc = wx * ws + (t % ws);
        const r = (sr + shift) % Hp;
        const c = (sc + shift) % Wp;
        rows.push(r < H && c < W ? r * W + c : -1); // padding reads zeros
        labels.push(region(sr, Hp) * 3 + region(sc, Wp));
      }
      const out = windowAttention(w, p, tokenRows(normed, rows, C), heads, ws, labels);
      rows.forEach((row, i) => {
        if (row >= 0) attended.data.set(out.data.subarray(i * C, (i + 1) * C), row * C);
      });
    }
  }
  const residual = zeros([1, H * W, C]);
  for (let i = 0; i < residual.data.length; i++) residual.data[i] = x.data[i]! + attended.data[i]!;
  const hidden = gelu(linear(layerNorm(residual, w(`${p}layernorm_after.weight`), w(`${p}layernorm_after.bias`), EPS), w(`${p}intermediate.dense.weight`), w(`${p}intermediate.dense.bias`)));
  const mlp = linear(hidden, w(`${p}output.dense.weight`), w(`${p}output.dense.bias`));
  for (let i = 0; i < residual.data.length; i++) residual.data[i] = residual.data[i]! + mlp.data[i]!;
  return residual;
}

function merge(w: WeightSource, p: string, x: RefTensor, H: number, W: number): RefTensor {
  const C = x.shape[2]!;
  const h2 = Math.ceil(H / 2);
  const w2 = Math.ceil(W / 2);
  const rows: number[] = [];
  for (let r = 0; r < h2; r++) {
    for (let c = 0; c < w2; c++) {
      // x0 = (even row, even col), x1 = (odd row, even col), x2 = (even row, odd col), x3 = (odd row, odd col)
      for (const [dr, dc] of [[0, 0], [1, 0], [0, 1], [1, 1]] as const) {
        const rr = 2 * r + dr;
        const cc = 2 * c + dc;
        rows.push(rr < H && cc < W ? rr * W + cc : -1);
      }
    }
  }
  const gathered = tokenRows({ shape: [H * W, C], data: x.data }, rows, C);
  const flat: RefTensor = { shape: [1, h2 * w2, 4 * C], data: gathered.data };
  const normed = layerNorm(flat, w(`${p}norm.weight`), w(`${p}norm.bias`), EPS);
  return linear(normed, w(`${p}reduction.weight`), null);
}

/** pixels [1, 3, H, W] -> output stage maps [1, C, h, w]. */
export function swinReference(w: WeightSource, cfg: SwinReferenceConfig, pixels: RefTensor): RefTensor[] {
  const [, , height, width] = pixels.shape as [number, number, number, number];
  const Hp = Math.ceil(height / cfg.patch) * cfg.patch;
  const Wp = Math.ceil(width / cfg.patch) * cfg.patch;
  const padded = zeros([1, 3, Hp, Wp]);
  for (let c = 0; c < 3; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) padded.data[(c * Hp + y) * Wp + x] = pixels.data[(c * height + y) * width + x]!;
  const p = cfg.prefix;
  const patches = conv2d(padded, w(`${p}embeddings.patch_embeddings.projection.weight`), w(`${p}embeddings.patch_embeddings.projection.bias`), { stride: cfg.patch });
  let H = Hp / cfg.patch;
  let W = Wp / cfg.patch;
  let x = layerNorm(imageToTokens(patches), w(`${p}embeddings.norm.weight`), w(`${p}embeddings.norm.bias`), EPS);
  const outputs: RefTensor[] = [];
  cfg.depths.forEach((depth, s) => {
    for (let b = 0; b < depth; b++) x = block(w, `${p}encoder.layers.${s}.blocks.${b}.`, x, H, W, cfg.heads[s]!, cfg.window, b % 2 === 1);
    const C = x.shape[2]!;
    if (cfg.outStages.includes(s + 1)) {
      const normed = layerNorm(x, w(`${p}hidden_states_norms.stage${s + 1}.weight`), w(`${p}hidden_states_norms.stage${s + 1}.bias`), EPS);
      const map = zeros([1, C, H, W]);
      for (let t = 0; t < H * W; t++) for (let c = 0; c < C; c++) map.data[c * H * W + t] = normed.data[t * C + c]!;
      outputs.push(map);
    }
    if (s < cfg.depths.length - 1) {
      x = merge(w, `${p}encoder.layers.${s}.downsample.`, x, H, W);
      H = Math.ceil(H / 2);
      W = Math.ceil(W / 2);
    }
  });
  return outputs;
}
