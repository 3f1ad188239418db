import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { conv2d, fusedAttention, linear, attention } from '../../../src/engine/graphs/layers.ts';
import { buildClipTextGraph } from '../../../src/engine/graphs/clip-text.ts';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { buildVaeDecoderGraph, buildVaeEncoderGraph } from '../../../src/engine/graphs/vae.ts';
import { countGraphFlops, FlopCountError } from '../../../src/engine/onnx/flop-count.ts';
import { attr, GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Int64Tensor, type Tensor } from '../../../src/engine/tensor.ts';
import { buildUpscalerGraph } from '../../../src/engine/graphs/upscaler.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { countUpscalerMacs, detectUpscalerLayout } from '../../../src/engine/upscale/upscaler-layout.ts';
import { writeTinyRrdb, writeTinySrvgg } from '../../fixtures/upscalers.ts';
import { loadTinyFixture, type TinyFixture } from './graph-harness.ts';

describe('FLOPs counted from a graph', () => {
  let sd15: TinyFixture;
  before(async () => {
    sd15 = await loadTinyFixture('sd15');
  });
  after(() => sd15.cleanup());

  it('counts a linear layer through its Reshape/Shape/Slice/Concat plumbing: 2 x tokens x in x out', () => {
    const g = new GraphBuilder('t', sd15.header);
    const p = `${sd15.architecture.unet!.prefix}time_embed.0.`;
    const [out, inp] = g.shapeOf(`${p}weight`)! as [number, number];
    const x = g.input('x', 'float32', [2, 5, inp]);
    g.output(linear(g, x, p), 'y', 'float32', [2, 5, out]);
    const count = countGraphFlops(g.build(), { x: [2, 5, inp] });
    assert.equal(count.gemm, 2 * 10 * inp * out);
    assert.equal(count.conv, 0);
    assert.deepEqual(count.outputs.y, [2, 5, out]);
  });

  it('counts a 3x3 conv with padding 1 and a strided conv: 2 x output pixels x Cout x Cin x 9', () => {
    const g = new GraphBuilder('t', null);
    const x = g.input('x', 'float32', [1, 4, 10, 10]);
    const w = g.constFloat(new Float32Array(6 * 4 * 9), [6, 4, 3, 3]);
    const same = g.op('Conv', [x, w], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]) }); // [1, 6, 10, 10]
    const w2 = g.constFloat(new Float32Array(8 * 6 * 9), [8, 6, 3, 3]);
    const down = g.op('Conv', [same, w2], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), strides: attr.ints([2, 2]) }); // [1, 8, 5, 5]
    g.output(down, 'y', 'float32', [1, 8, 5, 5]);
    const count = countGraphFlops(g.build(), { x: [1, 4, 10, 10] });
    assert.equal(count.conv, 2 * 100 * 6 * 4 * 9 + 2 * 25 * 8 * 6 * 9);
    assert.deepEqual(count.outputs.y, [1, 8, 5, 5]);
  });

  it('counts batched MatMul with broadcasting and both products of fused and plain attention alike', () => {
    const build = (fused: boolean) => {
      const g = new GraphBuilder('t', null);
      const q = g.input('q', 'float32', [2, 16, 32]);
      const k = g.input('k', 'float32', [2, 7, 32]);
      const v = g.input('v', 'float32', [2, 7, 32]);
      g.output(fused ? fusedAttention(g, q, k, v, 4) : attention(g, q, k, v, 4, 8), 'y', 'float32', [2, 16, 32]);
      return countGraphFlops(g.build(), { q: [2, 16, 32], k: [2, 7, 32], v: [2, 7, 32] });
    };
    // QK^T: 2 x B x heads x S x L x D, twice (QK^T and PV), with D = 32 / 4.
    const expected = 2 * (2 * 2 * 4 * 16 * 7 * 8);
    assert.equal(build(true).attention, expected);
    assert.equal(build(false).gemm, expected);
    const g = new GraphBuilder('t', null);
    const a = g.input('a', 'float32', [3, 1, 4, 5]);
    const b = g.input('b', 'float32', [2, 5, 6]);
    g.output(g.op('MatMul', [a, b]), 'y', 'float32', [3, 2, 4, 6]);
    const count = countGraphFlops(g.build(), { a: [3, 1, 4, 5], b: [2, 5, 6] });
    assert.equal(count.gemm, 2 * 6 * 4 * 5 * 6);
    assert.deepEqual(count.outputs.y, [3, 2, 4, 6]);
  });

  it('names an operator it cannot follow, and an input given no dimensions', () => {
    const g = new GraphBuilder('t', null);
    const x = g.input('x', 'float32', [2, 3]);
    g.output(g.op('TopK', [x, g.constInt64([1])]), 'y', 'float32', [2, 1]);
    assert.throws(() => countGraphFlops(g.build(), { x: [2, 3] }), (e: unknown) => e instanceof FlopCountError && /TopK/.test(e.message));
    assert.throws(() => countGraphFlops(g.build(), {}), /graph input "x"/);
  });

  it('conv2d in a real block reads the checkpoint weight shape', () => {
    const g = new GraphBuilder('t', sd15.header);
    const cfg = sd15.architecture.unet!;
    const x = g.input('x', 'float32', [2, cfg.inChannels, 8, 8]);
    g.output(conv2d(g, x, `${cfg.prefix}input_blocks.0.0.`), 'y', 'float32', [2, cfg.modelChannels, 8, 8]);
    assert.equal(countGraphFlops(g.build(), { x: [2, cfg.inChannels, 8, 8] }).conv, 2 * 2 * 64 * cfg.modelChannels * cfg.inChannels * 9);
  });

  it('agrees with the multiply-accumulates the upscaler layout counts (RRDBNet with pixel unshuffle, SRVGG)', async () => {
    const dir = path.dirname(sd15.file);
    for (const file of [(await writeTinyRrdb(dir, { dialect: 'basicsr', blocks: 2, unshuffle: 2 })).file, (await writeTinySrvgg(dir)).file]) {
      const header = await readSafetensorsHeader(file);
      const layout = detectUpscalerLayout(header);
      const count = countGraphFlops(buildUpscalerGraph(header, layout), { image: [1, layout.channels, 16, 16] });
      assert.ok(Math.abs(count.total - 2 * countUpscalerMacs(layout) * 16 * 16) < 1, `${layout.kind}: ${count.total} vs ${2 * countUpscalerMacs(layout) * 256}`);
      assert.deepEqual(count.outputs.image ?? Object.values(count.outputs)[0], [1, layout.channels, 16 * layout.scale, 16 * layout.scale]);
    }
  });

  /** Runs `model` on ONNX Runtime and checks the counter propagated the same output shapes. */
  async function assertOutputsMatchRuntime(model: OnnxModel, feeds: Record<string, Tensor | Int64Tensor>): Promise<void> {
    const count = countGraphFlops(model, Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims])));
    assert.ok(count.total > 0);
    const session = await createModelSession(encodeOnnxModel(model), path.dirname(sd15.file), { threads: 1 });
    try {
      const out = await session.run(feeds);
      for (const [name, dims] of Object.entries(count.outputs)) assert.deepEqual(dims, [...out[name]!.dims], `output ${name}`);
    } finally {
      await session.release();
    }
  }

  it('follows batch norms, strided and ceil-mode pooling, a depthwise conv and means to the shapes ONNX Runtime produces', async () => {
    const g = new GraphBuilder('t', null);
    const x = g.input('x', 'float32', [1, 4, 10, 10]);
    const ones = g.constFloat([1, 1, 1, 1], [4]);
    const zeros = g.constFloat([0, 0, 0, 0], [4]);
    const normed = g.op('BatchNormalization', [x, ones, zeros, zeros, ones]);
    // TensorFlow's "same" 3x3 stride-2 pooling: the extra row and column after.
    const pooled = g.op('AveragePool', [normed], { kernel_shape: attr.ints([3, 3]), strides: attr.ints([2, 2]), pads: attr.ints([0, 0, 1, 1]), count_include_pad: attr.int(0) }); // [1, 4, 5, 5]
    const depthwise = g.op('Conv', [pooled, g.constFloat(new Float32Array(36), [4, 1, 3, 3])], { kernel_shape: attr.ints([3, 3]), pads: attr.ints([1, 1, 1, 1]), group: attr.int(4) }); // [1, 4, 5, 5]
    const halved = g.op('MaxPool', [depthwise], { kernel_shape: attr.ints([2, 2]), strides: attr.ints([2, 2]), ceil_mode: attr.int(1) }); // [1, 4, 3, 3]
    g.output(g.op('GlobalAveragePool', [halved]), 'global', 'float32', [1, 4, 1, 1]);
    g.output(g.op('ReduceMean', [halved], { axes: attr.ints([2, 3]), keepdims: attr.int(0) }), 'mean', 'float32', [1, 4]);
    g.output(g.op('ReduceMean', [halved], { axes: attr.ints([-1]) }), 'kept', 'float32', [1, 4, 3, 1]);
    const model = g.build();
    const count = countGraphFlops(model, { x: [1, 4, 10, 10] });
    assert.equal(count.conv, 2 * 25 * 4 * 9);
    assert.deepEqual(count.outputs, { global: [1, 4, 1, 1], mean: [1, 4], kept: [1, 4, 3, 1] });
    await assertOutputsMatchRuntime(model, { x: createTensor([1, 4, 10, 10]) });
  });

  it('follows the whole tiny UNet, VAE and text encoder to the shapes ONNX Runtime produces', async () => {
    const { unet, vae, textEncoders } = sd15.architecture;
    await assertOutputsMatchRuntime(buildUnetGraph(sd15.header, unet!), {
      x: createTensor([2, unet!.inChannels, 16, 16]),
      timesteps: createTensor([2]),
      context: createTensor([2, 77, unet!.contextDim]),
    });
    await assertOutputsMatchRuntime(buildVaeDecoderGraph(sd15.header, vae!), { latent: createTensor([1, vae!.latentChannels, 8, 8]) });
    await assertOutputsMatchRuntime(buildVaeEncoderGraph(sd15.header, vae!), { image: createTensor([1, vae!.imageChannels, 64, 64]) });
    const ids = new BigInt64Array(77).fill(1n);
    await assertOutputsMatchRuntime(buildClipTextGraph(sd15.header, textEncoders[0]!), { tokens: { dims: [1, 77], data: ids } });
  });
});
