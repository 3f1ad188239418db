/**
 * The Swin Transformer backbone (Liu et al. 2021, "Swin Transformer: Hierarchical Vision Transformer using Shifted
 * Windows") in transformers' `SwinBackbone` layout: patch embedding, stages of window attention blocks (every other
 * block on windows shifted by half a window, with the cross-region mask), patch merging between stages, and a
 * LayerNorm per output stage (`hidden_states_norms.stageN`) on the stage's output before its merging.
 *
 * Built for one input size: window sizes shrink on maps no larger than a window, padding and shift masks depend
 * on the map sizes, so those are constants of the graph rather than runtime branches.
 */
import { FooocusError } from '../errors/fooocus-error.ts';
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { attention, gelu, layerNorm, linear } from './layers.ts';

export interface SwinConfig {
  /** Key prefix of the backbone, ending in '.'. */
  prefix: string;
  patch: number;
  embedDim: number;
  depths: number[];
  heads: number[];
  window: number;
  /** Stage numbers (1-based) whose outputs the backbone returns, from its `hidden_states_norms`. */
  outStages: number[];
}

const SWIN_EPS = 1e-5;

/** An input so narrow that a stage's map is smaller than one attention window. */
export class SwinInputSizeError extends FooocusError {
  constructor(height: number, width: number, window: number) {
    super('invalid', `image too narrow for the Swin backbone: a ${height}x${width} stage map is smaller than its ${window}x${window} window`, { field: 'image' });
  }
}

/** Reads the Swin sizes from the tensors under `prefix`; null when the keys are not a Swin backbone's. */
export function detectSwinConfig(shapeOf: (key: string) => number[] | null, prefix: string): SwinConfig | null {
  const projection = shapeOf(`${prefix}embeddings.patch_embeddings.projection.weight`);
  if (projection === null || projection.length !== 4) return null;
  const depths: number[] = [];
  const heads: number[] = [];
  let window = 0;
  for (let stage = 0; shapeOf(`${prefix}encoder.layers.${stage}.blocks.0.layernorm_before.weight`) !== null; stage++) {
    let blocks = 0;
    while (shapeOf(`${prefix}encoder.layers.${stage}.blocks.${blocks}.layernorm_before.weight`) !== null) blocks++;
    const table = shapeOf(`${prefix}encoder.layers.${stage}.blocks.0.attention.self.relative_position_bias_table`);
    if (table === null || table.length !== 2) return null;
    window = (Math.round(Math.sqrt(table[0]!)) + 1) / 2;
    depths.push(blocks);
    heads.push(table[1]!);
  }
  const outStages = depths.map((_, i) => i + 1).filter((s) => shapeOf(`${prefix}hidden_states_norms.stage${s}.weight`) !== null);
  if (depths.length === 0 || outStages.length === 0 || !Number.isInteger(window)) return null;
  return { prefix, patch: projection[2]!, embedDim: projection[0]!, depths, heads, window, outStages };
}

/** Relative position index of a ws x ws window: entry (i, j) names the bias-table row of offset pos(i) - pos(j). */
export function relativePositionIndex(ws: number): number[] {
  const index: number[] = [];
  for (let i = 0; i < ws * ws; i++) {
    for (let j = 0; j < ws * ws; j++) {
      const dy = Math.floor(i / ws) - Math.floor(j / ws) + ws - 1;
      const dx = (i % ws) - (j % ws) + ws - 1;
      index.push(dy * (2 * ws - 1) + dx);
    }
  }
  return index;
}

/**
 * The shifted-window mask [windows, ws*ws, ws*ws]: 0 between tokens of the same region of the padded map, -100
 * between tokens that the cyclic shift brought together from different regions.
 */
export function shiftedWindowMask(heightPad: number, widthPad: number, ws: number, shift: number): Float32Array {
  const region = (v: number, size: number): number => (v < size - ws ? 0 : v < size - shift ? 1 : 2);
  const rows = heightPad / ws;
  const cols = widthPad / ws;
  const n = ws * ws;
  const mask = new Float32Array(rows * cols * n * n);
  for (let wy = 0; wy < rows; wy++) {
    for (let wx = 0; wx < cols; wx++) {
      const labels = Array.from({ length: n }, (_, t) => region(wy * ws + Math.floor(t / ws), heightPad) * 3 + region(wx * ws + (t % ws), widthPad));
      const base = (wy * cols + wx) * n * n;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) mask[base + i * n + j] = labels[i] === labels[j] ? 0 : -100;
    }
  }
  return mask;
}

/** Cyclic shift of [1, H, W, C] by `by` along rows and columns (`torch.roll`), as slices and concats. */
function roll(g: GraphBuilder, x: string, by: number, height: number, width: number): string {
  const along = (v: string, axis: number, size: number): string => {
    const k = ((by % size) + size) % size;
    if (k === 0) return v;
    const tail = g.op('Slice', [v, g.constInt64([size - k]), g.constInt64([size]), g.constInt64([axis])]);
    const head = g.op('Slice', [v, g.constInt64([0]), g.constInt64([size - k]), g.constInt64([axis])]);
    return g.op('Concat', [tail, head], { axis: attr.int(axis) });
  };
  return along(along(x, 1, height), 2, width);
}

/** One Swin block on [1, H*W, C] tokens of an H x W map. */
function swinBlock(g: GraphBuilder, x: string, p: string, height: number, width: number, channels: number, heads: number, window: number, shifted: boolean): string {
  // A map exactly one window across is one unshifted window (transformers' SwinLayer rule); a smaller one would
  // need a window smaller than the bias table's, which the model never saw.
  if (Math.min(height, width) < window) throw new SwinInputSizeError(height, width, window);
  const ws = window;
  const shift = Math.min(height, width) === window || !shifted ? 0 : Math.floor(window / 2);
  const heightPad = Math.ceil(height / ws) * ws;
  const widthPad = Math.ceil(width / ws) * ws;
  const windows = (heightPad / ws) * (widthPad / ws);
  const n = ws * ws;

  let h = g.op('Reshape', [layerNorm(g, x, `${p}layernorm_before.`, SWIN_EPS), g.constInt64([1, height, width, channels])]); // [1, H, W, C]
  if (heightPad !== height || widthPad !== width) h = g.op('Pad', [h, g.constInt64([0, 0, 0, 0, 0, heightPad - height, widthPad - width, 0])]);
  if (shift > 0) h = roll(g, h, -shift, heightPad, widthPad);
  const partitioned = g.op('Transpose', [g.op('Reshape', [h, g.constInt64([1, heightPad / ws, ws, widthPad / ws, ws, channels])])], { perm: attr.ints([0, 1, 3, 2, 4, 5]) });
  const tokens = g.op('Reshape', [partitioned, g.constInt64([windows, n, channels])]); // [nW, ws*ws, C]

  // Relative position bias [1, heads, n, n] (+ the shift mask [nW, 1, n, n]), folded into constants by the runtime.
  const table = g.weight(`${p}attention.self.relative_position_bias_table`, [(2 * window - 1) ** 2, heads]);
  const index = relativePositionIndex(ws);
  const bias = g.op('Reshape', [g.op('Transpose', [g.op('Gather', [table, g.constInt64(index)], { axis: attr.int(0) })], { perm: attr.ints([1, 0]) }), g.constInt64([1, heads, n, n])]);
  const mask = shift > 0 ? g.op('Add', [bias, g.constFloat(shiftedWindowMask(heightPad, widthPad, ws, shift), [windows, 1, n, n])]) : bias;

  const q = linear(g, tokens, `${p}attention.self.query.`);
  const k = linear(g, tokens, `${p}attention.self.key.`);
  const v = linear(g, tokens, `${p}attention.self.value.`);
  const attended = linear(g, attention(g, q, k, v, heads, channels / heads, mask), `${p}attention.output.dense.`); // [nW, n, C]

  const merged = g.op('Transpose', [g.op('Reshape', [attended, g.constInt64([1, heightPad / ws, widthPad / ws, ws, ws, channels])])], { perm: attr.ints([0, 1, 3, 2, 4, 5]) });
  let back = g.op('Reshape', [merged, g.constInt64([1, heightPad, widthPad, channels])]);
  if (shift > 0) back = roll(g, back, shift, heightPad, widthPad);
  if (heightPad !== height || widthPad !== width) back = g.op('Slice', [back, g.constInt64([0, 0]), g.constInt64([height, width]), g.constInt64([1, 2])]);
  const residual = g.op('Add', [x, g.op('Reshape', [back, g.constInt64([1, height * width, channels])])]);
  const hidden = gelu(g, linear(g, layerNorm(g, residual, `${p}layernorm_after.`, SWIN_EPS), `${p}intermediate.dense.`));
  return g.op('Add', [residual, linear(g, hidden, `${p}output.dense.`)]);
}

/** Patch merging: 2x2 neighbours concatenated (order (0,0), (1,0), (0,1), (1,1) as row, column), LayerNorm, reduction. */
function patchMerging(g: GraphBuilder, x: string, p: string, height: number, width: number, channels: number): string {
  let h = g.op('Reshape', [x, g.constInt64([1, height, width, channels])]);
  const heightPad = height + (height % 2);
  const widthPad = width + (width % 2);
  if (heightPad !== height || widthPad !== width) h = g.op('Pad', [h, g.constInt64([0, 0, 0, 0, 0, heightPad - height, widthPad - width, 0])]);
  const grouped = g.op('Reshape', [h, g.constInt64([1, heightPad / 2, 2, widthPad / 2, 2, channels])]); // [1, H/2, row, W/2, col, C]
  const ordered = g.op('Transpose', [grouped], { perm: attr.ints([0, 1, 3, 4, 2, 5]) }); // [1, H/2, W/2, col, row, C]
  const flat = g.op('Reshape', [ordered, g.constInt64([1, (heightPad / 2) * (widthPad / 2), 4 * channels])]);
  return linear(g, layerNorm(g, flat, `${p}norm.`, SWIN_EPS), `${p}reduction.`);
}

/** Size of a stage's map: the patch grid for stage 1, then halved (rounded up) by each merging. */
export function swinStageSize(height: number, width: number, cfg: SwinConfig, stage: number): [number, number] {
  let h = Math.ceil(height / cfg.patch);
  let w = Math.ceil(width / cfg.patch);
  for (let s = 1; s < stage; s++) {
    h = Math.ceil(h / 2);
    w = Math.ceil(w / 2);
  }
  return [h, w];
}

/** pixels [1, 3, height, width] -> the output stages' maps [1, C_s, H_s, W_s], in stage order. */
export function buildSwinBackbone(g: GraphBuilder, pixels: string, cfg: SwinConfig, height: number, width: number): string[] {
  const p = cfg.prefix;
  const padH = Math.ceil(height / cfg.patch) * cfg.patch - height;
  const padW = Math.ceil(width / cfg.patch) * cfg.patch - width;
  const padded = padH === 0 && padW === 0 ? pixels : g.op('Pad', [pixels, g.constInt64([0, 0, 0, 0, 0, 0, padH, padW])]);
  const projection = `${p}embeddings.patch_embeddings.projection.`;
  const patches = g.op('Conv', [padded, g.weight(`${projection}weight`), g.weight(`${projection}bias`)], {
    kernel_shape: attr.ints([cfg.patch, cfg.patch]),
    strides: attr.ints([cfg.patch, cfg.patch]),
  });
  let x = layerNorm(g, g.op('Transpose', [g.op('Reshape', [patches, g.constInt64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) }), `${p}embeddings.norm.`, SWIN_EPS);
  const outputs: string[] = [];
  let channels = cfg.embedDim;
  cfg.depths.forEach((depth, s) => {
    const [h, w] = swinStageSize(height, width, cfg, s + 1);
    for (let b = 0; b < depth; b++) x = swinBlock(g, x, `${p}encoder.layers.${s}.blocks.${b}.`, h, w, channels, cfg.heads[s]!, cfg.window, b % 2 === 1);
    if (cfg.outStages.includes(s + 1)) {
      const normed = layerNorm(g, x, `${p}hidden_states_norms.stage${s + 1}.`, SWIN_EPS);
      outputs.push(g.op('Reshape', [g.op('Transpose', [normed], { perm: attr.ints([0, 2, 1]) }), g.constInt64([1, channels, h, w])]));
    }
    if (g.has(`${p}encoder.layers.${s}.downsample.reduction.weight`)) {
      x = patchMerging(g, x, `${p}encoder.layers.${s}.downsample.`, h, w, channels);
      channels *= 2;
    }
  });
  return outputs;
}
