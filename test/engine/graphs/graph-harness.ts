/**
 * Test harness for the ONNX graph builders: tiny fixture checkpoints written to a temp dir, their weights as the
 * reference implementations read them, and a one-call "build this subgraph and run it" helper.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import type { CheckpointArchitecture } from '../../../src/engine/models/architecture.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxDim } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Int64Tensor, Tensor } from '../../../src/engine/tensor.ts';
import { expectedTinyArchitecture, writeTinyCheckpoint, type TinyFamily, type TinyCheckpointOptions } from '../../fixtures/checkpoints.ts';
import { weightSourceFromMap, type RefTensor, type WeightSource } from '../../reference/tensor.ts';

export interface TinyFixture {
  file: string;
  header: SafetensorsHeader;
  architecture: CheckpointArchitecture;
  weights: WeightSource;
  cleanup(): void;
}

export async function loadTinyFixture(family: TinyFamily, options: TinyCheckpointOptions = {}): Promise<TinyFixture> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fooocus-${family}-`));
  const file = await writeTinyCheckpoint(dir, family, options);
  const header = await readSafetensorsHeader(file);
  const map = new Map<string, RefTensor>();
  for (const [name, info] of header.tensors) {
    if (info.dtype === 'F32' || info.dtype === 'F16' || info.dtype === 'BF16') map.set(name, { shape: info.shape, data: await readTensorAsFloat32(header, name) });
  }
  return {
    file,
    header,
    architecture: expectedTinyArchitecture(family, options),
    weights: weightSourceFromMap(map),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface GraphInput {
  name: string;
  value: Tensor | Int64Tensor;
  /** Shape declared in the graph (defaults to the value's dims). */
  shape?: OnnxDim[];
}

/** Builds a graph with `body` over the given inputs, runs it once on ONNX Runtime, and returns its one output. */
export async function runSubgraph(header: SafetensorsHeader | null, inputs: GraphInput[], body: (g: GraphBuilder, ...names: string[]) => string): Promise<Tensor> {
  const g = new GraphBuilder('subgraph', header);
  const names = inputs.map((i) => g.input(i.name, i.value.data instanceof BigInt64Array ? 'int64' : 'float32', i.shape ?? [...i.value.dims]));
  g.output(body(g, ...names), 'out', 'float32', []);
  const model = g.build();
  model.graph.outputs[0]!.shape = []; // leave the output shape to inference
  const session = await createModelSession(encodeOnnxModel(model), header === null ? null : path.dirname(header.file), { threads: 2 });
  try {
    const feeds: Record<string, Tensor | Int64Tensor> = {};
    for (const i of inputs) feeds[i.name] = i.value;
    return (await session.run(feeds)).out!;
  } finally {
    await session.release();
  }
}

export function toRef(t: Tensor): RefTensor {
  return { shape: [...t.dims], data: t.data };
}

export function fromRef(t: RefTensor): Tensor {
  return { dims: [...t.shape], data: t.data };
}

/** max |a - b| over all elements, after checking the shapes agree. */
export function maxAbsDiff(actual: Tensor, expected: RefTensor): number {
  const a = [...actual.dims].join('x');
  const e = expected.shape.join('x');
  if (a !== e) throw new Error(`shape ${a} differs from the reference's ${e}`);
  let max = 0;
  for (let i = 0; i < actual.data.length; i++) {
    const d = Math.abs(actual.data[i]! - expected.data[i]!);
    if (!(d <= max)) max = Number.isNaN(d) ? Infinity : d;
  }
  return max;
}

/** Deterministic pseudo-random test input with values in about -1..1. */
export function sampleInput(dims: number[], seed = 1): RefTensor {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 0.9;
  return { shape: dims, data };
}
