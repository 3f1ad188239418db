/**
 * Rewrites a float32 graph into a float16 one for GPU execution providers: every floating-point value is computed
 * in float16, except in the nodes named as float32 islands (GroupNorm statistics, softmax, the timestep
 * embedding: where a float16 range or 11-bit mantissa visibly changes the result). A Cast sits only where a value
 * crosses between the two: at an island's edge and at the graph's inputs and outputs, which stay float32, so the
 * caller feeds and reads float32 exactly as before.
 *
 * Weights keep their bytes in place: a float32 initializer that a float16 node reads goes through a Cast that
 * ONNX Runtime folds into a float16 constant at session creation; small inline constants are converted here.
 */
import { ONNX_DTYPE, type OnnxAttribute, type OnnxDtype, type OnnxModel, type OnnxNode, type OnnxTensor } from './onnx-proto.ts';

/** Ops whose outputs are never floating point (whatever their inputs), by output index; absent: every output. */
const NON_FLOAT_OUTPUTS: Record<string, readonly number[] | undefined> = {
  Shape: undefined,
  Size: undefined,
  ArgMax: undefined,
  ArgMin: undefined,
  Equal: undefined,
  Less: undefined,
  Greater: undefined,
  LessOrEqual: undefined,
  GreaterOrEqual: undefined,
  Not: undefined,
  And: undefined,
  Or: undefined,
  NonZero: undefined,
  MatMulInteger: undefined,
  ConvInteger: undefined,
  DynamicQuantizeLinear: [0, 2],
};

/** Inputs that are float32 by the op's definition whatever its data type (Resize's roi and scales). */
const FLOAT32_INPUTS: Record<string, readonly number[]> = {
  Resize: [1, 2],
};

/** Ops that read only their input's shape or type, so a float input of either precision is fine as it is. */
const SHAPE_ONLY_OPS = new Set(['Shape', 'Size']);

/** Ops the conversion cannot carry into float16 (their float32 meaning is part of the op). */
const UNSUPPORTED_OPS = new Set(['DynamicQuantizeLinear', 'DynamicQuantizeMatMul', 'MatMulInteger', 'ConvInteger', 'ConstantOfShape', 'Constant', 'RandomNormal', 'RandomNormalLike', 'RandomUniform', 'RandomUniformLike', 'EyeLike']);

type Precision = 'float16' | 'float32';

/**
 * The float16 form of `model`. `float32Nodes` names the nodes that stay float32 (their float inputs are cast up
 * and their float outputs down). Graph inputs and outputs keep their float32 types.
 */
export function convertGraphToFloat16(model: OnnxModel, float32Nodes: ReadonlySet<string>): OnnxModel {
  const { graph } = model;
  const floats = findFloatValues(model);
  const initializers = new Map(graph.initializers.map((t) => [t.name, t]));
  /** Precision each float value has in the new graph. */
  const precision = new Map<string, Precision>();
  for (const input of graph.inputs) if (floats.has(input.name)) precision.set(input.name, 'float32');
  for (const t of graph.initializers) if (floats.has(t.name)) precision.set(t.name, t.dtype === 'float16' ? 'float16' : 'float32');

  const nodes: OnnxNode[] = [];
  const newInitializers: OnnxTensor[] = [...graph.initializers];
  const converted = new Map<string, string>();
  /** The name of `value` in precision `want`, adding a Cast (or a converted inline constant) the first time. */
  const as = (value: string, want: Precision): string => {
    const have = precision.get(value);
    if (have === undefined) throw new Error(`float16 conversion: value "${value}" is used before it is produced`);
    if (have === want) return value;
    const key = `${value}|${want}`;
    const done = converted.get(key);
    if (done !== undefined) return done;
    const name = `${value}#${want === 'float16' ? 'fp16' : 'fp32'}`;
    const constant = initializers.get(value);
    if (constant !== undefined && constant.data.kind === 'raw' && constant.dtype === 'float32' && want === 'float16') {
      newInitializers.push({ name, dtype: 'float16', dims: constant.dims, data: { kind: 'raw', bytes: encodeFloat16(constant.data.bytes) } });
    } else {
      nodes.push({ opType: 'Cast', domain: '', name: `cast_${name}`, inputs: [value], outputs: [name], attributes: { to: castTo(want) } });
    }
    precision.set(name, want);
    converted.set(key, name);
    return name;
  };

  for (const node of graph.nodes) {
    const island = float32Nodes.has(node.name);
    const target: Precision = island ? 'float32' : 'float16';
    if (!island && UNSUPPORTED_OPS.has(node.opType)) throw new Error(`float16 conversion: node "${node.name}" (${node.opType}) has no float16 form; build it inside a float32 island`);
    const fixed = FLOAT32_INPUTS[node.opType] ?? [];
    const inputs = node.inputs.map((input, i) => {
      if (input === '' || !floats.has(input) || SHAPE_ONLY_OPS.has(node.opType)) return input;
      if (node.opType === 'Cast') return input; // a Cast takes either precision; its `to` is set below
      return as(input, fixed.includes(i) ? 'float32' : target);
    });
    const attributes = { ...node.attributes };
    const to = node.attributes.to;
    if (node.opType === 'Cast' && to?.type === 'int' && to.value === ONNX_DTYPE.float32 && !island) attributes.to = castTo('float16');
    nodes.push({ ...node, inputs, attributes });
    for (const output of node.outputs) if (floats.has(output)) precision.set(output, node.opType === 'Cast' ? castTarget(attributes) : target);
  }

  // Graph outputs keep their float32 type: the producer's value is renamed and cast back under the output's name.
  const outputNames = new Set(graph.outputs.filter((o) => floats.has(o.name)).map((o) => o.name));
  const renames = new Map<string, string>();
  for (const name of outputNames) {
    if (precision.get(name) === 'float32') continue;
    renames.set(name, `${name}#fp16`);
  }
  const finalNodes = nodes.map((n) => ({ ...n, inputs: n.inputs.map((i) => renames.get(i) ?? i), outputs: n.outputs.map((o) => renames.get(o) ?? o) }));
  for (const [name, inner] of renames) finalNodes.push({ opType: 'Cast', domain: '', name: `cast_out_${name}`, inputs: [inner], outputs: [name], attributes: { to: castTo('float32') } });

  return { ...model, metadata: { ...model.metadata, 'fooocus.precision': 'fp16' }, graph: { ...graph, nodes: finalNodes, initializers: newInitializers } };
}

function castTo(precision: Precision): OnnxAttribute {
  return { type: 'int', value: ONNX_DTYPE[precision] };
}

function castTarget(attributes: OnnxNode['attributes']): Precision {
  const to = attributes.to;
  return to?.type === 'int' && to.value === ONNX_DTYPE.float16 ? 'float16' : 'float32';
}

/**
 * Names of the floating-point values of a float32 graph (inputs, initializers and node outputs), found by walking
 * the nodes in order: an op's outputs are float when one of its inputs is, except for the ops listed in
 * `NON_FLOAT_OUTPUTS`, and a Cast's output is float when it casts to a float type.
 */
export function findFloatValues(model: OnnxModel): Set<string> {
  const isFloat = (dtype: OnnxDtype): boolean => dtype === 'float32' || dtype === 'float16';
  const floats = new Set<string>();
  for (const input of model.graph.inputs) if (isFloat(input.dtype)) floats.add(input.name);
  for (const t of model.graph.initializers) if (isFloat(t.dtype)) floats.add(t.name);
  for (const node of model.graph.nodes) {
    if (node.opType === 'Cast') {
      const to = node.attributes.to;
      if (to?.type === 'int' && (to.value === ONNX_DTYPE.float32 || to.value === ONNX_DTYPE.float16)) floats.add(node.outputs[0]!);
      continue;
    }
    const nonFloat = node.opType in NON_FLOAT_OUTPUTS ? (NON_FLOAT_OUTPUTS[node.opType] ?? node.outputs.map((_, i) => i)) : [];
    const floatOut = node.opType === 'DynamicQuantizeLinear' || node.inputs.some((i) => i !== '' && floats.has(i));
    if (!floatOut) continue;
    node.outputs.forEach((o, i) => {
      if (o !== '' && !nonFloat.includes(i)) floats.add(o);
    });
  }
  return floats;
}

/** IEEE 754 binary16 bits of a float32 value, rounded to nearest even (overflow to infinity, NaN kept). */
export function toFloat16Bits(value: number): number {
  const f32 = new Float32Array([value]);
  const bits = new Uint32Array(f32.buffer)[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa === 0 ? 0 : 0x200);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal (or zero) in float16: shift the implicit bit in and round the dropped bits to nearest even.
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mantissa & ((1 << shift) - 1);
    let m = mantissa >>> shift;
    if (rest > half || (rest === half && (m & 1) === 1)) m++;
    return sign | m;
  }
  const rest = mantissa & 0x1fff;
  mantissa >>>= 13;
  if (rest > 0x1000 || (rest === 0x1000 && (mantissa & 1) === 1)) {
    mantissa++;
    if (mantissa === 0x400) {
      mantissa = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | mantissa;
}

/** float32 little-endian bytes to float16 little-endian bytes. */
function encodeFloat16(bytes: Uint8Array): Uint8Array {
  const values = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = toFloat16Bits(values[i]!);
  return new Uint8Array(out.buffer);
}
