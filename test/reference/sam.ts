/**
 * Plain-TypeScript Segment Anything forward passes (Kirillov et al. 2023) for checking the ONNX graphs: the ViT
 * image encoder with windowed / global attention and decomposed relative positions, the box prompt encoder and the
 * two-way mask decoder, written from the architecture's description with naive loops. Sizes come from the
 * fixture's dims, not from the engine's layout reader. Slow; for tiny fixture weights only.
 */
import type { SamDims } from '../fixtures/sam-models.ts';
import { attention, conv2d, gelu, layerNorm, linear } from './ops.ts';
import { zeros, type RefTensor, type WeightSource } from './tensor.ts';

const EPS = 1e-6;

const addT = (a: RefTensor, b: RefTensor): RefTensor => ({ shape: [...a.shape], data: a.data.map((v, i) => v + b.data[i]!) });
const relu = (x: RefTensor): RefTensor => ({ shape: [...x.shape], data: x.data.map((v) => Math.max(0, v)) });
const lin = (x: RefTensor, w: WeightSource, p: string): RefTensor => linear(x, w(`${p}.weight`), w(`${p}.bias`));
const ln = (x: RefTensor, w: WeightSource, p: string, eps = EPS): RefTensor => layerNorm(x, w(`${p}.weight`), w(`${p}.bias`), eps);

/** LayerNorm over the channel axis of [B, C, H, W]. */
function channelNorm(x: RefTensor, w: WeightSource, p: string): RefTensor {
  const [B, C, H, W] = x.shape as [number, number, number, number];
  const gamma = w(`${p}.weight`).data;
  const beta = w(`${p}.bias`).data;
  const out = zeros(x.shape);
  for (let b = 0; b < B; b++) {
    for (let s = 0; s < H * W; s++) {
      let mean = 0;
      for (let c = 0; c < C; c++) mean += x.data[(b * C + c) * H * W + s]!;
      mean /= C;
      let variance = 0;
      for (let c = 0; c < C; c++) variance += (x.data[(b * C + c) * H * W + s]! - mean) ** 2;
      const inv = 1 / Math.sqrt(variance / C + EPS);
      for (let c = 0; c < C; c++) {
        const i = (b * C + c) * H * W + s;
        out.data[i] = (x.data[i]! - mean) * inv * gamma[c]! + beta[c]!;
      }
    }
  }
  return out;
}

/**
 * Attention over one [side, side, C] window (or the whole grid) with decomposed relative positions: score(i, j) =
 * q_i . k_j / sqrt(d) + q_i . Rh[yi - yj + side - 1] + q_i . Rw[xi - xj + side - 1].
 */
function relPosWindow(x: Float32Array, side: number, w: WeightSource, p: string, heads: number): Float32Array {
  const C = x.length / (side * side);
  const d = C / heads;
  const T = side * side;
  const qkv = lin({ shape: [T, C], data: x }, w, `${p}.qkv`).data; // [T, 3C]: q | k | v, head h at h*d
  const rh = w(`${p}.rel_pos_h`).data;
  const rw = w(`${p}.rel_pos_w`).data;
  const out = new Float32Array(T * C);
  const scores = new Float64Array(T);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < T; i++) {
      const yi = Math.floor(i / side);
      const xi = i % side;
      const q = (e: number): number => qkv[i * 3 * C + h * d + e]!;
      let max = -Infinity;
      for (let j = 0; j < T; j++) {
        const yj = Math.floor(j / side);
        const xj = j % side;
        let dot = 0;
        let relH = 0;
        let relW = 0;
        for (let e = 0; e < d; e++) {
          dot += q(e) * qkv[j * 3 * C + C + h * d + e]!;
          relH += q(e) * rh[(yi - yj + side - 1) * d + e]!;
          relW += q(e) * rw[(xi - xj + side - 1) * d + e]!;
        }
        scores[j] = dot / Math.sqrt(d) + relH + relW;
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j < T; j++) {
        scores[j] = Math.exp(scores[j]! - max);
        sum += scores[j]!;
      }
      for (let e = 0; e < d; e++) {
        let s = 0;
        for (let j = 0; j < T; j++) s += scores[j]! * qkv[j * 3 * C + 2 * C + h * d + e]!;
        out[i * C + h * d + e] = s / sum;
      }
    }
  }
  return lin({ shape: [T, C], data: out }, w, `${p}.proj`).data;
}

/** Windowed attention over a [G, G, C] grid: pad with zeros to whole windows, attend per window, crop. */
function windowedAttention(x: Float32Array, G: number, C: number, dims: SamDims, w: WeightSource, p: string): Float32Array {
  const ws = dims.window;
  const per = Math.ceil(G / ws);
  const out = new Float32Array(G * G * C);
  for (let wy = 0; wy < per; wy++) {
    for (let wx = 0; wx < per; wx++) {
      const win = new Float32Array(ws * ws * C);
      for (let y = 0; y < ws; y++) {
        for (let xx = 0; xx < ws; xx++) {
          const gy = wy * ws + y;
          const gx = wx * ws + xx;
          if (gy < G && gx < G) win.set(x.subarray((gy * G + gx) * C, (gy * G + gx + 1) * C), (y * ws + xx) * C);
        }
      }
      const res = relPosWindow(win, ws, w, p, dims.heads);
      for (let y = 0; y < ws; y++) {
        for (let xx = 0; xx < ws; xx++) {
          const gy = wy * ws + y;
          const gx = wx * ws + xx;
          if (gy < G && gx < G) out.set(res.subarray((y * ws + xx) * C, (y * ws + xx + 1) * C), (gy * G + gx) * C);
        }
      }
    }
  }
  return out;
}

/** The image encoder: pixels [1, 3, S, S] -> image embedding [1, out, G, G]. */
export function referenceSamEncoder(w: WeightSource, dims: SamDims, pixels: RefTensor): RefTensor {
  const v = 'vision_encoder.';
  const G = dims.grid;
  const C = dims.width;
  const patches = conv2d(pixels, w(`${v}patch_embed.projection.weight`), w(`${v}patch_embed.projection.bias`), { stride: dims.patch }); // [1, C, G, G]
  const pos = w(`${v}pos_embed`).data;
  let x = new Float32Array(G * G * C); // channels last
  for (let s = 0; s < G * G; s++) for (let c = 0; c < C; c++) x[s * C + c] = patches.data[c * G * G + s]! + pos[s * C + c]!;
  for (let i = 0; i < dims.layers; i++) {
    const p = `${v}layers.${i}`;
    const normed = ln({ shape: [G * G, C], data: x }, w, `${p}.layer_norm1`).data;
    const attended = dims.globalLayers.includes(i) ? relPosWindow(normed, G, w, `${p}.attn`, dims.heads) : windowedAttention(normed, G, C, dims, w, `${p}.attn`);
    const h = x.map((val, k) => val + attended[k]!);
    const mlp = lin(gelu(lin(ln({ shape: [G * G, C], data: h }, w, `${p}.layer_norm2`), w, `${p}.mlp.lin1`)), w, `${p}.mlp.lin2`).data;
    x = h.map((val, k) => val + mlp[k]!);
  }
  const nchw = zeros([1, C, G, G]);
  for (let s = 0; s < G * G; s++) for (let c = 0; c < C; c++) nchw.data[c * G * G + s] = x[s * C + c]!;
  let y = channelNorm(conv2d(nchw, w(`${v}neck.conv1.weight`), null), w, `${v}neck.layer_norm1`);
  y = channelNorm(conv2d(y, w(`${v}neck.conv2.weight`), null, { padding: 1 }), w, `${v}neck.layer_norm2`);
  return y;
}

/** Random-Fourier encoding of points already in 0..1: [n, 2] -> [n, 2F] (sin half, then cos half). */
function fourier(points: number[][], gaussian: RefTensor): RefTensor {
  const F = gaussian.shape[1]!;
  const out = zeros([points.length, 2 * F]);
  points.forEach(([px, py], n) => {
    for (let f = 0; f < F; f++) {
      const a = 2 * Math.PI * ((2 * px! - 1) * gaussian.data[f]! + (2 * py! - 1) * gaussian.data[F + f]!);
      out.data[n * 2 * F + f] = Math.sin(a);
      out.data[n * 2 * F + F + f] = Math.cos(a);
    }
  });
  return out;
}

/** SAM attention on unbatched [T, hidden] inputs: project to the internal width, attend with 8 heads, project back. */
function samAttn(q: RefTensor, k: RefTensor, v: RefTensor, w: WeightSource, p: string): RefTensor {
  const b = (t: RefTensor): RefTensor => ({ shape: [1, ...t.shape], data: t.data });
  const out = attention(b(lin(q, w, `${p}.q_proj`)), b(lin(k, w, `${p}.k_proj`)), b(lin(v, w, `${p}.v_proj`)), 8);
  return lin({ shape: out.shape.slice(1), data: out.data }, w, `${p}.out_proj`);
}

function mlp3(x: RefTensor, w: WeightSource, p: string): RefTensor {
  return lin(relu(lin(relu(lin(x, w, `${p}.proj_in`)), w, `${p}.layers.0`)), w, `${p}.proj_out`);
}

/** ConvTranspose2d with a 2x2 kernel and stride 2: x [C, H, W], weight [C, Co, 2, 2] -> [Co, 2H, 2W]. */
function deconv2x2(x: RefTensor, weight: RefTensor, bias: RefTensor): RefTensor {
  const [C, H, W] = x.shape as [number, number, number];
  const Co = weight.shape[1]!;
  const out = zeros([Co, 2 * H, 2 * W]);
  for (let o = 0; o < Co; o++) {
    for (let y = 0; y < 2 * H; y++) {
      for (let xx = 0; xx < 2 * W; xx++) {
        let s = bias.data[o]!;
        for (let c = 0; c < C; c++) s += x.data[(c * H + (y >> 1)) * W + (xx >> 1)]! * weight.data[((c * Co + o) * 2 + (y & 1)) * 2 + (xx & 1)]!;
        out.data[(o * 2 * H + y) * 2 * W + xx] = s;
      }
    }
  }
  return out;
}

/**
 * Prompt encoder and mask decoder for one box (x1, y1, x2, y2 in the input frame's pixels) against an image
 * embedding [1, C, G, G]: every mask token's low-resolution logits [M, 4G, 4G] and the IoU predictions [M].
 */
export function referenceSamDecoder(w: WeightSource, dims: SamDims, embedding: RefTensor, box: readonly number[]): { masks: RefTensor; iou: RefTensor } {
  const C = dims.out;
  const G = dims.grid;
  const S = dims.grid * dims.patch;
  const gaussian = w('shared_image_embedding.positional_embedding');
  const corners = fourier([[(box[0]! + 0.5) / S, (box[1]! + 0.5) / S], [(box[2]! + 0.5) / S, (box[3]! + 0.5) / S]], gaussian);
  for (let c = 0; c < C; c++) {
    corners.data[c] = corners.data[c]! + w('prompt_encoder.point_embed.2.weight').data[c]!;
    corners.data[C + c] = corners.data[C + c]! + w('prompt_encoder.point_embed.3.weight').data[c]!;
  }
  const tokens = zeros([7, C]);
  tokens.data.set(w('mask_decoder.iou_token.weight').data, 0);
  tokens.data.set(w('mask_decoder.mask_tokens.weight').data, C);
  tokens.data.set(corners.data, 5 * C);
  let keys = zeros([G * G, C]);
  const noMask = w('prompt_encoder.no_mask_embed.weight').data;
  for (let s = 0; s < G * G; s++) for (let c = 0; c < C; c++) keys.data[s * C + c] = embedding.data[c * G * G + s]! + noMask[c]!;
  const cells: number[][] = [];
  for (let y = 0; y < G; y++) for (let x = 0; x < G; x++) cells.push([(x + 0.5) / G, (y + 0.5) / G]);
  const keyPe = fourier(cells, gaussian);
  let q = tokens;
  for (let i = 0; i < dims.decoderLayers; i++) {
    const p = `mask_decoder.transformer.layers.${i}`;
    if (i === 0) q = samAttn(q, q, q, w, `${p}.self_attn`);
    else q = addT(q, samAttn(addT(q, tokens), addT(q, tokens), q, w, `${p}.self_attn`));
    q = ln(q, w, `${p}.layer_norm1`);
    q = ln(addT(q, samAttn(addT(q, tokens), addT(keys, keyPe), keys, w, `${p}.cross_attn_token_to_image`)), w, `${p}.layer_norm2`);
    q = ln(addT(q, lin(relu(lin(q, w, `${p}.mlp.lin1`)), w, `${p}.mlp.lin2`)), w, `${p}.layer_norm3`);
    keys = ln(addT(keys, samAttn(addT(keys, keyPe), addT(q, tokens), q, w, `${p}.cross_attn_image_to_token`)), w, `${p}.layer_norm4`);
  }
  const f = 'mask_decoder.transformer';
  q = ln(addT(q, samAttn(addT(q, tokens), addT(keys, keyPe), keys, w, `${f}.final_attn_token_to_image`)), w, `${f}.layer_norm_final_attn`, 1e-5);
  const map = zeros([C, G, G]);
  for (let s = 0; s < G * G; s++) for (let c = 0; c < C; c++) map.data[c * G * G + s] = keys.data[s * C + c]!;
  const m = 'mask_decoder';
  const up1 = deconv2x2(map, w(`${m}.upscale_conv1.weight`), w(`${m}.upscale_conv1.bias`));
  const normed = channelNorm({ shape: [1, ...up1.shape], data: up1.data }, w, `${m}.upscale_layer_norm`);
  const up2 = gelu(deconv2x2(gelu({ shape: up1.shape, data: normed.data }), w(`${m}.upscale_conv2.weight`), w(`${m}.upscale_conv2.bias`)));
  const low = C / 8;
  const side = 4 * G;
  const masks = zeros([4, side, side]);
  for (let t = 0; t < 4; t++) {
    const hyper = mlp3({ shape: [1, C], data: q.data.slice((1 + t) * C, (2 + t) * C) }, w, `${m}.output_hypernetworks_mlps.${t}`).data;
    for (let s = 0; s < side * side; s++) {
      let v = 0;
      for (let c = 0; c < low; c++) v += hyper[c]! * up2.data[c * side * side + s]!;
      masks.data[t * side * side + s] = v;
    }
  }
  const iou = mlp3({ shape: [1, C], data: q.data.slice(0, C) }, w, `${m}.iou_prediction_head`);
  return { masks, iou: { shape: [4], data: iou.data } };
}
