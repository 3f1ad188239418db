/**
 * Checks an ONNX file that comes from outside (a downloaded detector, tagger or matting model) before ONNX Runtime
 * sees it: the whole ModelProto is read with a bounded decoder, and the file is refused when it points at data
 * outside itself, uses an operator outside the standard domain, an opset or IR version this build does not know,
 * a tensor or file past the limits, or graphs nested too deep. Graphs this project builds in process are not
 * checked here: they never come from a file.
 *
 * `com.microsoft` (ONNX Runtime's contrib operators) is refused too: its operators have no published
 * specification or versioning (the domain stays at opset 1 while kernels change), so "known operator, known
 * version" cannot be checked for them, and none of the files we load needs one.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';
import { decodeProtoString, ProtoFormatError, type ProtoField, ProtoReader, readProtoInt } from './protobuf-reader.ts';
import { AI_ONNX_OPSETS, ONNX_IR_VERSIONS, STANDARD_DOMAINS, STANDARD_OPERATORS } from './onnx-standard-ops.ts';
import { checkSparseTensor, checkTensor, type TensorCheck } from './onnx-tensor-check.ts';
import { readValueInfo, type OnnxValueSignature } from './onnx-value-info.ts';

export type { OnnxValueSignature } from './onnx-value-info.ts';

/** An ONNX file refused by the checker; `rule` is a stable id, the message names the file and the problem. */
export class UnsafeOnnxModelError extends FooocusError {
  constructor(file: string, rule: string, detail: string, kind: 'invalid' | 'too-large' = 'invalid') {
    super(kind, `${path.basename(file)}: ${detail}`, { file, rule });
  }
}

export interface OnnxCheckLimits {
  /** Largest file accepted; protobuf itself cannot exceed 2 GiB. */
  maxFileBytes: number;
  /** Largest single tensor (initializer or attribute), by its declared shape. */
  maxTensorBytes: number;
  /** Nodes in all graphs together. */
  maxNodes: number;
  /** How deep If/Loop/Scan bodies may nest (the main graph is depth 0). */
  maxGraphDepth: number;
}

export const DEFAULT_ONNX_LIMITS: OnnxCheckLimits = {
  maxFileBytes: 2 ** 31 - 1,
  maxTensorBytes: 2 ** 30,
  maxNodes: 200_000,
  maxGraphDepth: 3,
};

/** What a checked file declares: enough for a caller to check it is the model it expects. */
export interface CheckedOnnxModel {
  irVersion: number;
  /** Opset version of the default domain. */
  opset: number;
  producer: string;
  /** Graph inputs the caller feeds (inputs that are also initializers left out). */
  inputs: OnnxValueSignature[];
  outputs: OnnxValueSignature[];
  nodeCount: number;
  initializerBytes: number;
  operators: ReadonlySet<string>;
}

interface CheckState {
  file: string;
  limits: OnnxCheckLimits;
  nodes: number;
  operators: Set<string>;
}

/** Reads and checks an ONNX file; its size is checked before it is read. */
export function checkOnnxFile(file: string, limits: Partial<OnnxCheckLimits> = {}): { model: CheckedOnnxModel; bytes: Uint8Array } {
  const all = { ...DEFAULT_ONNX_LIMITS, ...limits };
  const size = statSync(file).size;
  if (size > all.maxFileBytes) throw new UnsafeOnnxModelError(file, 'file-size', `is ${size} bytes; the limit is ${all.maxFileBytes}`, 'too-large');
  const bytes = readFileSync(file);
  return { model: checkOnnxModel(bytes, file, all), bytes };
}

/** Checks ONNX bytes; `file` names them in errors. */
export function checkOnnxModel(bytes: Uint8Array, file: string, limits: Partial<OnnxCheckLimits> = {}): CheckedOnnxModel {
  const all = { ...DEFAULT_ONNX_LIMITS, ...limits };
  if (bytes.length > all.maxFileBytes) throw new UnsafeOnnxModelError(file, 'file-size', `is ${bytes.length} bytes; the limit is ${all.maxFileBytes}`, 'too-large');
  try {
    return checkModelProto(bytes, { file, limits: all, nodes: 0, operators: new Set() });
  } catch (err) {
    if (err instanceof ProtoFormatError) throw new UnsafeOnnxModelError(file, 'malformed', `is not a well-formed ONNX file (${err.message})`);
    throw err;
  }
}

function checkModelProto(bytes: Uint8Array, s: CheckState): CheckedOnnxModel {
  let irVersion: bigint | null = null;
  let opset: bigint | null = null;
  let producer = '';
  let graph: Uint8Array | null = null;
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case 1:
        irVersion = readProtoInt(f);
        break;
      case 2:
        producer = decodeProtoString(f);
        break;
      case 7:
        if (graph !== null) throw refuse(s, 'malformed', 'has two main graphs');
        graph = messageBytes(f);
        break;
      case 8: {
        const version = checkOpsetImport(messageBytes(f), s);
        if (opset !== null) throw refuse(s, 'opset-domain', 'imports the default domain twice');
        opset = version;
        break;
      }
      case 20:
        throw refuse(s, 'training-info', 'carries training graphs (training_info), which inference never needs');
      case 25:
        throw refuse(s, 'local-functions', 'defines model-local functions, which can stand in for operators outside the standard domain');
    }
  }
  if (irVersion === null || irVersion < ONNX_IR_VERSIONS.min || irVersion > ONNX_IR_VERSIONS.max) {
    throw refuse(s, 'ir-version', `has IR version ${irVersion ?? 'none'}; this build reads ${ONNX_IR_VERSIONS.min} to ${ONNX_IR_VERSIONS.max}`);
  }
  if (opset === null) throw refuse(s, 'opset-version', 'imports no opset of the standard ai.onnx domain');
  if (graph === null) throw refuse(s, 'malformed', 'has no graph');
  const main = checkGraph(graph, s, 0);
  return {
    irVersion: Number(irVersion),
    opset: Number(opset),
    producer,
    inputs: main.inputs.filter((v) => !main.initializerNames.has(v.name)),
    outputs: main.outputs,
    nodeCount: s.nodes,
    initializerBytes: main.initializerBytes,
    operators: s.operators,
  };
}

/** Returns the default domain's version; any other domain is refused. */
function checkOpsetImport(bytes: Uint8Array, s: CheckState): bigint {
  let domain = '';
  let version: bigint | null = null;
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field === 1) domain = decodeProtoString(f);
    if (f.field === 2) version = readProtoInt(f);
  }
  if (!STANDARD_DOMAINS.has(domain)) throw refuse(s, 'opset-domain', `imports operator domain "${domain}"; only the standard ai.onnx domain is accepted`);
  if (version === null || version < AI_ONNX_OPSETS.min || version > AI_ONNX_OPSETS.max) {
    throw refuse(s, 'opset-version', `uses ai.onnx opset ${version ?? 'none'}; this build knows ${AI_ONNX_OPSETS.min} to ${AI_ONNX_OPSETS.max}`);
  }
  return version;
}

interface GraphSummary {
  inputs: OnnxValueSignature[];
  outputs: OnnxValueSignature[];
  initializerNames: Set<string>;
  initializerBytes: number;
}

function checkGraph(bytes: Uint8Array, s: CheckState, depth: number): GraphSummary {
  if (depth > s.limits.maxGraphDepth) throw refuse(s, 'graph-depth', `nests graphs ${depth} deep; the limit is ${s.limits.maxGraphDepth}`);
  const out: GraphSummary = { inputs: [], outputs: [], initializerNames: new Set(), initializerBytes: 0 };
  const addTensor = (t: TensorCheck): void => {
    out.initializerNames.add(t.name);
    out.initializerBytes += t.bytes;
  };
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case 1:
        checkNode(messageBytes(f), s, depth);
        break;
      case 5:
        addTensor(checkTensor(messageBytes(f), tensorContext(s)));
        break;
      case 15:
        addTensor(checkSparseTensor(messageBytes(f), tensorContext(s)));
        break;
      case 11:
        out.inputs.push(readValueInfo(messageBytes(f)));
        break;
      case 12:
        out.outputs.push(readValueInfo(messageBytes(f)));
        break;
    }
  }
  return out;
}

function checkNode(bytes: Uint8Array, s: CheckState, depth: number): void {
  if (++s.nodes > s.limits.maxNodes) throw refuse(s, 'node-count', `has more than ${s.limits.maxNodes} nodes`, 'too-large');
  let opType = '';
  let domain = '';
  let name = '';
  const attributes: Uint8Array[] = [];
  for (const f of new ProtoReader(bytes).fields()) {
    if (f.field === 3) name = decodeProtoString(f);
    else if (f.field === 4) opType = decodeProtoString(f);
    else if (f.field === 7) domain = decodeProtoString(f);
    else if (f.field === 5) attributes.push(messageBytes(f));
  }
  const which = `node "${name}" (${opType === '' ? 'no operator' : opType})`;
  if (!STANDARD_DOMAINS.has(domain)) throw refuse(s, 'operator-domain', `${which} is in domain "${domain}"; only standard ai.onnx operators are accepted`);
  if (!STANDARD_OPERATORS.has(opType)) throw refuse(s, 'operator', `${which} is not a standard ONNX operator`);
  s.operators.add(opType);
  for (const a of attributes) checkAttribute(a, s, depth);
}

/** Walks the tensors and graphs an attribute carries; scalar and list values need no check. */
function checkAttribute(bytes: Uint8Array, s: CheckState, depth: number): void {
  for (const f of new ProtoReader(bytes).fields()) {
    switch (f.field) {
      case 5: // t
      case 10: // tensors
        checkTensor(messageBytes(f), tensorContext(s));
        break;
      case 22: // sparse_tensor
      case 23: // sparse_tensors
        checkSparseTensor(messageBytes(f), tensorContext(s));
        break;
      case 6: // g
      case 11: // graphs
        checkGraph(messageBytes(f), s, depth + 1);
        break;
    }
  }
}

function tensorContext(s: CheckState): { maxTensorBytes: number; refuse: (rule: string, detail: string, kind?: 'invalid' | 'too-large') => Error } {
  return { maxTensorBytes: s.limits.maxTensorBytes, refuse: (rule, detail, kind) => refuse(s, rule, detail, kind) };
}

function messageBytes(f: ProtoField): Uint8Array {
  if (f.wireType !== 2) throw new ProtoFormatError(`field ${f.field} should be a nested message`);
  return f.bytes;
}

function refuse(s: CheckState, rule: string, detail: string, kind: 'invalid' | 'too-large' = 'invalid'): UnsafeOnnxModelError {
  return new UnsafeOnnxModelError(s.file, rule, detail, kind);
}

/** What a caller expects of one input or output: its element type and shape (null: any size on that axis). */
export interface ExpectedOnnxValue {
  name: string;
  dtype: string;
  shape: readonly (number | null)[];
}

/** Refuses a checked model whose inputs or outputs are not the ones the caller feeds and reads. */
export function expectOnnxSignature(model: CheckedOnnxModel, file: string, expected: { inputs: readonly ExpectedOnnxValue[]; outputs: readonly ExpectedOnnxValue[] }): void {
  const compare = (kind: 'input' | 'output', have: readonly OnnxValueSignature[], want: readonly ExpectedOnnxValue[]): void => {
    const names = have.map((v) => v.name);
    const wantNames = want.map((v) => v.name);
    if (names.join('\0') !== wantNames.join('\0')) {
      throw new UnsafeOnnxModelError(file, 'signature', `has ${kind}s [${names.join(', ')}], expected [${wantNames.join(', ')}]`);
    }
    want.forEach((w, i) => {
      const v = have[i]!;
      const fits = v.shape !== null && v.shape.length === w.shape.length && w.shape.every((d, j) => d === null || v.shape![j] === d);
      if (v.dtype !== w.dtype || !fits) {
        const shape = (dims: readonly (number | string | null)[] | null): string => (dims === null ? 'unknown' : `[${dims.map((d) => d ?? '?').join(', ')}]`);
        throw new UnsafeOnnxModelError(file, 'signature', `${kind} "${w.name}" is ${v.dtype} ${shape(v.shape)}, expected ${w.dtype} ${shape(w.shape)}`);
      }
    });
  };
  compare('input', model.inputs, expected.inputs);
  compare('output', model.outputs, expected.outputs);
}
