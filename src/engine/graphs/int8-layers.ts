/**
 * Linear and convolution layers in int8: activations quantized per tensor at run time (asymmetric uint8,
 * ONNX `DynamicQuantizeLinear`), weights per output channel ahead of time (symmetric int8, see
 * `quantize/int8-quantization.ts`), accumulated in int32 and rescaled to float32. uint8 x int8 is the operand
 * pair ONNX Runtime's CPU kernels run on VNNI / AMX dot products.
 */
import { attr, type GraphBuilder, type Int8WeightValues } from '../onnx/graph-builder.ts';

/** Largest int64 end a Slice takes as "to the end of the axis". */
const TO_END = Number.MAX_SAFE_INTEGER;

/**
 * y = x W^T + b over the last axis of x, through ONNX Runtime's `DynamicQuantizeMatMul` (which quantizes x itself
 * and fuses the rescale and bias). A LoRA slot on the weight adds its float32 branch afterwards.
 */
export function int8ProjectLastAxis(g: GraphBuilder, x: string, w: Int8WeightValues, bias: string | null, weightKey: string): string {
  const y = g.op('DynamicQuantizeMatMul', bias === null ? [x, w.codes, w.scales] : [x, w.codes, w.scales, '', bias], {}, 'com.microsoft'); // [..., out]
  const slot = g.lowRankSlot(weightKey, [w.rows], w.columns, []);
  if (slot === null) return y;
  const flat = g.op('Reshape', [x, g.constInt64([-1, w.rows])]); // [N, in]
  const branch = g.op('Gemm', [g.op('Gemm', [flat, slot.down], { transB: attr.int(1) }), slot.up], { transB: attr.int(1) }); // [N, out]
  return g.op('Add', [y, g.op('Reshape', [branch, g.op('Shape', [y])])]);
}

export interface Int8ConvGeometry {
  kernel: number;
  stride: number;
  padding: number;
}

/**
 * A square convolution as an integer matrix multiply over im2col patches: quantize x, move channels last, pad
 * with the zero point (the code of 0.0), gather the kernel's taps by strided slices into [B, Ho, Wo, k*k*Cin]
 * (taps outer, channels inner: the codes' row order), then MatMulInteger with the [k*k*Cin, Cout] codes. The
 * patches are uint8, a quarter of what a float32 im2col would move. ONNX Runtime's ConvInteger was slower in our
 * measurements and takes only one weight zero point per tensor.
 */
export function int8Conv2d(g: GraphBuilder, x: string, w: Int8WeightValues, bias: string | null, geometry: Int8ConvGeometry): string {
  const { kernel: k, stride: s, padding: p } = geometry;
  const [codes, scale, zero] = g.opN('DynamicQuantizeLinear', [x], 3) as [string, string, string]; // [B, C, H, W] uint8
  const channelsLast = g.op('Transpose', [codes], { perm: attr.ints([0, 2, 3, 1]) }); // [B, H, W, C]
  let patches = channelsLast;
  if (k > 1 || s > 1) {
    const padded = p > 0 ? g.op('Pad', [channelsLast, g.constInt64([0, p, p, 0, 0, p, p, 0]), zero]) : channelsLast;
    const axes = g.constInt64([1, 2]);
    const steps = g.constInt64([s, s]);
    const taps: string[] = [];
    for (let dy = 0; dy < k; dy++) {
      for (let dx = 0; dx < k; dx++) {
        const ends = [dy, dx].map((d) => (d === k - 1 ? TO_END : d - (k - 1)));
        taps.push(g.op('Slice', [padded, g.constInt64([dy, dx]), g.constInt64(ends), axes, steps])); // [B, Ho, Wo, C]
      }
    }
    patches = taps.length === 1 ? taps[0]! : g.op('Concat', taps, { axis: attr.int(3) }); // [B, Ho, Wo, k*k*C]
  }
  const sums = g.op('MatMulInteger', [patches, w.codes, zero]); // [B, Ho, Wo, Cout] int32
  let y = g.op('Mul', [g.op('Cast', [sums], { to: attr.int(1) }), g.op('Mul', [scale, w.scales])]);
  if (bias !== null) y = g.op('Add', [y, bias]);
  return g.op('Transpose', [y], { perm: attr.ints([0, 3, 1, 2]) }); // [B, Cout, Ho, Wo]
}
