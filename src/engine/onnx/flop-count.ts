/**
 * Counts the floating-point operations of a graph we build, from the graph itself: shapes are propagated from
 * the given input dimensions through every node (small int64/float constants are evaluated, since shapes and
 * resize scales are computed inside the graphs), and each matrix product or convolution adds 2 x its
 * multiply-accumulates. Element-wise work, norms, pooling and softmax are not counted: they are memory-bound, and the
 * machine limits they are compared against are those of the GEMM and convolution kernels.
 */
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from './onnx-proto.ts';

/** FLOPs by the kernel family whose throughput limits them. */
export interface FlopCount {
  /** MatMul and Gemm (linear layers, plain attention's two products). */
  gemm: number;
  /** Conv (any kernel size; 1x1 convs run as GEMMs inside ONNX Runtime but are counted here as convs). */
  conv: number;
  /** The two products inside fused attention kernels (com.microsoft MultiHeadAttention). */
  attention: number;
  total: number;
  /** Output dimensions of the graph, as propagated (a check that the propagation matched the runtime). */
  outputs: Record<string, number[]>;
}

interface Value {
  dims: number[];
  /** Element values of small constant-foldable tensors (shapes, axes, scales); absent otherwise. */
  values?: number[];
}

/** The graph uses an operator or a shape this counter cannot follow. */
export class FlopCountError extends Error {
  override name = 'FlopCountError';
}

const SMALL = 64;

function constantValue(t: OnnxTensor): Value {
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.data.kind !== 'raw' || count > SMALL) return { dims: [...t.dims] };
  const { bytes } = t.data;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (t.dtype === 'int64') return { dims: [...t.dims], values: Array.from({ length: count }, (_, i) => Number(view.getBigInt64(i * 8, true))) };
  if (t.dtype === 'float32') return { dims: [...t.dims], values: Array.from({ length: count }, (_, i) => view.getFloat32(i * 4, true)) };
  return { dims: [...t.dims] };
}

const numberAttr = (a: OnnxAttribute | undefined, fallback: number): number => (a?.type === 'int' || a?.type === 'float' ? a.value : fallback);
const intsAttr = (a: OnnxAttribute | undefined): number[] | undefined => (a?.type === 'ints' ? a.value : undefined);
const product = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);
const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

function broadcast(shapes: number[][], node: OnnxNode): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) throw new FlopCountError(`${node.name}: shapes [${shapes.map((x) => x.join(',')).join('] [')}] do not broadcast`);
      if (v !== 1) d = v;
    }
    return d;
  });
}

function reshape(input: number[], spec: number[], node: OnnxNode): number[] {
  const out = spec.map((d, i) => (d === 0 ? input[i]! : d));
  const unknown = out.indexOf(-1);
  if (unknown >= 0) out[unknown] = product(input) / -product(out);
  if (product(out) !== product(input) || !out.every(Number.isInteger)) throw new FlopCountError(`${node.name}: cannot reshape [${input}] to [${spec}]`);
  return out;
}

/** The elements [start, end) with `step` that ONNX Slice selects along an axis of length `length`. */
function sliceLength(length: number, start: number, end: number, step: number): number {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + length : start;
  const e = end < 0 ? end + length : end;
  const [a, b] = step > 0 ? [clamp(s, 0, length), clamp(e, 0, length)] : [clamp(s, -1, length - 1), clamp(e, -1, length - 1)];
  return Math.max(0, Math.ceil((b - a) / step));
}

interface Step {
  outputs: Value[];
  gemm?: number;
  conv?: number;
  attention?: number;
}

function needValues(v: Value, node: OnnxNode, what: string): number[] {
  if (v.values === undefined) throw new FlopCountError(`${node.name}: ${what} is not a constant the counter can evaluate`);
  return v.values;
}

/** Output shapes (and constant values where cheap) of one node, and the FLOPs it performs. */
function stepNode(node: OnnxNode, ins: (Value | undefined)[]): Step {
  const x = ins[0]!;
  const a = node.attributes;
  switch (node.opType) {
    case 'Identity':
    case 'Cast':
      return { outputs: [{ ...x }] };
    case 'Sigmoid': case 'Erf': case 'Sin': case 'Cos': case 'Softmax': case 'LeakyRelu': case 'PRelu': case 'Relu': case 'Tanh': case 'Sqrt':
    case 'InstanceNormalization': case 'LayerNormalization': case 'BatchNormalization':
      return { outputs: [{ dims: [...x.dims] }] };
    case 'GlobalAveragePool':
      return { outputs: [{ dims: x.dims.map((d, i) => (i < 2 ? d : 1)) }] };
    case 'ReduceMean': {
      // Axes are an attribute up to opset 17 and an input from opset 18; none given reduces every axis.
      const axes = (intsAttr(a.axes) ?? (ins[1] ? needValues(ins[1], node, 'axes') : x.dims.map((_, i) => i))).map((ax) => axisOf(ax, x.dims.length));
      const dims = numberAttr(a.keepdims, 1) === 1 ? x.dims.map((d, i) => (axes.includes(i) ? 1 : d)) : x.dims.filter((_, i) => !axes.includes(i));
      return { outputs: [{ dims }] };
    }
    case 'AveragePool': case 'MaxPool':
      return { outputs: [{ dims: poolDims(node, x.dims) }] };
    case 'Add': case 'Sub': case 'Mul': case 'Div': case 'Pow': {
      const dims = broadcast(ins.map((v) => v!.dims), node);
      return { outputs: [{ dims }] };
    }
    case 'Shape':
      return { outputs: [{ dims: [x.dims.length], values: [...x.dims] }] };
    case 'Reshape':
      return { outputs: [{ dims: reshape(x.dims, needValues(ins[1]!, node, 'the target shape'), node), ...(x.values ? { values: x.values } : {}) }] };
    case 'Transpose': {
      const perm = intsAttr(a.perm) ?? x.dims.map((_, i) => x.dims.length - 1 - i);
      return { outputs: [{ dims: perm.map((p) => x.dims[p]!) }] };
    }
    case 'Unsqueeze': {
      const axes = needValues(ins[1]!, node, 'axes');
      const rank = x.dims.length + axes.length;
      const dims = [...x.dims];
      for (const ax of axes.map((v) => axisOf(v, rank)).sort((p, q) => p - q)) dims.splice(ax, 0, 1);
      return { outputs: [{ dims, ...(x.values ? { values: x.values } : {}) }] };
    }
    case 'Concat': {
      const axis = axisOf(numberAttr(a.axis, 0), x.dims.length);
      const dims = [...x.dims];
      dims[axis] = ins.reduce((sum, v) => sum + v!.dims[axis]!, 0);
      const values = ins.every((v) => v!.values !== undefined) ? ins.flatMap((v) => v!.values!) : undefined;
      return { outputs: [{ dims, ...(values ? { values } : {}) }] };
    }
    case 'Slice': {
      const starts = needValues(ins[1]!, node, 'starts');
      const ends = needValues(ins[2]!, node, 'ends');
      const axes = ins[3] ? needValues(ins[3], node, 'axes') : starts.map((_, i) => i);
      const steps = ins[4] ? needValues(ins[4], node, 'steps') : starts.map(() => 1);
      const dims = [...x.dims];
      axes.forEach((ax, i) => (dims[axisOf(ax, dims.length)] = sliceLength(dims[axisOf(ax, dims.length)]!, starts[i]!, ends[i]!, steps[i]!)));
      let values: number[] | undefined;
      if (x.values !== undefined && x.dims.length === 1) {
        values = [];
        for (let i = 0, p = starts[0]! < 0 ? starts[0]! + x.dims[0]! : Math.min(starts[0]!, x.dims[0]!); i < dims[0]!; i++, p += steps[0]!) values.push(x.values[p]!);
      }
      return { outputs: [{ dims, ...(values ? { values } : {}) }] };
    }
    case 'Gather': {
      const axis = axisOf(numberAttr(a.axis, 0), x.dims.length);
      const idx = ins[1]!;
      const dims = [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)];
      const values = x.values !== undefined && idx.values !== undefined && x.dims.length === 1 ? idx.values.map((i) => x.values![i < 0 ? i + x.dims[0]! : i]!) : undefined;
      return { outputs: [{ dims, ...(values ? { values } : {}) }] };
    }
    case 'GatherND': {
      const idx = ins[1]!;
      const batch = numberAttr(a.batch_dims, 0);
      const depth = idx.dims[idx.dims.length - 1]!;
      return { outputs: [{ dims: [...idx.dims.slice(0, -1), ...x.dims.slice(batch + depth)] }] };
    }
    case 'ArgMax': {
      const axis = axisOf(numberAttr(a.axis, 0), x.dims.length);
      const dims = numberAttr(a.keepdims, 1) === 1 ? x.dims.map((d, i) => (i === axis ? 1 : d)) : x.dims.filter((_, i) => i !== axis);
      return { outputs: [{ dims }] };
    }
    case 'Split': {
      const axis = axisOf(numberAttr(a.axis, 0), x.dims.length);
      const sizes = ins[1] ? needValues(ins[1], node, 'split sizes') : node.outputs.map(() => x.dims[axis]! / node.outputs.length);
      return { outputs: sizes.map((s) => ({ dims: x.dims.map((d, i) => (i === axis ? s : d)) })) };
    }
    case 'Pad': {
      const pads = needValues(ins[1]!, node, 'pads');
      const r = x.dims.length;
      return { outputs: [{ dims: x.dims.map((d, i) => d + pads[i]! + pads[i + r]!) }] };
    }
    case 'Resize': {
      if (ins[3] !== undefined) return { outputs: [{ dims: needValues(ins[3], node, 'sizes') }] };
      const scales = needValues(ins[2]!, node, 'scales');
      return { outputs: [{ dims: x.dims.map((d, i) => Math.floor(d * scales[i]!)) }] };
    }
    case 'SpaceToDepth': {
      const r = numberAttr(a.blocksize, 1);
      const [n, c, h, w] = x.dims as [number, number, number, number];
      return { outputs: [{ dims: [n, c * r * r, h / r, w / r] }] };
    }
    case 'DepthToSpace': {
      const r = numberAttr(a.blocksize, 1);
      const [n, c, h, w] = x.dims as [number, number, number, number];
      return { outputs: [{ dims: [n, c / (r * r), h * r, w * r] }] };
    }
    case 'MatMul':
      return countMatMul(node, x.dims, ins[1]!.dims);
    case 'Gemm':
      return countGemm(node, x.dims, ins[1]!.dims);
    case 'Conv':
      return countConv(node, x.dims, ins[1]!.dims);
    case 'MultiHeadAttention':
      return countAttention(node, x.dims, ins[1]!.dims, ins[2]!.dims);
    default:
      throw new FlopCountError(`${node.name}: operator ${node.domain === '' ? '' : `${node.domain}.`}${node.opType} is not known to the counter`);
  }
}

/** Output dimensions of a pooling node over NCHW input (explicit pads; `ceil_mode` rounds the window count up). */
function poolDims(node: OnnxNode, xDims: number[]): number[] {
  const a = node.attributes;
  const kernel = intsAttr(a.kernel_shape);
  if (kernel === undefined) throw new FlopCountError(`${node.name}: ${node.opType} has no kernel_shape`);
  if (a.auto_pad !== undefined && !(a.auto_pad.type === 'string' && a.auto_pad.value === 'NOTSET')) throw new FlopCountError(`${node.name}: ${node.opType} auto_pad is not supported by the counter`);
  const strides = intsAttr(a.strides) ?? kernel.map(() => 1);
  const dilations = intsAttr(a.dilations) ?? kernel.map(() => 1);
  const pads = intsAttr(a.pads) ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  const round = numberAttr(a.ceil_mode, 0) === 1 ? Math.ceil : Math.floor;
  const out = kernel.map((k, i) => round((xDims[2 + i]! + pads[i]! + pads[i + kernel.length]! - dilations[i]! * (k - 1) - 1) / strides[i]!) + 1);
  return [xDims[0]!, xDims[1]!, ...out];
}

/** numpy-style matrix product with batch broadcasting: 2 * batch * M * K * N. */
function countMatMul(node: OnnxNode, aDims: number[], bDims: number[]): Step {
  const a = aDims.length === 1 ? [1, aDims[0]!] : aDims;
  const b = bDims.length === 1 ? [bDims[0]!, 1] : bDims;
  const [m, k] = a.slice(-2) as [number, number];
  const [k2, n] = b.slice(-2) as [number, number];
  if (k !== k2) throw new FlopCountError(`${node.name}: MatMul of [${aDims}] and [${bDims}] has mismatched inner dimensions`);
  const batch = broadcast([a.slice(0, -2), b.slice(0, -2)], node);
  const dims = [...batch, ...(aDims.length === 1 ? [] : [m]), ...(bDims.length === 1 ? [] : [n])];
  return { outputs: [{ dims }], gemm: 2 * product(batch) * m * k * n };
}

function countGemm(node: OnnxNode, aDims: number[], bDims: number[]): Step {
  const [m, k] = numberAttr(node.attributes.transA, 0) === 1 ? [aDims[1]!, aDims[0]!] : [aDims[0]!, aDims[1]!];
  const [k2, n] = numberAttr(node.attributes.transB, 0) === 1 ? [bDims[1]!, bDims[0]!] : [bDims[0]!, bDims[1]!];
  if (k !== k2) throw new FlopCountError(`${node.name}: Gemm of [${aDims}] and [${bDims}] has mismatched inner dimensions`);
  return { outputs: [{ dims: [m, n] }], gemm: 2 * m * k * n };
}

function countConv(node: OnnxNode, xDims: number[], wDims: number[]): Step {
  const spatial = xDims.length - 2;
  const a = node.attributes;
  const group = numberAttr(a.group, 1);
  const kernel = wDims.slice(2);
  const strides = intsAttr(a.strides) ?? kernel.map(() => 1);
  const dilations = intsAttr(a.dilations) ?? kernel.map(() => 1);
  const pads = intsAttr(a.pads) ?? kernel.map(() => 0).concat(kernel.map(() => 0));
  if (a.auto_pad !== undefined && !(a.auto_pad.type === 'string' && a.auto_pad.value === 'NOTSET')) throw new FlopCountError(`${node.name}: Conv auto_pad is not supported by the counter`);
  if (xDims[1]! !== wDims[1]! * group) throw new FlopCountError(`${node.name}: Conv input [${xDims}] does not match weight [${wDims}] (group ${group})`);
  const out = Array.from({ length: spatial }, (_, i) => Math.floor((xDims[2 + i]! + pads[i]! + pads[i + spatial]! - dilations[i]! * (kernel[i]! - 1) - 1) / strides[i]!) + 1);
  const dims = [xDims[0]!, wDims[0]!, ...out];
  return { outputs: [{ dims }], conv: 2 * product(dims) * wDims[1]! * product(kernel) };
}

/** Fused attention over [B, S, D] queries and [B, L, D] keys / [B, L, Dv] values: QK^T and (softmax)V. */
function countAttention(node: OnnxNode, q: number[], k: number[], v: number[]): Step {
  if (q.length !== 3 || k.length !== 3 || v.length !== 3) throw new FlopCountError(`${node.name}: MultiHeadAttention is counted for [B, S, D] inputs only`);
  const [b, s, d] = q as [number, number, number];
  const l = k[1]!;
  const dv = v[2]!;
  return { outputs: [{ dims: [b, s, dv] }], attention: 2 * b * s * l * d + 2 * b * s * l * dv };
}

/**
 * Propagates `inputs` (every graph input's dimensions) through `model` and sums the FLOPs of its matrix
 * products and convolutions. Nodes are taken in order (our builders emit them topologically sorted).
 */
export function countGraphFlops(model: OnnxModel, inputs: Readonly<Record<string, readonly number[]>>): FlopCount {
  const values = new Map<string, Value>();
  for (const t of model.graph.initializers) values.set(t.name, constantValue(t));
  for (const input of model.graph.inputs) {
    const dims = inputs[input.name];
    if (dims === undefined) throw new FlopCountError(`no dimensions given for graph input "${input.name}"`);
    values.set(input.name, { dims: [...dims] });
  }
  const count = { gemm: 0, conv: 0, attention: 0 };
  for (const node of model.graph.nodes) {
    const ins = node.inputs.map((name) => {
      if (name === '') return undefined;
      const v = values.get(name);
      if (v === undefined) throw new FlopCountError(`${node.name}: input "${name}" is produced by no earlier node`);
      return v;
    });
    const step = stepNode(node, ins);
    node.outputs.forEach((name, i) => values.set(name, step.outputs[i]!));
    count.gemm += step.gemm ?? 0;
    count.conv += step.conv ?? 0;
    count.attention += step.attention ?? 0;
  }
  const outputs = Object.fromEntries(model.graph.outputs.map((o) => [o.name, values.get(o.name)!.dims]));
  return { ...count, total: count.gemm + count.conv + count.attention, outputs };
}
