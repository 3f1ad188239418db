/**
 * Naive tensor operations for the reference forward passes: every op is the textbook loop, accumulating in
 * float64 (JS numbers) and storing float32. Layouts follow PyTorch: NCHW images, `[out, in]` linear weights,
 * `[Cout, Cin, kh, kw]` conv weights. Nothing here is shared with src/engine.
 */
import { dim, expectShape, numel, zeros, type RefTensor } from './tensor.ts';

type Shape4 = [number, number, number, number];

function shape4(t: RefTensor, what: string): Shape4 {
  if (t.shape.length !== 4) throw new Error(`${what}: expected 4 dimensions, got [${t.shape.join(', ')}]`);
  return t.shape as Shape4;
}

function sameShape(a: RefTensor, b: RefTensor, what: string): void {
  expectShape(b, a.shape, what);
}

export interface Conv2dOptions {
  stride?: number;
  /** Zero padding on all four sides (PyTorch `padding=`); asymmetric padding goes through `pad2d` first. */
  padding?: number;
}

/** `torch.nn.functional.conv2d` (cross-correlation): x [B, Cin, H, W], w [Cout, Cin, kh, kw], b [Cout]. */
export function conv2d(x: RefTensor, w: RefTensor, b: RefTensor | null, opts: Conv2dOptions = {}): RefTensor {
  const stride = opts.stride ?? 1;
  const pad = opts.padding ?? 0;
  const [B, C, H, W] = shape4(x, 'conv2d input');
  const [Co, Ci, KH, KW] = shape4(w, 'conv2d weight');
  if (Ci !== C) throw new Error(`conv2d: weight expects ${Ci} input channels, input has ${C}`);
  if (b !== null) expectShape(b, [Co], 'conv2d bias');
  const OH = Math.floor((H + 2 * pad - KH) / stride) + 1;
  const OW = Math.floor((W + 2 * pad - KW) / stride) + 1;
  const out = zeros([B, Co, OH, OW]); // [B, Cout, OH, OW]
  const acc = new Float64Array(OH * OW);
  for (let n = 0; n < B; n++) {
    for (let co = 0; co < Co; co++) {
      acc.fill(b === null ? 0 : b.data[co]!);
      for (let ci = 0; ci < C; ci++) {
        const xBase = (n * C + ci) * H * W;
        const wBase = (co * Ci + ci) * KH * KW;
        for (let ky = 0; ky < KH; ky++) {
          for (let kx = 0; kx < KW; kx++) {
            const wv = w.data[wBase + ky * KW + kx]!;
            for (let oy = 0; oy < OH; oy++) {
              const iy = oy * stride - pad + ky;
              if (iy < 0 || iy >= H) continue;
              const row = xBase + iy * W;
              for (let ox = 0; ox < OW; ox++) {
                const ix = ox * stride - pad + kx;
                if (ix < 0 || ix >= W) continue;
                acc[oy * OW + ox] = acc[oy * OW + ox]! + wv * x.data[row + ix]!;
              }
            }
          }
        }
      }
      out.data.set(acc, (n * Co + co) * OH * OW);
    }
  }
  return out;
}

/** `torch.nn.functional.pad(x, [left, right, top, bottom])` with zeros on an NCHW tensor. */
export function pad2d(x: RefTensor, [left, right, top, bottom]: [number, number, number, number]): RefTensor {
  const [B, C, H, W] = shape4(x, 'pad2d input');
  const OH = H + top + bottom;
  const OW = W + left + right;
  const out = zeros([B, C, OH, OW]);
  for (let p = 0; p < B * C; p++) {
    for (let y = 0; y < H; y++) {
      for (let xi = 0; xi < W; xi++) {
        out.data[p * OH * OW + (y + top) * OW + xi + left] = x.data[p * H * W + y * W + xi]!;
      }
    }
  }
  return out;
}

/** `torch.nn.functional.linear` over the last axis: x [..., in], w [out, in], b [out] -> [..., out]. */
export function linear(x: RefTensor, w: RefTensor, b: RefTensor | null): RefTensor {
  const In = dim(x, -1);
  if (w.shape.length !== 2 || w.shape[1] !== In) {
    throw new Error(`linear: weight [${w.shape.join(', ')}] does not take ${In} inputs`);
  }
  const Out = w.shape[0]!;
  if (b !== null) expectShape(b, [Out], 'linear bias');
  const rows = x.data.length / In;
  const out = zeros([...x.shape.slice(0, -1), Out]);
  for (let r = 0; r < rows; r++) {
    const xBase = r * In;
    for (let o = 0; o < Out; o++) {
      let s = b === null ? 0 : b.data[o]!;
      const wBase = o * In;
      for (let i = 0; i < In; i++) s += x.data[xBase + i]! * w.data[wBase + i]!;
      out.data[r * Out + o] = s;
    }
  }
  return out;
}

/**
 * `torch.nn.GroupNorm`: x [B, C, ...]; statistics per (batch, group) over the group's channels and all spatial
 * positions, biased variance, then per-channel affine. SD's UNet uses eps 1e-5, its VAE and SpatialTransformer 1e-6.
 */
export function groupNorm(x: RefTensor, groups: number, gamma: RefTensor, beta: RefTensor, eps = 1e-5): RefTensor {
  const B = dim(x, 0);
  const C = dim(x, 1);
  if (C % groups !== 0) throw new Error(`groupNorm: ${C} channels do not split into ${groups} groups`);
  expectShape(gamma, [C], 'groupNorm weight');
  expectShape(beta, [C], 'groupNorm bias');
  const S = x.data.length / (B * C); // spatial positions per channel
  const perGroup = C / groups;
  const count = perGroup * S;
  const out = zeros(x.shape);
  for (let n = 0; n < B; n++) {
    for (let g = 0; g < groups; g++) {
      const start = (n * C + g * perGroup) * S;
      let mean = 0;
      for (let i = 0; i < count; i++) mean += x.data[start + i]!;
      mean /= count;
      let variance = 0;
      for (let i = 0; i < count; i++) variance += (x.data[start + i]! - mean) ** 2;
      variance /= count;
      const inv = 1 / Math.sqrt(variance + eps);
      for (let c = 0; c < perGroup; c++) {
        const ch = g * perGroup + c;
        const scale = gamma.data[ch]! * inv;
        const shift = beta.data[ch]!;
        for (let s = 0; s < S; s++) {
          const i = start + c * S + s;
          out.data[i] = (x.data[i]! - mean) * scale + shift;
        }
      }
    }
  }
  return out;
}

/** `torch.nn.LayerNorm` over the last axis (biased variance). */
export function layerNorm(x: RefTensor, gamma: RefTensor, beta: RefTensor, eps = 1e-5): RefTensor {
  const D = dim(x, -1);
  expectShape(gamma, [D], 'layerNorm weight');
  expectShape(beta, [D], 'layerNorm bias');
  const out = zeros(x.shape);
  for (let r = 0; r < x.data.length / D; r++) {
    const base = r * D;
    let mean = 0;
    for (let i = 0; i < D; i++) mean += x.data[base + i]!;
    mean /= D;
    let variance = 0;
    for (let i = 0; i < D; i++) variance += (x.data[base + i]! - mean) ** 2;
    variance /= D;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < D; i++) out.data[base + i] = (x.data[base + i]! - mean) * inv * gamma.data[i]! + beta.data[i]!;
  }
  return out;
}

function mapElements(x: RefTensor, f: (v: number) => number): RefTensor {
  const out = zeros(x.shape);
  for (let i = 0; i < x.data.length; i++) out.data[i] = f(x.data[i]!);
  return out;
}

export function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/**
 * The error function, from its Kummer series erf(x) = 2x/sqrt(pi) e^(-x^2) sum_n (2x^2)^n / (1*3*...*(2n+1))
 * (Abramowitz & Stegun 7.1.6). Every term is positive, so there is no cancellation: the result carries float64
 * relative precision (well under 1e-13 absolute) for |x| < 6; beyond, erf is +-1 to within 2e-17.
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a >= 6) return Math.sign(x);
  const x2 = a * a;
  let term = a;
  let sum = a;
  for (let n = 1; n < 500 && term > sum * 1e-17; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * Math.exp(-x2) * sum;
}

export function silu(x: RefTensor): RefTensor {
  return mapElements(x, (v) => v * sigmoid(v));
}

/** Exact GELU, x * Phi(x) = x/2 (1 + erf(x / sqrt 2)) (Hendrycks & Gimpel 2016; torch `approximate='none'`). */
export function gelu(x: RefTensor): RefTensor {
  return mapElements(x, (v) => 0.5 * v * (1 + erf(v / Math.SQRT2)));
}

/** OpenAI CLIP's `QuickGELU`: x * sigmoid(1.702 x). */
export function quickGelu(x: RefTensor): RefTensor {
  return mapElements(x, (v) => v * sigmoid(1.702 * v));
}

/** Softmax over the last axis, max-subtracted. */
export function softmax(x: RefTensor): RefTensor {
  const D = dim(x, -1);
  const out = zeros(x.shape);
  const e = new Float64Array(D);
  for (let r = 0; r < x.data.length / D; r++) {
    const base = r * D;
    let max = -Infinity;
    for (let i = 0; i < D; i++) max = Math.max(max, x.data[base + i]!);
    let sum = 0;
    for (let i = 0; i < D; i++) {
      e[i] = Math.exp(x.data[base + i]! - max);
      sum += e[i]!;
    }
    for (let i = 0; i < D; i++) out.data[base + i] = e[i]! / sum;
  }
  return out;
}

export interface AttentionOptions {
  /** Query i sees keys 0..i only (CLIP's causal mask). */
  causal?: boolean;
}

/**
 * Multi-head scaled dot-product attention, softmax(q k^T / sqrt(d)) v (Vaswani et al. 2017), on already projected
 * q [B, Tq, H*d], k [B, Tk, H*d], v [B, Tk, H*dv]. Head h owns columns h*d..(h+1)*d of the last axis, the split of
 * `rearrange('b n (h d) -> (b h) n d')` in ldm `CrossAttention` and of `view(B, T, H, d)` in HF CLIP.
 */
export function attention(q: RefTensor, k: RefTensor, v: RefTensor, heads: number, opts: AttentionOptions = {}): RefTensor {
  const [B, Tq, D] = q.shape as [number, number, number];
  const [Bk, Tk, Dk] = k.shape as [number, number, number];
  if (q.shape.length !== 3 || k.shape.length !== 3 || Bk !== B || Dk !== D) {
    throw new Error(`attention: q [${q.shape.join(', ')}] and k [${k.shape.join(', ')}] do not match`);
  }
  expectShape(v, [B, Tk, dim(v, -1)], 'attention values');
  const Dv = dim(v, -1);
  if (D % heads !== 0 || Dv % heads !== 0) throw new Error(`attention: widths ${D}/${Dv} do not split into ${heads} heads`);
  const d = D / heads;
  const dv = Dv / heads;
  const scale = 1 / Math.sqrt(d);
  const out = zeros([B, Tq, Dv]);
  const p = new Float64Array(Tk);
  for (let n = 0; n < B; n++) {
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < Tq; i++) {
        const qBase = (n * Tq + i) * D + h * d;
        let max = -Infinity;
        for (let j = 0; j < Tk; j++) {
          if (opts.causal === true && j > i) {
            p[j] = -Infinity;
            continue;
          }
          const kBase = (n * Tk + j) * D + h * d;
          let s = 0;
          for (let e = 0; e < d; e++) s += q.data[qBase + e]! * k.data[kBase + e]!;
          p[j] = s * scale;
          max = Math.max(max, p[j]!);
        }
        let sum = 0;
        for (let j = 0; j < Tk; j++) {
          p[j] = Math.exp(p[j]! - max); // exp(-Inf) = 0 for masked keys
          sum += p[j]!;
        }
        const oBase = (n * Tq + i) * Dv + h * dv;
        for (let e = 0; e < dv; e++) {
          let s = 0;
          for (let j = 0; j < Tk; j++) s += p[j]! * v.data[(n * Tk + j) * Dv + h * dv + e]!;
          out.data[oBase + e] = s / sum;
        }
      }
    }
  }
  return out;
}

/** `F.interpolate(x, scale_factor=2, mode='nearest')` on NCHW: out[y][x] = in[floor(y/2)][floor(x/2)]. */
export function upsampleNearest2x(x: RefTensor): RefTensor {
  const [B, C, H, W] = shape4(x, 'upsample input');
  const out = zeros([B, C, 2 * H, 2 * W]);
  for (let p = 0; p < B * C; p++) {
    for (let y = 0; y < 2 * H; y++) {
      for (let xi = 0; xi < 2 * W; xi++) {
        out.data[(p * 2 * H + y) * 2 * W + xi] = x.data[(p * H + (y >> 1)) * W + (xi >> 1)]!;
      }
    }
  }
  return out;
}

/**
 * The LDM sinusoidal timestep embedding, `timestep_embedding` in ldm/modules/diffusionmodules/util.py (also sgm):
 * half = dim/2, freqs[i] = exp(-ln(10000) i / half), output [cos(t freqs), sin(t freqs)] — cosine first — with a
 * zero column appended when dim is odd. Computed in float64 (torch computes it in float32). Returns [B, dim].
 */
export function timestepEmbedding(timesteps: readonly number[], embeddingDim: number): RefTensor {
  const half = Math.floor(embeddingDim / 2);
  const out = zeros([timesteps.length, embeddingDim]);
  timesteps.forEach((t, n) => {
    for (let i = 0; i < half; i++) {
      const arg = t * Math.exp((-Math.log(10000) * i) / half);
      out.data[n * embeddingDim + i] = Math.cos(arg);
      out.data[n * embeddingDim + half + i] = Math.sin(arg);
    }
  });
  return out;
}

/** `torch.cat(tensors, axis)`. */
export function concat(tensors: readonly RefTensor[], axis: number): RefTensor {
  const first = tensors[0];
  if (first === undefined) throw new Error('concat: no tensors');
  const rank = first.shape.length;
  const ax = axis < 0 ? rank + axis : axis;
  const outer = numel(first.shape.slice(0, ax));
  const inner = numel(first.shape.slice(ax + 1));
  for (const t of tensors) {
    if (t.shape.length !== rank || t.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new Error(`concat: [${t.shape.join(', ')}] does not match [${first.shape.join(', ')}] off axis ${ax}`);
    }
  }
  const total = tensors.reduce((s, t) => s + t.shape[ax]!, 0);
  const shape = [...first.shape];
  shape[ax] = total;
  const out = zeros(shape);
  for (let o = 0; o < outer; o++) {
    let offset = o * total * inner;
    for (const t of tensors) {
      const len = t.shape[ax]! * inner;
      out.data.set(t.data.subarray(o * len, (o + 1) * len), offset);
      offset += len;
    }
  }
  return out;
}

/** `x.narrow(axis, start, end - start)` as a copy. */
export function slice(x: RefTensor, axis: number, start: number, end: number): RefTensor {
  const ax = axis < 0 ? x.shape.length + axis : axis;
  const size = dim(x, ax);
  if (start < 0 || end > size || start >= end) throw new Error(`slice: [${start}, ${end}) outside axis of size ${size}`);
  const outer = numel(x.shape.slice(0, ax));
  const inner = numel(x.shape.slice(ax + 1));
  const shape = [...x.shape];
  shape[ax] = end - start;
  const out = zeros(shape);
  const len = (end - start) * inner;
  for (let o = 0; o < outer; o++) {
    out.data.set(x.data.subarray((o * size + start) * inner, (o * size + start) * inner + len), o * len);
  }
  return out;
}

export function add(a: RefTensor, b: RefTensor): RefTensor {
  sameShape(a, b, 'add');
  const out = zeros(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i]! + b.data[i]!;
  return out;
}

export function mul(a: RefTensor, b: RefTensor): RefTensor {
  sameShape(a, b, 'mul');
  const out = zeros(a.shape);
  for (let i = 0; i < a.data.length; i++) out.data[i] = a.data[i]! * b.data[i]!;
  return out;
}

/** x [B, C, H, W] + v [B, C] broadcast as v[:, :, None, None]. */
export function addPerChannel(x: RefTensor, v: RefTensor): RefTensor {
  const [B, C, H, W] = shape4(x, 'addPerChannel input');
  expectShape(v, [B, C], 'addPerChannel vector');
  const out = zeros(x.shape);
  for (let p = 0; p < B * C; p++) {
    const s = v.data[p]!;
    for (let i = 0; i < H * W; i++) out.data[p * H * W + i] = x.data[p * H * W + i]! + s;
  }
  return out;
}

/** [B, C, H, W] -> [B, H*W, C] (`rearrange('b c h w -> b (h w) c')`). */
export function imageToTokens(x: RefTensor): RefTensor {
  const [B, C, H, W] = shape4(x, 'imageToTokens input');
  const S = H * W;
  const out = zeros([B, S, C]);
  for (let n = 0; n < B; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) out.data[(n * S + s) * C + c] = x.data[(n * C + c) * S + s]!;
    }
  }
  return out;
}

/** [B, H*W, C] -> [B, C, H, W], the inverse of `imageToTokens`. */
export function tokensToImage(x: RefTensor, H: number, W: number): RefTensor {
  const [B, S, C] = x.shape as [number, number, number];
  if (x.shape.length !== 3 || S !== H * W) throw new Error(`tokensToImage: [${x.shape.join(', ')}] is not ${H}x${W} tokens`);
  const out = zeros([B, C, H, W]);
  for (let n = 0; n < B; n++) {
    for (let c = 0; c < C; c++) {
      for (let s = 0; s < S; s++) out.data[(n * C + c) * S + s] = x.data[(n * S + s) * C + c]!;
    }
  }
  return out;
}
