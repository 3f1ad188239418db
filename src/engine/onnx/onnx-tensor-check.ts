/**
 * Checks one TensorProto of an ONNX file from outside: its data must be inside the file (no external-data
 * reference), its declared size within the limit, and the data it carries must be exactly what its shape and type
 * declare. Sizes are computed in BigInt, so a hostile shape cannot overflow into a small number.
 */
import { countPackedVarints, decodeProtoString, ProtoReader, readProtoInt, readProtoInts, type ProtoField } from './protobuf-reader.ts';
import { ONNX_ELEMENT_BYTES } from './onnx-standard-ops.ts';

export interface TensorCheck {
  name: string;
  /** Bytes of data the tensor declares. */
  bytes: number;
}

export interface TensorContext {
  maxTensorBytes: number;
  refuse: (rule: string, detail: string, kind?: 'invalid' | 'too-large') => Error;
}

const MAX_RANK = 8;
const STRING_TYPE = 8;

/** TensorProto fields that hold typed values, with the bytes each value takes when packed (0: a varint). */
const TYPED_FIELDS = new Map<number, number>([
  [4, 4], // float_data
  [5, 0], // int32_data
  [7, 0], // int64_data
  [10, 8], // double_data
  [11, 0], // uint64_data
]);

export function checkTensor(bytes: Uint8Array, ctx: TensorContext): TensorCheck {
  let name = '';
  let dims: bigint[] = [];
  let dataType: bigint | null = null;
  let rawBytes: number | null = null;
  let typedValues = 0;
  let strings = 0;
  const external: ProtoField[] = [];
  let location = 0n;
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field === 1) dims = dims.concat(readProtoInts(f));
    else if (f.field === 2) dataType = readProtoInt(f);
    else if (f.field === 8) name = decodeProtoString(f);
    else if (f.field === 9) rawBytes = f.bytes.length;
    else if (f.field === 6) strings++;
    else if (f.field === 13) external.push(f);
    else if (f.field === 14) location = readProtoInt(f);
    else if (f.field === 3) throw ctx.refuse('tensor-data', `tensor "${name}" is split into segments, which this checker does not accept`);
    else if (TYPED_FIELDS.has(f.field)) typedValues += countValues(f, TYPED_FIELDS.get(f.field)!, name, ctx);
  }
  const which = `tensor "${name}"`;
  if (location !== 0n || external.length > 0) {
    throw ctx.refuse('external-data', `${which} refers to data outside the file (external_data${externalLocation(external)}); only self-contained files are accepted`);
  }
  const elementBytes = dataType === null ? undefined : ONNX_ELEMENT_BYTES.get(Number(dataType));
  if (elementBytes === undefined) throw ctx.refuse('tensor-data', `${which} has unknown data type ${dataType ?? 'none'}`);
  if (dims.length > MAX_RANK) throw ctx.refuse('tensor-data', `${which} has rank ${dims.length}; at most ${MAX_RANK} is accepted`);
  if (dims.some((d) => d < 0n)) throw ctx.refuse('tensor-data', `${which} has a negative dimension [${dims.join(', ')}]`);
  const elements = dims.reduce((a, b) => a * b, 1n);
  const declared = Number(dataType) === STRING_TYPE ? null : ceilBytes(elements, elementBytes);
  const limit = BigInt(ctx.maxTensorBytes);
  if (declared !== null && declared > limit) {
    throw ctx.refuse('tensor-size', `${which} of shape [${dims.join(', ')}] holds ${declared} bytes; the limit is ${ctx.maxTensorBytes}`, 'too-large');
  }
  if (Number(dataType) === STRING_TYPE) {
    if (BigInt(strings) !== elements) throw ctx.refuse('tensor-data', `${which} declares ${elements} strings and holds ${strings}`);
    return { name, bytes: 0 };
  }
  if (rawBytes !== null) {
    if (typedValues > 0 || strings > 0) throw ctx.refuse('tensor-data', `${which} holds both raw and typed data`);
    if (BigInt(rawBytes) !== declared) throw ctx.refuse('tensor-data', `${which} of shape [${dims.join(', ')}] should hold ${declared} bytes and holds ${rawBytes}`);
  } else if (BigInt(typedValues) !== elements) {
    throw ctx.refuse('tensor-data', `${which} of shape [${dims.join(', ')}] should hold ${elements} values and holds ${typedValues}`);
  }
  return { name, bytes: Number(declared) };
}

/** SparseTensorProto: its values (1) and indices (2) are tensors checked like any other. */
export function checkSparseTensor(bytes: Uint8Array, ctx: TensorContext): TensorCheck {
  let name = '';
  let total = 0;
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field !== 1 && f.field !== 2) continue;
    if (f.wireType !== 2) throw ctx.refuse('malformed', 'a sparse tensor part is not a message');
    const part = checkTensor(f.bytes, ctx);
    if (f.field === 1) name = part.name;
    total += part.bytes;
  }
  return { name, bytes: total };
}

/** Values in one occurrence of a typed-data field: packed (a run of fixed-width or varint values) or one value. */
function countValues(f: ProtoField, width: number, name: string, ctx: TensorContext): number {
  if (f.wireType !== 2) return 1;
  if (width > 0) {
    if (f.bytes.length % width !== 0) throw ctx.refuse('tensor-data', `tensor "${name}" has a packed field ${f.field} of ${f.bytes.length} bytes, not a multiple of ${width}`);
    return f.bytes.length / width;
  }
  return countPackedVarints(f);
}

function ceilBytes(elements: bigint, perElement: number): bigint {
  return perElement === 0.5 ? (elements + 1n) / 2n : elements * BigInt(perElement);
}

/** The `location` entry of an external-data reference, for the message. */
function externalLocation(entries: readonly ProtoField[]): string {
  for (const e of entries) {
    if (e.wireType !== 2) continue;
    let key = '';
    let value = '';
    for (const kv of new ProtoReader(e.bytes).fields()) {
      if (kv.field === 1) key = decodeProtoString(kv);
      if (kv.field === 2) value = decodeProtoString(kv);
    }
    if (key === 'location') return ` "${value.slice(0, 200)}"`;
  }
  return '';
}
