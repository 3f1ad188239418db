/** Reads a graph input's or output's ValueInfoProto into a plain signature (name, element type, shape). */
import { decodeProtoString, ProtoFormatError, ProtoReader, readProtoInt } from './protobuf-reader.ts';
import { ONNX_DTYPE } from './onnx-proto.ts';

export interface OnnxValueSignature {
  name: string;
  /** `float32`, `int64`… as in onnx-proto.ts; `type N` for others, `non-tensor` for sequences, maps, optionals. */
  dtype: string;
  /** Fixed sizes as numbers, symbolic sizes by name (or null when unnamed); null when the rank is unknown. */
  shape: (number | string | null)[] | null;
}

const DTYPE_NAMES = new Map<number, string>(Object.entries(ONNX_DTYPE).map(([name, code]) => [code, name]));

export function readValueInfo(bytes: Uint8Array): OnnxValueSignature {
  const out: OnnxValueSignature = { name: '', dtype: 'non-tensor', shape: null };
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field === 1) out.name = decodeProtoString(f);
    else if (f.field === 2) readType(nested(f.wireType, f.bytes), out);
  }
  return out;
}

/** TypeProto: only `tensor_type` (field 1) is a tensor; other kinds stay `non-tensor`. */
function readType(bytes: Uint8Array, out: OnnxValueSignature): void {
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field !== 1) continue;
    for (const t of new ProtoReader(nested(f.wireType, f.bytes)).fields()) {
      if (t.field === 1) {
        const code = Number(readProtoInt(t));
        out.dtype = DTYPE_NAMES.get(code) ?? `type ${code}`;
      } else if (t.field === 2) {
        out.shape = readShape(nested(t.wireType, t.bytes));
      }
    }
    if (out.dtype === 'non-tensor') out.dtype = 'type 0';
  }
}

function readShape(bytes: Uint8Array): (number | string | null)[] {
  const dims: (number | string | null)[] = [];
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field !== 1) continue;
    let dim: number | string | null = null;
    for (const d of new ProtoReader(nested(f.wireType, f.bytes)).fields()) {
      if (d.field === 1) dim = Number(readProtoInt(d));
      else if (d.field === 2) dim = decodeProtoString(d);
    }
    dims.push(dim);
  }
  return dims;
}

function nested(wireType: number, bytes: Uint8Array): Uint8Array {
  if (wireType !== 2) throw new ProtoFormatError('a type or shape field should be a nested message');
  return bytes;
}
