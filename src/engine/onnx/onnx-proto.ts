/**
 * The subset of the ONNX model format (onnx/onnx.proto3) that our graph builders emit, as plain data, and its
 * binary encoding. Field numbers below are the schema's; keep them in sync with onnx.proto3 only.
 */
import { ProtoWriter } from './protobuf-writer.ts';

/** TensorProto.DataType values. */
export const ONNX_DTYPE = {
  float32: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  bool: 9,
  float16: 10,
  float64: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;
export type OnnxDtype = keyof typeof ONNX_DTYPE;

/** Initializer data: inline bytes, or a byte range of a file beside the model (ONNX external data). */
export type TensorData =
  | { kind: 'raw'; bytes: Uint8Array }
  | { kind: 'external'; location: string; offset: number; length: number };

export interface OnnxTensor {
  name: string;
  dtype: OnnxDtype;
  dims: number[];
  data: TensorData;
}

export type OnnxAttribute =
  | { type: 'float'; value: number }
  | { type: 'int'; value: number }
  | { type: 'string'; value: string }
  | { type: 'floats'; value: number[] }
  | { type: 'ints'; value: number[] }
  | { type: 'tensor'; value: OnnxTensor }
  | { type: 'graph'; value: OnnxGraph };

export interface OnnxNode {
  opType: string;
  domain: string; // '' for the default ONNX domain
  name: string;
  inputs: string[]; // '' marks an omitted optional input
  outputs: string[];
  attributes: Record<string, OnnxAttribute>;
}

/** A dimension: a fixed size, or a named symbolic size such as `batch`. */
export type OnnxDim = number | string;

export interface OnnxValueInfo {
  name: string;
  dtype: OnnxDtype;
  shape: OnnxDim[];
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

export interface OnnxModel {
  graph: OnnxGraph;
  /** Opset versions by domain ('' = ai.onnx, 'com.microsoft' = ONNX Runtime contrib ops). */
  opsets: Record<string, number>;
  producer: string;
  metadata: Record<string, string>;
}

/** IR version 8 pairs with opset 17 and is read by every ONNX Runtime since 1.14. */
const IR_VERSION = 8;

const ATTRIBUTE_TYPE = { float: 1, int: 2, string: 3, tensor: 4, graph: 5, floats: 6, ints: 7 } as const;

function writeTensor(w: ProtoWriter, t: OnnxTensor): void {
  w.packedInts(1, t.dims).int(2, ONNX_DTYPE[t.dtype]).string(8, t.name);
  if (t.data.kind === 'raw') {
    w.bytes(9, t.data.bytes);
    return;
  }
  const entries: [string, string][] = [
    ['location', t.data.location],
    ['offset', String(t.data.offset)],
    ['length', String(t.data.length)],
  ];
  for (const [key, value] of entries) w.message(13, (e) => e.string(1, key).string(2, value));
  w.int(14, 1); // data_location = EXTERNAL
}

function writeAttribute(w: ProtoWriter, name: string, a: OnnxAttribute): void {
  w.string(1, name).int(20, ATTRIBUTE_TYPE[a.type]);
  switch (a.type) {
    case 'float':
      w.float(2, a.value);
      break;
    case 'int':
      w.int(3, a.value);
      break;
    case 'string':
      w.string(4, a.value);
      break;
    case 'tensor':
      w.message(5, (t) => writeTensor(t, a.value));
      break;
    case 'graph':
      w.message(6, (g) => writeGraph(g, a.value));
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      break;
  }
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  if (n.domain !== '') w.string(7, n.domain);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, (aw) => writeAttribute(aw, name, a));
}

function writeValueInfo(w: ProtoWriter, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, ONNX_DTYPE[v.dtype]);
      tensorType.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => (typeof d === 'number' ? dim.int(1, d) : dim.string(2, d)));
        }
      });
    }),
  );
}

function writeGraph(g: ProtoWriter, graph: OnnxGraph): void {
  for (const n of graph.nodes) g.message(1, (nw) => writeNode(nw, n));
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, (tw) => writeTensor(tw, t));
  for (const v of graph.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
  for (const v of graph.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
}

/** Serializes a model to ONNX protobuf bytes. */
export function encodeOnnxModel(model: OnnxModel): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION).string(2, model.producer);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const [domain, version] of Object.entries(model.opsets)) {
    w.message(8, (o) => {
      if (domain !== '') o.string(1, domain);
      o.int(2, version);
    });
  }
  for (const [key, value] of Object.entries(model.metadata)) w.message(14, (e) => e.string(1, key).string(2, value));
  return w.finish();
}
