/**
 * Builds ONNX graphs whose weights are checkpoint tensors referenced in place: an initializer's name is the
 * checkpoint key, and its data is the key's byte range in the .safetensors file (ONNX external data). Loading
 * weights is then a lookup, and a missing or mis-shaped key is an error that names the key.
 */
import path from 'node:path';
import type { SafetensorsHeader, SafetensorsDtype } from '../io/safetensors-types.ts';
import type { OnnxAttribute, OnnxDim, OnnxDtype, OnnxModel, OnnxNode, OnnxTensor, OnnxValueInfo } from './onnx-proto.ts';
import { FooocusError } from '../errors/fooocus-error.ts';
import { int8TensorNames } from '../quantize/int8-weight-cache.ts';
import { convertGraphToFloat16 } from './float16-graph.ts';

/** A checkpoint key the graph needs is absent or has the wrong shape. */
export class CheckpointKeyError extends FooocusError {
  constructor(file: string, readonly key: string, detail: string) {
    super('invalid', `${path.basename(file)}: tensor "${key}" ${detail}`, { file });
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

/** Graph input names of the low-rank adapter slot on weight `key` (see `GraphBuilder.lowRankSlot`). */
export function lowRankInputNames(key: string): { down: string; up: string } {
  return { down: `${key}#lora_down`, up: `${key}#lora_up` };
}

export interface GraphBuilderOptions {
  /**
   * Checkpoint weight keys that get a low-rank adapter slot: the layer adds `up(down(x))` to its output, with
   * `down` and `up` as graph inputs of any rank, so LoRA sets change by feeding new values, not by rebuilding.
   */
  lowRankSlots?: ReadonlySet<string>;
  /**
   * Directory that external data locations are relative to (the session's weights directory); default: the
   * checkpoint's own directory. Must contain the checkpoint and every patch file: ONNX Runtime refuses a location
   * that leaves it.
   */
  weightsRoot?: string;
  /** Weights that get a quantized full-size delta added (Fooocus's inpaint patch), by checkpoint key. */
  weightPatches?: ReadonlyMap<string, WeightPatch>;
  /** Weights the layers run in int8: their codes and scales come from this file (see `int8Weight`). */
  int8Weights?: { header: SafetensorsHeader; keys: ReadonlySet<string> };
  /** Keys whose tensor is read from another file (a control-LoRA's full weights replace the checkpoint's). */
  tensorSources?: ReadonlyMap<string, TensorSource>;
  /** Weights that get a low-rank delta `up @ down` added (a control-LoRA's adapted layers), by key. */
  lowRankDeltas?: ReadonlyMap<string, LowRankDelta>;
  /**
   * `float16`: `build` returns the graph computed in float16 except its float32 islands (see `float32Island` and
   * float16-graph.ts), its inputs and outputs still float32. For GPU execution providers. Default `float32`.
   */
  precision?: 'float32' | 'float16';
}

/** A tensor of another .safetensors file, used under a key of the graph's own checkpoint. */
export interface TensorSource {
  header: SafetensorsHeader;
  key: string;
}

/**
 * A fixed low-rank delta: the weight used is `w + reshape(up.flatten(1) @ down.flatten(1), w.shape)`, both
 * factors read from `header` (ONNX Runtime folds the product into the weight at session creation).
 */
export interface LowRankDelta {
  header: SafetensorsHeader;
  up: string;
  down: string;
}

/** Graph values of an int8 weight: codes [rows, columns] (int8) and per-column scales [columns] (float32). */
export interface Int8WeightValues {
  codes: string;
  scales: string;
  rows: number;
  columns: number;
}

/**
 * A uint8 delta for one weight, stored in another .safetensors file: the weight used is
 * `w + (u8 / 255) * (max - min) + min`, Fooocus's patch format applied at strength 1.
 */
export interface WeightPatch {
  header: SafetensorsHeader;
  /** The U8 tensor's key in `header`, of the weight's shape. */
  key: string;
  min: number;
  max: number;
}

export class GraphBuilder {
  private readonly nodes: OnnxNode[] = [];
  private readonly initializers = new Map<string, OnnxTensor>();
  private readonly inputs: OnnxValueInfo[] = [];
  private readonly outputs: OnnxValueInfo[] = [];
  private readonly float32Weights = new Map<string, string>();
  private readonly constants = new Map<string, string>();
  private readonly counters = new Map<string, number>();
  readonly opsets: Record<string, number> = { '': 17 };

  private readonly slotsUsed = new Set<string>();
  private readonly float32Nodes = new Set<string>();
  private islandDepth = 0;

  constructor(
    readonly name: string,
    private readonly checkpoint: SafetensorsHeader | null,
    private readonly options: GraphBuilderOptions = {},
  ) {}

  /**
   * Declares the adapter inputs of weight `key` when it has a slot: `down` [rank, ...downTail] and `up`
   * [outputs, rank, ...upTail], the rank left symbolic. Returns null when the key has no slot.
   */
  lowRankSlot(key: string, downTail: readonly number[], outputs: number, upTail: readonly number[]): { down: string; up: string } | null {
    if (this.options.lowRankSlots?.has(key) !== true) return null;
    if (this.slotsUsed.has(key)) throw new Error(`graph "${this.name}": weight "${key}" has its adapter slot declared twice`);
    this.slotsUsed.add(key);
    const names = lowRankInputNames(key);
    const rank = `rank_${this.slotsUsed.size}`;
    this.input(names.down, 'float32', [rank, ...downTail]);
    this.input(names.up, 'float32', [outputs, rank, ...upTail]);
    return names;
  }

  /** Patched weight keys that no layer of this graph read. */
  unusedPatches(): string[] {
    return [...(this.options.weightPatches?.keys() ?? [])].filter((k) => !this.float32Weights.has(k));
  }

  /** Slot keys the caller asked for that no layer of this graph declared (weights that are not adaptable). */
  unusedSlots(): string[] {
    return [...(this.options.lowRankSlots ?? [])].filter((k) => !this.slotsUsed.has(k));
  }

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
    if (this.islandDepth > 0) this.float32Nodes.add(name);
    return outputs;
  }

  /**
   * Builds the nodes `build` emits inside as float32 even in a float16 graph: for arithmetic whose range or
   * precision float16 cannot hold (normalization statistics, softmax, sinusoidal embeddings of large timesteps).
   * No effect on a float32 graph.
   */
  float32Island<T>(build: () => T): T {
    this.islandDepth++;
    try {
      return build();
    } finally {
      this.islandDepth--;
    }
  }

  /** Shape of a checkpoint tensor (or of the tensor that replaces it), or null when the key is absent. */
  shapeOf(key: string): number[] | null {
    const source = this.options.tensorSources?.get(key);
    if (source !== undefined) return source.header.tensors.get(source.key)?.shape ?? null;
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
    const source = this.options.tensorSources?.get(key);
    const header = source?.header ?? this.checkpoint;
    if (header === null) throw new Error(`graph "${this.name}" has no checkpoint to take "${key}" from`);
    const fileKey = source?.key ?? key;
    const info = header.tensors.get(fileKey);
    if (info === undefined) throw new CheckpointKeyError(header.file, fileKey, 'is missing');
    if (expectedShape !== undefined && (info.shape.length !== expectedShape.length || info.shape.some((d, i) => d !== expectedShape[i]))) {
      throw new CheckpointKeyError(header.file, fileKey, `has shape [${info.shape}], expected [${expectedShape}]`);
    }
    const plain = this.externalFloat(key, header, fileKey);
    const patch = this.options.weightPatches?.get(key);
    const delta = this.options.lowRankDeltas?.get(key);
    let value = patch === undefined ? plain : this.addPatch(plain, key, info.shape, patch);
    if (delta !== undefined) value = this.addLowRankDelta(value, key, info.shape, delta);
    this.float32Weights.set(key, value);
    return value;
  }

  /** Tensor `fileKey` of `header` as an external initializer named `name`, cast to float32 when stored narrower. */
  private externalFloat(name: string, header: SafetensorsHeader, fileKey: string): string {
    const info = header.tensors.get(fileKey);
    if (info === undefined) throw new CheckpointKeyError(header.file, fileKey, 'is missing');
    const dtype = CHECKPOINT_TO_ONNX[info.dtype];
    if (dtype === undefined) throw new CheckpointKeyError(header.file, fileKey, `has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`);
    this.initializers.set(name, {
      name,
      dtype,
      dims: info.shape,
      data: {
        kind: 'external',
        location: this.locationOf(header.file),
        offset: header.dataOffset + info.begin,
        length: info.end - info.begin,
      },
    });
    return dtype === 'float32' ? name : this.op('Cast', [name], { to: attr.int(1) });
  }

  /** `weight + reshape(up.flatten(1) @ down.flatten(1))`, folded into one constant by ONNX Runtime. */
  private addLowRankDelta(weight: string, key: string, shape: readonly number[], delta: LowRankDelta): string {
    const upInfo = delta.header.tensors.get(delta.up);
    const downInfo = delta.header.tensors.get(delta.down);
    if (upInfo === undefined) throw new CheckpointKeyError(delta.header.file, delta.up, 'is missing');
    if (downInfo === undefined) throw new CheckpointKeyError(delta.header.file, delta.down, 'is missing');
    const rank = upInfo.shape[1];
    const inner = shape.slice(1).reduce((a, b) => a * b, 1);
    const downInner = downInfo.shape.slice(1).reduce((a, b) => a * b, 1);
    if (upInfo.shape[0] !== shape[0] || rank === undefined || downInfo.shape[0] !== rank || downInner !== inner) {
      throw new CheckpointKeyError(delta.header.file, delta.up, `[${upInfo.shape}] and "${delta.down}" [${downInfo.shape}] do not make a delta of [${shape}] for "${key}"`);
    }
    const up = this.op('Reshape', [this.externalFloat(`${key}#up`, delta.header, delta.up), this.constInt64([shape[0]!, rank])]);
    const down = this.op('Reshape', [this.externalFloat(`${key}#down`, delta.header, delta.down), this.constInt64([rank, inner])]);
    const product = this.op('Reshape', [this.op('MatMul', [up, down]), this.constInt64([...shape])]);
    return this.op('Add', [weight, product]);
  }

  /**
   * The int8 form of weight `key` when this graph runs it in int8, else null (the layer then uses `weight`).
   * A patched, replaced or delta-adapted weight stays float32: its change applies to the float values.
   */
  int8Weight(key: string): Int8WeightValues | null {
    const source = this.options.int8Weights;
    if (source === undefined || !this.runsInt8(key)) return null;
    const names = int8TensorNames(key);
    const codes = source.header.tensors.get(names.codes);
    const scales = source.header.tensors.get(names.scales);
    if (codes === undefined || scales === undefined) throw new CheckpointKeyError(source.header.file, names.codes, 'is missing');
    for (const info of [codes, scales]) {
      if (this.initializers.has(info.name)) continue;
      this.initializers.set(info.name, {
        name: info.name,
        dtype: info.dtype === 'I8' ? 'int8' : 'float32',
        dims: info.shape,
        data: { kind: 'external', location: this.locationOf(source.header.file), offset: source.header.dataOffset + info.begin, length: info.end - info.begin },
      });
    }
    return { codes: names.codes, scales: names.scales, rows: codes.shape[0]!, columns: codes.shape[1]! };
  }

  private runsInt8(key: string): boolean {
    if (this.options.int8Weights?.keys.has(key) !== true) return false;
    return this.options.weightPatches?.has(key) !== true && this.options.tensorSources?.has(key) !== true && this.options.lowRankDeltas?.has(key) !== true;
  }

  /**
   * Rows [start, start + count) along the first axis of a checkpoint tensor, as a float32 value whose initializer
   * is that byte range of the file: a layer that uses a tensor in parts (GEGLU's value and gate halves) reads
   * each part in place instead of splitting a computed activation. A weight with a patch or an adapter slot
   * (`changesWhole`) must be taken whole with `weight(key)`: those apply to the whole tensor.
   */
  weightRows(key: string, start: number, count: number): string {
    if (this.changesWhole(key)) throw new Error(`graph "${this.name}": weight "${key}" has a patch or an adapter slot, so it cannot be read in parts`);
    const header = this.checkpoint;
    if (header === null) throw new Error(`graph "${this.name}" has no checkpoint to take "${key}" from`);
    const info = header.tensors.get(key);
    if (info === undefined) throw new CheckpointKeyError(header.file, key, 'is missing');
    const dtype = CHECKPOINT_TO_ONNX[info.dtype];
    if (dtype === undefined) throw new CheckpointKeyError(header.file, key, `has dtype ${info.dtype}; weights must be F32, F16, BF16 or F64`);
    const rows = info.shape[0] ?? 0;
    if (!Number.isInteger(start) || !Number.isInteger(count) || start < 0 || count < 1 || start + count > rows) {
      throw new CheckpointKeyError(header.file, key, `has ${rows} rows; rows ${start}..${start + count - 1} were asked for`);
    }
    const rowBytes = (info.end - info.begin) / rows;
    const name = `${key}#rows${start}-${start + count}`;
    const dims = [count, ...info.shape.slice(1)];
    const location = this.locationOf(header.file);
    this.initializers.set(name, { name, dtype, dims, data: { kind: 'external', location, offset: header.dataOffset + info.begin + start * rowBytes, length: count * rowBytes } });
    return dtype === 'float32' ? name : this.op('Cast', [name], { to: attr.int(1) });
  }

  /** Whether a patch, an adapter slot or int8 codes (quantized per whole weight) apply to the whole of weight `key`. */
  changesWhole(key: string): boolean {
    return this.options.weightPatches?.has(key) === true || this.options.lowRankSlots?.has(key) === true || this.runsInt8(key);
  }

  /** Location of a file's external data, relative to the weights root. */
  private locationOf(file: string): string {
    const root = this.options.weightsRoot;
    return root === undefined ? path.basename(file) : path.relative(root, path.resolve(file));
  }

  /** `weight + (u8 / 255) * (max - min) + min`, which ONNX Runtime folds into one constant at session creation. */
  private addPatch(weight: string, key: string, shape: readonly number[], patch: WeightPatch): string {
    const info = patch.header.tensors.get(patch.key);
    if (info === undefined) throw new CheckpointKeyError(patch.header.file, patch.key, 'is missing');
    if (info.dtype !== 'U8' || info.shape.join() !== shape.join()) {
      throw new CheckpointKeyError(patch.header.file, patch.key, `is ${info.dtype} [${info.shape}], expected U8 [${shape}] for "${key}"`);
    }
    const name = `${key}#patch`;
    this.initializers.set(name, {
      name,
      dtype: 'uint8',
      dims: info.shape,
      data: { kind: 'external', location: this.locationOf(patch.header.file), offset: patch.header.dataOffset + info.begin, length: info.end - info.begin },
    });
    const codes = this.op('Cast', [name], { to: attr.int(1) });
    const delta = this.op('Add', [this.op('Mul', [codes, this.constFloat([(patch.max - patch.min) / 255], [])]), this.constFloat([patch.min], [])]);
    return this.op('Add', [weight, delta]);
  }

  /**
   * A float32 tensor carried inside the model under `name`, with no checkpoint behind it: for self-contained files
   * this project writes itself (a generated network standing in for a published ONNX file). Not deduplicated,
   * so tensors of hundreds of megabytes cost no content key.
   */
  embeddedFloat(name: string, dims: number[], data: Float32Array): string {
    if (this.initializers.has(name)) throw new Error(`graph "${this.name}": initializer "${name}" is declared twice`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (data.length !== count) throw new Error(`graph "${this.name}": initializer "${name}" of shape [${dims}] needs ${count} values, got ${data.length}`);
    this.initializers.set(name, { name, dtype: 'float32', dims, data: { kind: 'raw', bytes: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } });
    return name;
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
    const model: OnnxModel = {
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
    return this.options.precision === 'float16' ? convertGraphToFloat16(model, this.float32Nodes) : model;
  }
}

/** Fails when a requested adapter slot names a weight the graph does not use as a linear or conv layer. */
export function rejectUnusedSlots(g: GraphBuilder): void {
  const unused = g.unusedSlots();
  if (unused.length > 0) throw new Error(`graph "${g.name}": no linear or conv layer uses ${unused.map((k) => `"${k}"`).join(', ')}, so a LoRA cannot adapt it`);
}
