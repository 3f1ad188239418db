/**
 * Multi-scale deformable attention (Zhu et al. 2021) written out point by point: for each query, head, level and
 * point, a sampling location from the reference point and the learned offset, a bilinear read of the value map
 * with zeros outside (PyTorch `grid_sample`, align_corners=False: pixel x = loc * W - 0.5), weighted by a softmax
 * over the head's levels and points.
 */
import { linear, softmax } from './ops.ts';
import { zeros, type RefTensor, type WeightSource } from './tensor.ts';

/** Bilinear read of channel-last plane `plane[(y * w + x) * stride + c]`, zero outside, at continuous (px, py). */
function bilinear(read: (x: number, y: number) => number, w: number, h: number, px: number, py: number): number {
  const x0 = Math.floor(px);
  const y0 = Math.floor(py);
  const fx = px - x0;
  const fy = py - y0;
  const at = (x: number, y: number): number => (x < 0 || y < 0 || x >= w || y >= h ? 0 : read(x, y));
  return at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy;
}

/**
 * query [1, Q, C], value [1, S, C] (levels flattened row-major, level after level), reference [1, Q, L, 2 | 4],
 * levelSizes [(h, w)] per level.
 */
export function deformableAttentionReference(
  weights: WeightSource,
  prefix: string,
  query: RefTensor,
  value: RefTensor,
  reference: RefTensor,
  levelSizes: readonly [number, number][],
  heads: number,
  points: number,
): RefTensor {
  const levels = levelSizes.length;
  const Q = query.shape[1]!;
  const C = value.shape[2]!;
  const D = C / heads;
  const coords = reference.shape[3]!;
  const w = (name: string): RefTensor => weights(`${prefix}${name}`);
  const v = linear(value, w('value_proj.weight'), w('value_proj.bias'));
  const offsets = linear(query, w('sampling_offsets.weight'), w('sampling_offsets.bias')); // [1, Q, H*L*P*2]
  const logits = linear(query, w('attention_weights.weight'), w('attention_weights.bias')); // [1, Q, H*L*P]
  const probs = softmax({ shape: [Q, heads, levels * points], data: logits.data });
  const starts: number[] = [];
  let at = 0;
  for (const [h, wd] of levelSizes) {
    starts.push(at);
    at += h * wd;
  }
  const out = zeros([1, Q, C]);
  for (let q = 0; q < Q; q++) {
    for (let head = 0; head < heads; head++) {
      for (let l = 0; l < levels; l++) {
        const [lh, lw] = levelSizes[l]!;
        const ref = (i: number): number => reference.data[(q * levels + l) * coords + i]!;
        for (let p = 0; p < points; p++) {
          const o = (((q * heads + head) * levels + l) * points + p) * 2;
          const ox = offsets.data[o]!;
          const oy = offsets.data[o + 1]!;
          const x = coords === 2 ? ref(0) + ox / lw : ref(0) + (ox / points) * ref(2) * 0.5;
          const y = coords === 2 ? ref(1) + oy / lh : ref(1) + (oy / points) * ref(3) * 0.5;
          const weight = probs.data[(q * heads + head) * levels * points + l * points + p]!;
          for (let d = 0; d < D; d++) {
            const c = head * D + d;
            const read = (px: number, py: number): number => v.data[(starts[l]! + py * lw + px) * C + c]!;
            out.data[q * C + c] = out.data[q * C + c]! + weight * bilinear(read, lw, lh, x * lw - 0.5, y * lh - 0.5);
          }
        }
      }
    }
  }
  return linear(out, w('output_proj.weight'), w('output_proj.bias'));
}
