import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildClipTextGraph } from '../../../src/engine/graphs/clip-text.ts';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { convertGraphToFloat16, toFloat16Bits } from '../../../src/engine/onnx/float16-graph.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { ONNX_DTYPE, encodeOnnxModel, type OnnxDtype, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { loadTinyFixture, sampleInput, type TinyFixture } from '../graphs/graph-harness.ts';

/** Ops that must run in float32 inside a float16 graph (the islands the graph builders declare). */
const FLOAT32_OPS = new Set(['InstanceNormalization', 'Softmax', 'Sin', 'Cos']);
/** The arithmetic that carries the cost: it must see float16 operands. */
const HEAVY_OPS = new Set(['Conv', 'Gemm', 'MatMul', 'MultiHeadAttention', 'LayerNormalization']);

type Kind = 'float32' | 'float16' | 'other';

/**
 * An independent type check of a converted graph: walks the nodes, giving every value the element type ONNX's
 * typing rules give it, and fails on a node whose float inputs mix float16 and float32 (ONNX Runtime would refuse
 * such a model). Returns each node's float type and, per value, its type.
 */
function inferTypes(model: OnnxModel): { nodeKind: Map<string, Kind>; valueKind: Map<string, Kind> } {
  const toKind = (dtype: OnnxDtype): Kind => (dtype === 'float32' || dtype === 'float16' ? dtype : 'other');
  const valueKind = new Map<string, Kind>();
  for (const i of model.graph.inputs) valueKind.set(i.name, toKind(i.dtype));
  for (const t of model.graph.initializers) valueKind.set(t.name, toKind(t.dtype));
  const nodeKind = new Map<string, Kind>();
  for (const node of model.graph.nodes) {
    const floatInputs = node.inputs.filter((name, i) => name !== '' && !(node.opType === 'Resize' && i > 0)).map((name) => valueKind.get(name)).filter((k): k is Kind => k !== undefined && k !== 'other');
    const kinds = new Set(floatInputs);
    if (node.opType !== 'Cast' && node.opType !== 'Shape') assert.ok(kinds.size <= 1, `node ${node.name} (${node.opType}) mixes ${[...kinds].join(' and ')} inputs`);
    const kind: Kind = kinds.size === 0 ? 'other' : [...kinds][0]!;
    nodeKind.set(node.name, node.opType === 'Cast' || node.opType === 'Shape' ? 'other' : kind);
    for (const out of node.outputs) {
      if (node.opType === 'Cast') {
        const to = node.attributes.to;
        const value = to?.type === 'int' ? to.value : -1;
        valueKind.set(out, value === ONNX_DTYPE.float16 ? 'float16' : value === ONNX_DTYPE.float32 ? 'float32' : 'other');
      } else if (['Shape', 'ArgMax'].includes(node.opType)) {
        valueKind.set(out, 'other');
      } else {
        valueKind.set(out, kind);
      }
    }
  }
  return { nodeKind, valueKind };
}

function relativeError(a: Tensor, b: Tensor): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += (a.data[i]! - b.data[i]!) ** 2;
    den += b.data[i]! ** 2;
  }
  return Math.sqrt(num / den);
}

async function runModel(model: OnnxModel, dir: string, feeds: Record<string, Tensor>): Promise<Tensor> {
  const session = await createModelSession(encodeOnnxModel(model), dir, { threads: 2 });
  try {
    return (await session.run(feeds)).out!;
  } finally {
    await session.release();
  }
}

describe('float16 graphs', () => {
  it('converts float32 to float16 bits with rounding to nearest even, overflow to infinity and subnormals', () => {
    const cases: [number, number][] = [
      [1, 0x3c00], [-2, 0xc000], [0.1, 0x2e66], [1 / 3, 0x3555], [65504, 0x7bff], [65520, 0x7c00], [1e6, 0x7c00],
      [-Infinity, 0xfc00], [2 ** -24, 0x0001], [2 ** -25, 0x0000], [2 ** -14, 0x0400], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02], [0, 0],
    ];
    for (const [value, bits] of cases) assert.equal(toFloat16Bits(value), bits, `${value}`);
    assert.equal(toFloat16Bits(Number.NaN) & 0x7c00, 0x7c00);
    assert.notEqual(toFloat16Bits(Number.NaN) & 0x3ff, 0);
  });

  it('refuses an op it cannot carry into float16 outside a float32 island, naming the node', () => {
    const g = new GraphBuilder('q', null);
    const [codes] = g.opN('DynamicQuantizeLinear', [g.input('x', 'float32', [2])], 3);
    g.output(g.op('Cast', [codes!], { to: { type: 'int', value: ONNX_DTYPE.float32 } }), 'out', 'float32', [2]);
    assert.throws(() => convertGraphToFloat16(g.build(), new Set()), /node "DynamicQuantizeLinear_0" \(DynamicQuantizeLinear\) has no float16 form/);
  });

  for (const family of ['sd15', 'sdxl'] as const) {
    describe(`tiny ${family} UNet and text encoder`, () => {
      let fixture: TinyFixture;
      before(async () => {
        fixture = await loadTinyFixture(family);
      });
      after(() => fixture.cleanup());

      const graphs = (): [string, OnnxModel, OnnxModel][] => {
        const unet = fixture.architecture.unet!;
        const text = fixture.architecture.textEncoders[0]!;
        const extras = { imagePrompts: true, controlResiduals: true, inpaintFeature: true };
        return [
          ['unet', buildUnetGraph(fixture.header, unet), buildUnetGraph(fixture.header, unet, { precision: 'float16' })],
          ['unet (plain attention)', buildUnetGraph(fixture.header, unet, { attention: 'plain' }), buildUnetGraph(fixture.header, unet, { attention: 'plain', precision: 'float16' })],
          ['text', buildClipTextGraph(fixture.header, text), buildClipTextGraph(fixture.header, text, { precision: 'float16' })],
          ['unet (image prompts, control residuals, inpaint feature)', buildUnetGraph(fixture.header, unet, extras), buildUnetGraph(fixture.header, unet, { ...extras, precision: 'float16' })],
        ];
      };

      it('every op is float16 but the float32 islands; casts only at island and graph edges; same float32 interface; ONNX Runtime loads it', async () => {
        for (const [label, fp32, fp16] of graphs()) {
          assert.deepEqual(fp16.graph.inputs, fp32.graph.inputs, label);
          assert.deepEqual(fp16.graph.outputs, fp32.graph.outputs, label);
          const { nodeKind, valueKind } = inferTypes(fp16);
          const producer = new Map(fp16.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
          const consumers = new Map<string, typeof fp16.graph.nodes>();
          for (const n of fp16.graph.nodes) for (const i of n.inputs) consumers.set(i, [...(consumers.get(i) ?? []), n]);
          const graphInputs = new Set(fp16.graph.inputs.map((i) => i.name));
          const graphOutputs = new Set(fp16.graph.outputs.map((o) => o.name));
          let heavy = 0;
          for (const node of fp16.graph.nodes) {
            const kind = nodeKind.get(node.name);
            if (FLOAT32_OPS.has(node.opType)) assert.equal(kind, 'float32', `${label}: ${node.name} (${node.opType}) runs in float32`);
            if (HEAVY_OPS.has(node.opType)) {
              heavy++;
              assert.equal(kind, 'float16', `${label}: ${node.name} (${node.opType}) runs in float16`);
            }
            if (node.opType !== 'Cast' || !node.name.startsWith('cast_')) continue;
            // An inserted cast converts a graph input, a weight or an island's result, or feeds an island or an output.
            const source = node.inputs[0]!;
            const from = producer.get(source);
            const fromEdge = graphInputs.has(source) || from === undefined || nodeKind.get(from.name) === 'float32';
            const toEdge = graphOutputs.has(node.outputs[0]!) || (consumers.get(node.outputs[0]!) ?? []).some((c) => nodeKind.get(c.name) === 'float32' || c.opType === 'Resize');
            assert.ok(fromEdge || toEdge, `${label}: cast ${node.name} sits between two float16 ops`);
          }
          assert.ok(heavy > 0, label);
          // ONNX Runtime checks every node's types when it loads a model.
          await (await createModelSession(encodeOnnxModel(fp16), path.dirname(fixture.header.file), { threads: 1 })).release();
          for (const o of fp16.graph.outputs) assert.equal(valueKind.get(o.name), 'float32', `${label}: output ${o.name}`);
        }
      });

      it('the float16 UNet agrees with float32 on the CPU provider (relative error under 1 %) and repeats exactly', async () => {
        const cfg = fixture.architecture.unet!;
        const feeds: Record<string, Tensor> = {
          x: toTensor(sampleInput([2, cfg.inChannels, 8, 8], 1)),
          timesteps: { dims: [2], data: new Float32Array([999, 250]) },
          context: toTensor(sampleInput([2, 5, cfg.contextDim], 2)),
        };
        if (cfg.admInChannels !== null) feeds.y = toTensor(sampleInput([2, cfg.admInChannels], 3));
        const dir = path.dirname(fixture.header.file);
        const reference = await runModel(buildUnetGraph(fixture.header, cfg), dir, feeds);
        const half = buildUnetGraph(fixture.header, cfg, { precision: 'float16' });
        const first = await runModel(half, dir, feeds);
        const second = await runModel(half, dir, feeds);
        assert.deepEqual(second.data, first.data);
        const error = relativeError(first, reference);
        assert.ok(error > 0, 'the float16 graph rounds somewhere');
        assert.ok(error < 0.01, `relative error ${error}`);
      });
    });
  }
});

function toTensor(t: { shape: number[]; data: Float32Array }): Tensor {
  return { dims: [...t.shape], data: t.data };
}
