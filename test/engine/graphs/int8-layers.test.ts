import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conv2d, linear } from '../../../src/engine/graphs/layers.ts';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { sha256File } from '../../../src/engine/io/sha256.ts';
import type { UnetConfig } from '../../../src/engine/models/architecture.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { dequantizeWeightInt8, quantizeActivationsUint8, quantizeWeightInt8 } from '../../../src/engine/quantize/int8-quantization.ts';
import { ensureInt8Weights, type Int8WeightFile } from '../../../src/engine/quantize/int8-weight-cache.ts';
import { selectInt8UnetWeights } from '../../../src/engine/quantize/int8-unet-weights.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import * as ref from '../../reference/ops.ts';
import type { RefTensor } from '../../reference/tensor.ts';
import { loadTinyFixture, maxAbsDiff, sampleInput, type TinyFixture } from './graph-harness.ts';

/**
 * The reference does the int8 maths in plain TypeScript: activations through DynamicQuantizeLinear's rounding,
 * weights dequantized (code x scale), then an ordinary float64-accumulated layer. ONNX Runtime sums the same
 * integer products exactly, so the only difference left is float32 rounding of the rescale and bias: 1e-5 of
 * the output's largest magnitude covers it, while one code off anywhere moves an output by ~1e-3 of it.
 */
const RELATIVE_TOLERANCE = 1e-5;

function dequantizedActivations(x: RefTensor): RefTensor {
  const q = quantizeActivationsUint8(x.data);
  return { shape: x.shape, data: Float32Array.from(q.codes, (c) => (c - q.zeroPoint) * q.scale) };
}

function dequantizedWeight(w: RefTensor): RefTensor {
  return { shape: w.shape, data: dequantizeWeightInt8(quantizeWeightInt8(w.data, w.shape), w.shape) };
}

function maxAbs(t: RefTensor): number {
  return t.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe('int8 weight quantization', () => {
  it('keeps every weight within half a step of its channel scale, and a zero row at zero', () => {
    const shape = [3, 2, 3, 3];
    const values = Float32Array.from({ length: 54 }, (_, i) => (i < 18 ? 0 : Math.sin(i * 1.7) * (i % 7)));
    const q = quantizeWeightInt8(values, shape);
    assert.deepEqual([q.rows, q.columns], [18, 3]);
    assert.equal(q.scales[0], 0);
    const back = dequantizeWeightInt8(q, shape);
    for (let i = 0; i < values.length; i++) {
      const scale = q.scales[Math.floor(i / 18)]!;
      assert.ok(Math.abs(back[i]! - values[i]!) <= scale / 2 + 1e-7, `element ${i}`);
    }
    assert.ok(q.codes.every((c) => c >= -127 && c <= 127));
    assert.ok(q.codes.some((c) => c === 127 || c === -127), 'the largest weight of a row maps to +-127');
  });

  it('orders a convolution row as (tap, input channel)', () => {
    // out 1, in 2, 1x2 kernel: PyTorch order (in, kh, kw) = w[c0t0, c0t1, c1t0, c1t1]
    const q = quantizeWeightInt8(Float32Array.from([1, 2, 3, 4]), [1, 2, 1, 2]);
    const code = (v: number) => Math.round((v / 4) * 127);
    assert.deepEqual([...q.codes], [code(1), code(3), code(2), code(4)]);
  });
});

describe('int8 layers against the plain-TypeScript int8 reference', () => {
  let sd15: TinyFixture;
  let cfg: UnetConfig;
  let int8: Int8WeightFile;
  let root: string;
  before(async () => {
    sd15 = await loadTinyFixture('sd15');
    cfg = sd15.architecture.unet!;
    // The cache sits inside the fixture's directory, which is then the one weights root of both files.
    root = path.dirname(sd15.file);
    int8 = await ensureInt8Weights(sd15.header, selectInt8UnetWeights(sd15.header, cfg), { dir: path.join(root, 'int8'), sourceSha256: await sha256File(sd15.file) });
  });
  after(() => sd15.cleanup());

  async function runInt8(x: RefTensor, body: (g: GraphBuilder, x: string) => string): Promise<{ dims: readonly number[]; data: Float32Array }> {
    const g = new GraphBuilder('int8-layer', sd15.header, { int8Weights: { header: int8.header, keys: int8.keys }, weightsRoot: root });
    g.output(body(g, g.input('x', 'float32', x.shape)), 'out', 'float32', []);
    const model = g.build();
    assert.ok(model.graph.nodes.some((n) => n.opType === 'MatMulInteger' || n.opType === 'DynamicQuantizeMatMul'), 'the layer ran in int8');
    const session = await createModelSession(encodeOnnxModel(model), root, { threads: 2 });
    try {
      return (await session.run({ x: { dims: x.shape, data: x.data } })).out!;
    } finally {
      await session.release();
    }
  }

  const p = () => cfg.prefix;
  const w = (key: string) => sd15.weights(key);
  const cases: { name: string; prefix: () => string; input: () => RefTensor; stride?: number; padding?: number }[] = [
    { name: '3x3 convolution, padding 1', prefix: () => `${p()}input_blocks.1.0.in_layers.2.`, input: () => sampleInput([2, cfg.modelChannels, 8, 6], 2) },
    { name: '3x3 convolution, stride 2 (downsample)', prefix: () => `${p()}input_blocks.3.0.op.`, input: () => sampleInput([1, cfg.modelChannels, 8, 8], 3), stride: 2, padding: 1 },
    { name: '3x3 convolution, stride 2 on odd sizes', prefix: () => `${p()}input_blocks.3.0.op.`, input: () => sampleInput([1, cfg.modelChannels, 7, 5], 4), stride: 2, padding: 1 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const x = c.input();
      const opts = { ...(c.stride ? { stride: c.stride } : {}), ...(c.padding !== undefined ? { padding: c.padding } : {}) };
      const out = await runInt8(x, (g, xi) => conv2d(g, xi, c.prefix(), opts));
      const expected = ref.conv2d(dequantizedActivations(x), dequantizedWeight(w(`${c.prefix()}weight`)), w(`${c.prefix()}bias`), { stride: c.stride ?? 1, padding: c.padding ?? 1 });
      assert.ok(maxAbsDiff(out, expected) <= RELATIVE_TOLERANCE * maxAbs(expected), `max diff ${maxAbsDiff(out, expected)} of ${maxAbs(expected)}`);
    });
  }

  it('1x1 convolution (a skip connection)', async () => {
    const key = [...int8.keys].find((k) => k.endsWith('skip_connection.weight'));
    assert.ok(key !== undefined, 'the tiny UNet has a 1x1 skip convolution');
    const prefix = key.slice(0, -'weight'.length);
    const x = sampleInput([2, sd15.header.tensors.get(key)!.shape[1]!, 4, 4], 5);
    const out = await runInt8(x, (g, xi) => conv2d(g, xi, prefix));
    const expected = ref.conv2d(dequantizedActivations(x), dequantizedWeight(w(key)), w(`${prefix}bias`), { padding: 0 });
    assert.ok(maxAbsDiff(out, expected) <= RELATIVE_TOLERANCE * maxAbs(expected));
  });

  it('the whole UNet graph reads every selected weight as int8 codes and none of them as floats', () => {
    const model = buildUnetGraph(sd15.header, cfg, { int8Weights: { header: int8.header, keys: int8.keys }, weightsRoot: root });
    const names = model.graph.initializers.map((t) => t.name);
    const asFloat = [...int8.keys].filter((k) => names.some((n) => n === k || n.startsWith(`${k}#rows`)));
    assert.deepEqual(asFloat, []);
    assert.deepEqual([...int8.keys].filter((k) => !names.includes(`${k}#int8`)), []);
    assert.ok(names.includes(`${p()}input_blocks.0.0.weight`) && names.includes(`${p()}out.2.weight`), 'the first and last convolutions stay float32');
  });

  it('linear over the last axis of [B, T, C] (attention projection)', async () => {
    const prefix = `${p()}input_blocks.1.1.transformer_blocks.0.ff.net.0.proj.`;
    const x = sampleInput([2, 5, w(`${prefix}weight`).shape[1]!], 6);
    const out = await runInt8(x, (g, xi) => linear(g, xi, prefix));
    const expected = ref.linear(dequantizedActivations(x), dequantizedWeight(w(`${prefix}weight`)), w(`${prefix}bias`));
    assert.ok(maxAbsDiff(out, expected) <= RELATIVE_TOLERANCE * maxAbs(expected), `max diff ${maxAbsDiff(out, expected)} of ${maxAbs(expected)}`);
  });
});
