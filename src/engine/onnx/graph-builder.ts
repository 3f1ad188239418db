/**
 * Builds ONNX graphs whose weights are checkpoint tensors referenced in place: an initializer's name is the
 * checkpoint key, and its data is the key's byte range in the .safetensors file (ONNX external data). Loading
 * weights is then a lookup, and a missing or mis-shaped key is an error that names the key.
 */
import path from 'node:path';
import type { SafetensorsHeader, SafetensorsDtype } from '../io/safetensors-types.ts';
import type { OnnxAttribute, OnnxDim, OnnxDtype, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-proto.ts';

/** A checkpoint key the graph needs is absent or has the wrong shape. */
export class CheckpointKeyError extends Error {
  override name = 'CheckpointKeyError';
  constructor(
    readonly file: string,
    readonly key: string,
    detail: string,
  ) {
    super(`${path.basename(file)}: tensor "${key}" ${detail}`);
  }
}

const CHECKPOINT_TO_ONNX: Partial<Record<SafetensorsDtype, OnnxDtype>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
};

/** Attribute constructors, so an attribute's ONNX type is explicit at the call site. */
export const attr = {
  int: (value: number): OnnxAttribute => ({ type: 'int', value }),
  float: (value: number): OnnxAttribute => ({ type: 'float', value }),
  ints: (value: number[]): OnnxAttribute => ({ type: 'ints', value }),
  floats: (value: number[]): OnnxAttribute => ({ type: 'floats', value }),
  string: (value: string): OnnxAttribute => ({ type: 'string', value }),
};

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers = new Map<string, OnnxTensor>();
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly float32Weights = new Map<string, string>();
  private readonly constants = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  readonly opsets: Record<string, number> = { '': 17 };

  constructor(
    readonly name: string,
    private readonly checkpoint: SafetensorsHeader | null,
  ) {}

  private fresh(base: string): string {
    const n = this.counters.get(base) ?? 0;
    this.counters.set(base, n + 1);
    return `${base}_${n}`;
  }

  input(name: string, dtype: OnnxDtype, shape: OnnxDim[]): string {
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  /** Marks `value` as a graph output under `name` (an Identity node renames it when needed). */
  output(value: string, name: string, dtype: OnnxDtype, shape: OnnxDim[]): void {
    if (value !== name) this.nodes.push({ opType: 'Identity', domain: '', name: `out_${name}`, inputs: [value], outputs: [name], attributes: {} });
    this.outputs.push({ name, dtype, shape });
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attributes: Record<string, OnnxAttribute> = {}, domain = ''): string {
    return this.opN(opType, inputs, 1, attributes, domain)[0]!;
  }

  opN(opType: string, inputs: string[], outputCount: number, attributes: Record<string, OnnxAttribute> = {}, domain = ''): string[] {
    const name = this.fresh(opType);
    const outputs = Array.from({ length: outputCount }, (_, i) => (outputCount === 1 ? name : `${name}:${i}`));
    if (domain !== '' && this.opsets[domain] === undefined) this.opsets[domain] = 1;
    this.nodes.push({ opType, domain, name, inputs, outputs, attributes });
    return outputs;
  }

  /** Shape of a checkpoint tensor, or null when the key is absent. */
  shapeOf(key: string): number[] | null {
    return this.checkpoint?.tensors.get(key)?.shape ?? null;
  }

  has(key: string): boolean {
    return this.shapeOf(key) !== null;
  }

  /**
   * A checkpoint tensor as a float32 value. The initializer is the checkpoint's own bytes; half-precision
   * weights pass through a Cast that ONNX Runtime folds once at session creation.
   */
  weight(key: string, expectedShape?: readonly number[]): string {
    const cached = this.float32Weights.get(key);
    if (cached !== undefined) return cached;
    const header = this.checkpoint;
    if (header === null) throw new Error(`graph "${this.name}" has no checkpoint to take "${key}" from`);
    const info = header.tensors.get(key);
    if (info === undefined) throw new CheckpointKeyError(header.file, key, 'is missing');
    if (expectedShape !== undefined && (info.shape.length !== expectedShape.length || info.shape.some((d, i) => d !== expectedShape[i]))) {
      throw new CheckpointKeyError(header.file, key, `has shape [${info.shape}], expected [${expectedShape}]`);
    }
    const dtype = CHECKPOINT_TO_ONNX[info.dtype];
    if (dtype === undefined) throw new CheckpointKeyError(header.file, key, `has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`);
    this.initializers.set(key, {
      name: key,
      dtype,
      dims: info.shape,
      data: {
        kind: 'external',
        location: path.basename(header.file),
        offset: header.dataOffset + info.begin,
        length: info.end - info.begin,
      },
    });
    const value = dtype === 'float32' ? key : this.op('Cast', [key], { to: attr.int(1) });
    this.float32Weights.set(key, value);
    return value;
  }

  /** A float32 constant (deduplicated by content). */
  constFloat(values: ArrayLike<number>, dims: number[]): string {
    const data = Float32Array.from(values);
    return this.constant('float32', dims, new Uint8Array(data.buffer));
  }

  /** An int64 constant, as shapes, axes and indices need. */
  constInt64(values: readonly number[], dims: number[] = [values.length]): string {
    const data = BigInt64Array.from(values.map((v) => BigInt(v)));
    return this.constant('int64', dims, new Uint8Array(data.buffer));
  }

  private constant(dtype: OnnxDtype, dims: number[], bytes: Uint8Array): string {
    const key = `${dtype}|${dims.join(',')}|${Buffer.from(bytes).toString('base64')}`;
    const existing = this.constants.get(key);
    if (existing !== undefined) return existing;
    const name = this.fresh('const');
    this.initializers.set(name, { name, dtype, dims, data: { kind: 'raw', bytes } });
    this.constants.set(key, name);
    return name;
  }

  build(metadata: Record<string, string> = {}): OnnxModel {
    return {
      producer: 'fooocus-ts',
      opsets: { ...this.opsets },
      metadata,
      graph: {
        name: this.name,
        nodes: [...this.nodes],
        initializers: [...this.initializers.values()],
        inputs: [...this.inputs],
        outputs: [...this.outputs],
      },
    };
  }
}
