/**
 * SAM's image encoder (Kirillov et al. 2023): a ViT (Dosovitskiy et al. 2021) whose layers attend inside
 * non-overlapping windows except a few global ones (Li et al. 2022, ViTDet), each with decomposed relative
 * position terms (Li et al. 2022, MViTv2), then a conv neck down to the image embedding. Named by transformers'
 * `vision_encoder.*` keys.
 *
 * Input:   pixel_values [1, 3, S, S], normalized and padded (sam-image-frame.ts)
 * Output:  image_embeddings [1, 256, S/16, S/16]
 */
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { attr, GraphBuilder } from '../onnx/graph-builder.ts';
import type { OnnxModel } from '../onnx/onnx-proto.ts';
import { SAM_PROFILE, SAM_VISION, type SamVisionLayout } from '../segment/sam-layout.ts';
import { conv2d, gelu, layerNorm, linear } from './layers.ts';

/**
 * Global layers run their heads in groups of this many, so one group's [heads, tokens, tokens] scores
 * (4096 x 4096 per head at 1024 px) are freed before the next group's are made.
 */
const GLOBAL_HEAD_GROUP = 4;

/** `get_rel_pos` for equal query and key sizes: entry [i, j] picks row (i - j) + size - 1 of the table. */
function relativeIndexes(size: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) out.push(i - j + size - 1);
  return out;
}

/**
 * Self-attention over a [B, h, w, C] grid with decomposed relative positions: each score gains
 * q . Rh[qy - ky] + q . Rw[qx - kx] (the unscaled query), before the softmax.
 */
function relativePositionAttention(g: GraphBuilder, x: string, prefix: string, cfg: SamVisionLayout, side: number, batch: number, headGroup: number): string {
  const { width, heads } = cfg;
  const headDim = width / heads;
  const tokens = side * side;
  const qkv = g.op('Reshape', [linear(g, x, `${prefix}qkv.`), g.constInt64([batch, tokens, 3, heads, headDim])]);
  const split = g.op('Reshape', [g.op('Transpose', [qkv], { perm: attr.ints([2, 0, 3, 1, 4]) }), g.constInt64([3, batch * heads, tokens, headDim])]);
  const part3 = (i: number): string => g.op('Gather', [split, g.constInt64([i], [])], { axis: attr.int(0) }); // [B*heads, tokens, d]
  const q = part3(0);
  const k = part3(1);
  const v = part3(2);
  const table = g.constInt64(relativeIndexes(side), [side, side]);
  const rh = g.op('Gather', [g.weight(`${prefix}rel_pos_h`), table], { axis: attr.int(0) }); // [h, h, d]
  const rw = g.op('Gather', [g.weight(`${prefix}rel_pos_w`), table], { axis: attr.int(0) }); // [w, w, d]
  const kt = g.op('Transpose', [k], { perm: attr.ints([0, 2, 1]) });
  const scale = g.constFloat([1 / Math.sqrt(headDim)], []);
  const rows = batch * heads;
  const outputs: string[] = [];
  for (let start = 0; start < rows; start += headGroup) {
    const n = Math.min(headGroup, rows - start);
    const part = (t: string): string => (n === rows ? t : g.op('Slice', [t, g.constInt64([start]), g.constInt64([start + n]), g.constInt64([0])]));
    const qp = part(q);
    const scores = g.op('MatMul', [g.op('Mul', [qp, scale]), part(kt)]); // [n, tokens, tokens]
    const grid = g.op('Reshape', [qp, g.constInt64([n, side, side, headDim])]);
    const relH = g.op('Einsum', [grid, rh], { equation: attr.string('bhwc,hkc->bhwk') }); // [n, h, w, h]
    const relW = g.op('Einsum', [grid, rw], { equation: attr.string('bhwc,wkc->bhwk') }); // [n, h, w, w]
    const biased = g.op('Add', [
      g.op('Add', [g.op('Reshape', [scores, g.constInt64([n, side, side, side, side])]), g.op('Unsqueeze', [relH, g.constInt64([4])])]),
      g.op('Unsqueeze', [relW, g.constInt64([3])]),
    ]); // [n, h, w, h, w]
    const probs = g.op('Softmax', [g.op('Reshape', [biased, g.constInt64([n, tokens, tokens])])], { axis: attr.int(-1) });
    outputs.push(g.op('MatMul', [probs, part(v)])); // [n, tokens, d]
  }
  const joined = outputs.length === 1 ? outputs[0]! : g.op('Concat', outputs, { axis: attr.int(0) });
  const merged = g.op('Transpose', [g.op('Reshape', [joined, g.constInt64([batch, heads, side, side, headDim])])], { perm: attr.ints([0, 2, 3, 1, 4]) });
  return linear(g, g.op('Reshape', [merged, g.constInt64([batch, side, side, width])]), `${prefix}proj.`); // [B, h, w, C]
}

/** [1, G, G, C] -> [windows, w, w, C], zero-padding the grid to a multiple of the window first. */
function partitionWindows(g: GraphBuilder, x: string, cfg: SamVisionLayout): string {
  const { grid, window, width } = cfg;
  const per = Math.ceil(grid / window);
  const pad = per * window - grid;
  const padded = pad === 0 ? x : g.op('Pad', [x, g.constInt64([0, 0, 0, 0, 0, pad, pad, 0])]);
  const blocks = g.op('Reshape', [padded, g.constInt64([1, per, window, per, window, width])]);
  const ordered = g.op('Transpose', [blocks], { perm: attr.ints([0, 1, 3, 2, 4, 5]) });
  return g.op('Reshape', [ordered, g.constInt64([per * per, window, window, width])]);
}

/** The inverse of `partitionWindows`: [windows, w, w, C] -> [1, G, G, C], the padding cut off. */
function mergeWindows(g: GraphBuilder, x: string, cfg: SamVisionLayout): string {
  const { grid, window, width } = cfg;
  const per = Math.ceil(grid / window);
  const blocks = g.op('Reshape', [x, g.constInt64([1, per, per, window, window, width])]);
  const ordered = g.op('Reshape', [g.op('Transpose', [blocks], { perm: attr.ints([0, 1, 3, 2, 4, 5]) }), g.constInt64([1, per * window, per * window, width])]);
  if (per * window === grid) return ordered;
  return g.op('Slice', [ordered, g.constInt64([0, 0]), g.constInt64([grid, grid]), g.constInt64([1, 2])]);
}

/** One pre-LayerNorm layer: x + proj(attention(ln1(x))) in windows or globally, then x + mlp(ln2(x)). */
function buildEncoderLayer(g: GraphBuilder, x: string, cfg: SamVisionLayout, layer: number): string {
  const p = `${SAM_VISION}layers.${layer}.`;
  const normed = layerNorm(g, x, `${p}layer_norm1.`, SAM_PROFILE.normEps); // [1, G, G, C]
  let attended: string;
  if (cfg.globalLayers.includes(layer)) {
    attended = relativePositionAttention(g, normed, `${p}attn.`, cfg, cfg.grid, 1, GLOBAL_HEAD_GROUP);
  } else {
    const per = Math.ceil(cfg.grid / cfg.window);
    const windows = partitionWindows(g, normed, cfg);
    const rows = per * per * cfg.heads;
    attended = mergeWindows(g, relativePositionAttention(g, windows, `${p}attn.`, cfg, cfg.window, per * per, rows), cfg);
  }
  const h = g.op('Add', [x, attended]);
  const hidden = gelu(g, linear(g, layerNorm(g, h, `${p}layer_norm2.`, SAM_PROFILE.normEps), `${p}mlp.lin1.`));
  return g.op('Add', [h, linear(g, hidden, `${p}mlp.lin2.`)]);
}

/** LayerNorm over the channels of an NCHW map (SAM's LayerNorm2d). */
export function channelLayerNorm(g: GraphBuilder, x: string, prefix: string): string {
  const last = g.op('Transpose', [x], { perm: attr.ints([0, 2, 3, 1]) });
  return g.op('Transpose', [layerNorm(g, last, prefix, SAM_PROFILE.normEps)], { perm: attr.ints([0, 3, 1, 2]) });
}

export function buildSamImageEncoderGraph(checkpoint: SafetensorsHeader, cfg: SamVisionLayout): OnnxModel {
  const g = new GraphBuilder('sam-image-encoder', checkpoint);
  const pixels = g.input('pixel_values', 'float32', [1, 3, cfg.imageSize, cfg.imageSize]);
  // 1. patches and absolute positions, channels last
  const patches = conv2d(g, pixels, `${SAM_VISION}patch_embed.projection.`, { stride: cfg.patch, padding: 0 }); // [1, C, G, G]
  const positions = g.weight(`${SAM_VISION}pos_embed`, [1, cfg.grid, cfg.grid, cfg.width]);
  let h = g.op('Add', [g.op('Transpose', [patches], { perm: attr.ints([0, 2, 3, 1]) }), positions]); // [1, G, G, C]
  // 2. windowed and global layers
  for (let i = 0; i < cfg.layers; i++) h = buildEncoderLayer(g, h, cfg, i);
  // 3. neck: 1x1 conv, norm, 3x3 conv, norm
  const n = `${SAM_VISION}neck.`;
  let y = g.op('Transpose', [h], { perm: attr.ints([0, 3, 1, 2]) }); // [1, C, G, G]
  y = channelLayerNorm(g, conv2d(g, y, `${n}conv1.`, { padding: 0 }), `${n}layer_norm1.`);
  y = channelLayerNorm(g, conv2d(g, y, `${n}conv2.`, { padding: 1 }), `${n}layer_norm2.`); // [1, 256, G, G]
  g.output(y, 'image_embeddings', 'float32', [1, cfg.outChannels, cfg.grid, cfg.grid]);
  return g.build({ 'fooocus.graph': 'sam-image-encoder' });
}
