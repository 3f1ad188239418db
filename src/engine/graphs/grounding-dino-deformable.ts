/**
 * Multi-scale deformable attention (Zhu et al. 2021, "Deformable DETR", eq. 3) from standard ONNX operators: each
 * query looks at `points` locations per head and per feature level, placed around its reference point by learned
 * offsets, reads the value map there by bilinear `GridSample` (zeros outside, align_corners false, as PyTorch's
 * `grid_sample` in the reference implementation) and sums them with softmax weights. Level sizes are read from
 * the graph's own feature maps, so one graph serves every image size.
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { linear } from './layers.ts';

/** Where each feature level lies in the flattened [B, S, C] sequence, as graph values. */
export interface LevelGeometry {
  /** Per level: int64 [2] = (height, width). */
  sizes: string[];
  /** Per level: int64 [1], the level's first and one-past-last index along the sequence. */
  starts: string[];
  ends: string[];
  /** float32 [levels, 2] = (width, height) per level, the normalizer of 2-coordinate offsets. */
  widthHeight: string;
}

/** The geometry of NCHW feature maps flattened level after level (the order `flattenLevels` uses). */
export function readLevelGeometry(g: GraphBuilder, maps: readonly string[]): LevelGeometry {
  const sizes = maps.map((m) => g.op('Slice', [g.op('Shape', [m]), g.constInt64([2]), g.constInt64([4])])); // [2]
  const counts = sizes.map((s) => g.op('ReduceProd', [s], { keepdims: attr.int(1) })); // [1]
  const starts: string[] = [];
  const ends: string[] = [];
  let at = g.constInt64([0]);
  for (const count of counts) {
    starts.push(at);
    at = g.op('Add', [at, count]);
    ends.push(at);
  }
  const reversed = sizes.map((s) => g.op('Unsqueeze', [g.op('Gather', [s, g.constInt64([1, 0])], { axis: attr.int(0) }), g.constInt64([0])])); // [1, 2]
  const widthHeight = g.op('Cast', [g.op('Concat', reversed, { axis: attr.int(0) })], { to: attr.int(1) }); // [L, 2]
  return { sizes, starts, ends, widthHeight };
}

/** NCHW maps -> one [B, sum(H*W), C] sequence, level after level. */
export function flattenLevels(g: GraphBuilder, maps: readonly string[]): string {
  const tokens = maps.map((m) => g.op('Transpose', [g.op('Reshape', [m, g.constInt64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) }));
  return tokens.length === 1 ? tokens[0]! : g.op('Concat', tokens, { axis: attr.int(1) });
}

/**
 * Deformable attention of `query` [B, Q, C] over `value` [B, S, C] (the flattened levels of `geometry`).
 * `reference` is [B, Q, L, 2] (normalized x, y: offsets are in pixels of each level) or [B, Q, L, 4] (boxes
 * cx, cy, w, h: offsets scale with half the box, divided by the point count).
 */
export function deformableAttention(
  g: GraphBuilder,
  prefix: string,
  query: string,
  value: string,
  reference: string,
  referenceCoordinates: 2 | 4,
  geometry: LevelGeometry,
  shape: { heads: number; levels: number; points: number },
): string {
  const { heads, levels, points } = shape;
  const width = g.shapeOf(`${prefix}value_proj.weight`)?.[0];
  if (width === undefined) throw new Error(`${prefix}value_proj.weight is missing`);
  const expected = heads * levels * points;
  const weightRows = g.shapeOf(`${prefix}attention_weights.weight`)?.[0];
  if (weightRows !== expected) throw new Error(`${prefix}attention_weights.weight has ${weightRows} rows, expected heads*levels*points = ${expected}`);
  const headDim = width / heads;

  const projected = linear(g, value, `${prefix}value_proj.`); // [B, S, C]
  const offsets = g.op('Reshape', [linear(g, query, `${prefix}sampling_offsets.`), g.constInt64([0, 0, heads, levels, points, 2])]); // [B, Q, H, L, P, 2]
  const logits = g.op('Reshape', [linear(g, query, `${prefix}attention_weights.`), g.constInt64([0, 0, heads, levels * points])]);
  const weights = g.op('Softmax', [logits], { axis: attr.int(-1) }); // [B, Q, H, L*P]

  // 1. sampling locations in [0, 1], then GridSample's [-1, 1]
  const refAxes = g.constInt64([2, 4]);
  let locations: string;
  if (referenceCoordinates === 2) {
    const scaled = g.op('Div', [offsets, g.op('Reshape', [geometry.widthHeight, g.constInt64([1, 1, 1, levels, 1, 2])])]);
    locations = g.op('Add', [g.op('Unsqueeze', [reference, refAxes]), scaled]); // [B, Q, H, L, P, 2]
  } else {
    const [centre, size] = g.opN('Split', [reference, g.constInt64([2, 2])], 2, { axis: attr.int(-1) });
    const spread = g.op('Mul', [offsets, g.op('Unsqueeze', [g.op('Mul', [size!, g.constFloat([0.5 / points], [])]), refAxes])]);
    locations = g.op('Add', [g.op('Unsqueeze', [centre!, refAxes]), spread]);
  }
  const grids = g.op('Sub', [g.op('Mul', [locations, g.constFloat([2], [])]), g.constFloat([1], [])]);

  // 2. per level: bilinear samples [B*H, D, Q, P]
  const headMaps = g.op('Transpose', [g.op('Reshape', [projected, g.constInt64([0, 0, heads, headDim])])], { perm: attr.ints([0, 2, 3, 1]) }); // [B, H, D, S]
  const queryCount = g.op('Slice', [g.op('Shape', [query]), g.constInt64([1]), g.constInt64([2])]);
  const gridShape = g.op('Concat', [g.constInt64([-1]), queryCount, g.constInt64([points, 2])], { axis: attr.int(0) });
  const samples: string[] = [];
  for (let l = 0; l < levels; l++) {
    const levelValues = g.op('Slice', [headMaps, geometry.starts[l]!, geometry.ends[l]!, g.constInt64([3])]); // [B, H, D, h*w]
    const mapShape = g.op('Concat', [g.constInt64([-1, headDim]), geometry.sizes[l]!], { axis: attr.int(0) });
    const map = g.op('Reshape', [levelValues, mapShape]); // [B*H, D, h, w]
    const levelGrid = g.op('Gather', [grids, g.constInt64([l], [])], { axis: attr.int(3) }); // [B, Q, H, P, 2]
    const grid = g.op('Reshape', [g.op('Transpose', [levelGrid], { perm: attr.ints([0, 2, 1, 3, 4]) }), gridShape]); // [B*H, Q, P, 2]
    samples.push(g.op('GridSample', [map, grid], { mode: attr.string('bilinear'), padding_mode: attr.string('zeros'), align_corners: attr.int(0) }));
  }

  // 3. weighted sum over levels and points
  const stacked = g.op('Concat', samples, { axis: attr.int(-1) }); // [B*H, D, Q, L*P]
  const perHead = g.op('Reshape', [g.op('Transpose', [weights], { perm: attr.ints([0, 2, 1, 3]) }), g.constInt64([-1, 1, 0, levels * points])]); // [B*H, 1, Q, L*P]
  const summed = g.op('ReduceSum', [g.op('Mul', [stacked, perHead]), g.constInt64([-1])], { keepdims: attr.int(0) }); // [B*H, D, Q]
  const batchShape = g.op('Slice', [g.op('Shape', [query]), g.constInt64([0]), g.constInt64([1])]);
  const merged = g.op('Reshape', [summed, g.op('Concat', [batchShape, g.constInt64([width, -1])], { axis: attr.int(0) })]); // [B, C, Q]
  return linear(g, g.op('Transpose', [merged], { perm: attr.ints([0, 2, 1]) }), `${prefix}output_proj.`); // [B, Q, C]
}
