/**
 * Neural-network layers as ONNX subgraphs, each taking the checkpoint key prefix of its weights
 * (PyTorch module naming: `<prefix>weight`, `<prefix>bias`). Activations are float32.
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { int8Conv2d, int8ProjectLastAxis } from './int8-layers.ts';

/**
 * y = x W^T + b over the last axis of x, for a weight value W of shape [out, in]. Written as Gemm with transB on
 * the flattened input rather than MatMul(x, Transpose(W)): ONNX Runtime then packs W directly, instead of first
 * folding a transposed float32 copy of every weight, which cost a third copy of the weights at session build.
 */
export function projectLastAxis(g: GraphBuilder, x: string, w: string, bias: string | null, outputs: number, inputs: number, weightKey?: string): string {
  const flat = g.op('Reshape', [x, g.constInt64([-1, inputs])]); // [N, in]
  const slot = weightKey === undefined ? null : g.lowRankSlot(weightKey, [inputs], outputs, []);
  let addend = bias;
  if (slot !== null) {
    // LoRA branch up(down(x)) (+ bias), passed to the main Gemm as its C input so the sum costs no extra pass.
    const reduced = g.op('Gemm', [flat, slot.down], { transB: attr.int(1) }); // [N, rank]
    addend = g.op('Gemm', bias === null ? [reduced, slot.up] : [reduced, slot.up, bias], { transB: attr.int(1) }); // [N, out]
  }
  const y = g.op('Gemm', addend === null ? [flat, w] : [flat, w, addend], { transB: attr.int(1) }); // [N, out]
  const leading = g.op('Slice', [g.op('Shape', [x]), g.constInt64([0]), g.constInt64([-1])]);
  return g.op('Reshape', [y, g.op('Concat', [leading, g.constInt64([outputs])], { axis: attr.int(0) })]);
}

/** `nn.Linear`: y = x W^T + b over the last axis. W is stored [out, in]. */
export function linear(g: GraphBuilder, x: string, prefix: string, opts: { bias?: boolean } = {}): string {
  const bias = opts.bias === false || !g.has(`${prefix}bias`) ? null : g.weight(`${prefix}bias`);
  const quantized = g.int8Weight(`${prefix}weight`);
  if (quantized !== null) return int8ProjectLastAxis(g, x, quantized, bias, `${prefix}weight`);
  const w = g.weight(`${prefix}weight`); // a missing key fails here, by name
  const [outputs, inputs] = g.shapeOf(`${prefix}weight`)! as [number, number];
  return projectLastAxis(g, x, w, bias, outputs, inputs, `${prefix}weight`);
}

/** `nn.Conv2d` with square kernel; weight [Cout, Cin, k, k]. */
export function conv2d(g: GraphBuilder, x: string, prefix: string, opts: { stride?: number; padding?: number } = {}): string {
  const shape = g.shapeOf(`${prefix}weight`);
  const k = shape?.[2] ?? 1;
  const p = opts.padding ?? (k - 1) / 2;
  const s = opts.stride ?? 1;
  const quantized = g.int8Weight(`${prefix}weight`);
  const bias = g.has(`${prefix}bias`) ? g.weight(`${prefix}bias`) : null;
  const geometry = { pads: attr.ints([p, p, p, p]), strides: attr.ints([s, s]) };
  const y =
    quantized !== null
      ? int8Conv2d(g, x, quantized, bias, { kernel: k, stride: s, padding: p })
      : g.op('Conv', bias === null ? [x, g.weight(`${prefix}weight`)] : [x, g.weight(`${prefix}weight`), bias], { kernel_shape: attr.ints([k, k]), ...geometry });
  const slot = g.lowRankSlot(`${prefix}weight`, [shape![1]!, k, k], shape![0]!, [1, 1]);
  if (slot === null) return y;
  // LoCon branch: the down projection is a conv with the layer's own kernel and stride, the up projection 1x1.
  const reduced = g.op('Conv', [x, slot.down], { kernel_shape: attr.ints([k, k]), ...geometry });
  return g.op('Add', [y, g.op('Conv', [reduced, slot.up], { kernel_shape: attr.ints([1, 1]) })]);
}

/**
 * `nn.GroupNorm` (Wu & He 2018) on NCHW input: InstanceNormalization over [B, groups, C/groups*H*W] gives the
 * per-group statistics, then the per-channel affine. ONNX Runtime's CPU kernels have no GroupNorm of their own.
 */
export function groupNorm(g: GraphBuilder, x: string, prefix: string, groups: number, eps: number): string {
  const gamma = g.weight(`${prefix}weight`);
  const channels = g.shapeOf(`${prefix}weight`)![0]!;
  if (channels % groups !== 0) throw new Error(`${prefix}: ${channels} channels do not divide into ${groups} groups`);
  const grouped = g.op('Reshape', [x, g.constInt64([0, groups, -1])]);
  // The statistics stay float32 in a float16 graph, as PyTorch's half-precision GroupNorm accumulates them.
  const normed = g.float32Island(() =>
    g.op('InstanceNormalization', [grouped, g.constFloat(new Float32Array(groups).fill(1), [groups]), g.constFloat(new Float32Array(groups), [groups])], {
      epsilon: attr.float(eps),
    }),
  );
  const restored = g.op('Reshape', [normed, g.op('Shape', [x])]);
  const perChannel = g.constInt64([channels, 1, 1]);
  const scaled = g.op('Mul', [restored, g.op('Reshape', [gamma, perChannel])]);
  return g.op('Add', [scaled, g.op('Reshape', [g.weight(`${prefix}bias`), perChannel])]);
}

/** `nn.LayerNorm` over the last axis. */
export function layerNorm(g: GraphBuilder, x: string, prefix: string, eps = 1e-5): string {
  return g.op('LayerNormalization', [x, g.weight(`${prefix}weight`), g.weight(`${prefix}bias`)], { axis: attr.int(-1), epsilon: attr.float(eps) });
}

/** SiLU / swish: x * sigmoid(x). */
export function silu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [x])]);
}

/** Exact GELU, x * Phi(x), in the Erf form ONNX Runtime fuses into one kernel. */
export function gelu(g: GraphBuilder, x: string): string {
  const erf = g.op('Erf', [g.op('Div', [x, g.constFloat([Math.SQRT2], [])])]);
  const inner = g.op('Mul', [x, g.op('Add', [erf, g.constFloat([1], [])])]);
  return g.op('Mul', [inner, g.constFloat([0.5], [])]);
}

/** OpenAI CLIP's GELU approximation: x * sigmoid(1.702 x). */
export function quickGelu(g: GraphBuilder, x: string): string {
  return g.op('Mul', [x, g.op('Sigmoid', [g.op('Mul', [x, g.constFloat([1.702], [])])])]);
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017) over [B, T, C] projections split into `heads` heads.
 * `mask`, when given, is added to the [B, heads, T, S] scores (causal masks use -inf above the diagonal).
 */
export function attention(g: GraphBuilder, q: string, k: string, v: string, heads: number, headDim: number, mask?: string): string {
  const split = g.constInt64([0, 0, heads, headDim]);
  const qh = g.op('Transpose', [g.op('Reshape', [q, split])], { perm: attr.ints([0, 2, 1, 3]) }); // [B, H, T, D]
  const kt = g.op('Transpose', [g.op('Reshape', [k, split])], { perm: attr.ints([0, 2, 3, 1]) }); // [B, H, D, S]
  const vh = g.op('Transpose', [g.op('Reshape', [v, split])], { perm: attr.ints([0, 2, 1, 3]) }); // [B, H, S, D]
  let scores = g.op('Mul', [g.op('MatMul', [qh, kt]), g.constFloat([1 / Math.sqrt(headDim)], [])]); // [B, H, T, S]
  if (mask !== undefined) scores = g.op('Add', [scores, mask]);
  // Softmax in float32 within a float16 graph (the "upcast softmax" of the reference attention implementations).
  const probs = g.float32Island(() => g.op('Softmax', [scores], { axis: attr.int(-1) }));
  const out = g.op('MatMul', [probs, vh]); // [B, H, T, D]
  return g.op('Reshape', [g.op('Transpose', [out], { perm: attr.ints([0, 2, 1, 3]) }), g.constInt64([0, 0, heads * headDim])]);
}

/**
 * The same attention through ONNX Runtime's fused `com.microsoft.MultiHeadAttention` kernel, which avoids
 * materializing the transposed heads. Unmasked only (the UNet's attention).
 */
export function fusedAttention(g: GraphBuilder, q: string, k: string, v: string, heads: number): string {
  return g.op('MultiHeadAttention', [q, k, v], { num_heads: attr.int(heads) }, 'com.microsoft');
}

/** Nearest-neighbour 2x upsampling of NCHW input, as `F.interpolate(scale_factor=2, mode="nearest")`. */
export function upsampleNearest2x(g: GraphBuilder, x: string): string {
  return g.op('Resize', [x, '', g.constFloat([1, 1, 2, 2], [4])], {
    mode: attr.string('nearest'),
    coordinate_transformation_mode: attr.string('asymmetric'),
    nearest_mode: attr.string('floor'),
  });
}

/** [B, C, H, W] -> [B, H*W, C] */
export function toTokens(g: GraphBuilder, x: string): string {
  return g.op('Transpose', [g.op('Reshape', [x, g.constInt64([0, 0, -1])])], { perm: attr.ints([0, 2, 1]) });
}

/** [B, H*W, C] -> the NCHW shape of `like`. */
export function fromTokens(g: GraphBuilder, tokens: string, like: string): string {
  return g.op('Reshape', [g.op('Transpose', [tokens], { perm: attr.ints([0, 2, 1]) }), g.op('Shape', [like])]);
}
