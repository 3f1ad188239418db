import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../../../src/engine/tensor.ts';
import { loadTinyFixture, sampleInput, fromRef, type TinyFixture } from './graph-harness.ts';

describe('UNet GEGLU feed-forward read in value and gate halves', () => {
  let sd15: TinyFixture;
  let projKeys: string[];
  before(async () => {
    sd15 = await loadTinyFixture('sd15');
    projKeys = [...sd15.header.tensors.keys()].filter((k) => k.endsWith('ff.net.0.proj.weight'));
  });
  after(() => sd15.cleanup());

  async function run(model: OnnxModel, feeds: Record<string, Tensor>): Promise<Float32Array> {
    const session = await createModelSession(encodeOnnxModel(model), path.dirname(sd15.file), { threads: 1 });
    try {
      return (await session.run(feeds)).out!.data;
    } finally {
      await session.release();
    }
  }

  it('splits no activation, and gives the outputs of the one-Gemm-and-Split form (kept for adapted weights) within 1e-4', async () => {
    const cfg = sd15.architecture.unet!;
    assert.ok(projKeys.length > 0);
    const halves = buildUnetGraph(sd15.header, cfg);
    const whole = buildUnetGraph(sd15.header, cfg, { lowRankSlots: new Set(projKeys) });
    assert.equal(halves.graph.nodes.filter((n) => n.opType === 'Split').length, 0);
    assert.equal(whole.graph.nodes.filter((n) => n.opType === 'Split').length, projKeys.length);
    assert.ok(halves.graph.initializers.some((t) => t.name === `${projKeys[0]}#rows0-${t.dims[0]}`));
    const feeds: Record<string, Tensor> = {
      x: fromRef(sampleInput([2, cfg.inChannels, 8, 8], 1)),
      timesteps: createTensor([2], new Float32Array([10, 700])),
      context: fromRef(sampleInput([2, 7, cfg.contextDim], 2)),
    };
    // A zero low-rank branch leaves the adapted graph the plain UNet, computed through the Split path.
    const zeroSlots: Record<string, Tensor> = {};
    for (const key of projKeys) {
      const [outputs, inputs] = sd15.header.tensors.get(key)!.shape as [number, number];
      zeroSlots[`${key}#lora_down`] = createTensor([1, inputs]);
      zeroSlots[`${key}#lora_up`] = createTensor([outputs, 1]);
    }
    const a = await run(halves, feeds);
    const b = await run(whole, { ...feeds, ...zeroSlots });
    let max = 0;
    for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
    assert.ok(max <= 1e-4, `max |difference| ${max}`);
    const again = await run(halves, feeds);
    assert.deepEqual(again, a, 'same input, same graph: bit-identical run to run');
  });

  it('reads rows in place from the file, and refuses a weight that must be taken whole or rows out of range', () => {
    const key = projKeys[0]!;
    const info = sd15.header.tensors.get(key)!;
    const g = new GraphBuilder('t', sd15.header);
    g.weightRows(key, 2, 3);
    const init = g.build().graph.initializers.find((t) => t.name === `${key}#rows2-5`)!;
    const rowBytes = (info.end - info.begin) / info.shape[0]!;
    assert.deepEqual(init.dims, [3, info.shape[1]]);
    assert.deepEqual(init.data.kind === 'external' && [init.data.offset, init.data.length], [sd15.header.dataOffset + info.begin + 2 * rowBytes, 3 * rowBytes]);
    assert.throws(() => g.weightRows(key, info.shape[0]! - 1, 2), /rows/);
    const adapted = new GraphBuilder('t', sd15.header, { lowRankSlots: new Set([key]) });
    assert.equal(adapted.changesWhole(key), true);
    assert.throws(() => adapted.weightRows(key, 0, 1), /cannot be read in parts/);
  });
});
