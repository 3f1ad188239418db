import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { attentionHeads, type UnetConfig } from '../../../src/engine/models/architecture.ts';

import { attention, conv2d, fusedAttention, groupNorm, upsampleNearest2x } from '../../../src/engine/graphs/layers.ts';
import { buildResBlock, buildSpatialTransformer, buildTimestepEmbedding, buildUnetGraph, type UnetContext } from '../../../src/engine/graphs/unet.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import * as ref from '../../reference/ops.ts';
import { downsampleReference, resBlockReference, spatialTransformerReference, unetReference, upsampleReference } from '../../reference/unet.ts';
import { fromRef, loadTinyFixture, maxAbsDiff, runSubgraph, sampleInput, type TinyFixture } from './graph-harness.ts';

const TOLERANCE = 1e-4;

describe('UNet graph blocks against the reference', () => {
  let sd15: TinyFixture;
  let cfg: UnetConfig;
  before(async () => {
    sd15 = await loadTinyFixture('sd15');
    cfg = sd15.architecture.unet!;
  });
  after(() => sd15.cleanup());

  const p = () => cfg.prefix;

  it('conv2d (conv_in, 3x3 padding 1)', async () => {
    const x = sampleInput([2, cfg.inChannels, 8, 8]);
    const out = await runSubgraph(sd15.header, [{ name: 'x', value: fromRef(x) }], (g, xi) => conv2d(g, xi!, `${p()}input_blocks.0.0.`));
    const w = sd15.weights;
    assert.ok(maxAbsDiff(out, ref.conv2d(x, w(`${p()}input_blocks.0.0.weight`), w(`${p()}input_blocks.0.0.bias`), { padding: 1 })) <= TOLERANCE);
  });

  it('group norm (32 groups, eps 1e-5)', async () => {
    const c = cfg.modelChannels;
    const x = sampleInput([2, c, 4, 4], 3);
    const out = await runSubgraph(sd15.header, [{ name: 'x', value: fromRef(x) }], (g, xi) => groupNorm(g, xi!, `${p()}out.0.`, 32, 1e-5));
    const w = sd15.weights;
    assert.ok(maxAbsDiff(out, ref.groupNorm(x, 32, w(`${p()}out.0.weight`), w(`${p()}out.0.bias`), 1e-5)) <= TOLERANCE);
  });

  for (const kind of ['plain', 'fused'] as const) {
    it(`${kind} multi-head attention (self and cross, 4 heads)`, async () => {
      const q = sampleInput([2, 16, 32], 4);
      const kv = sampleInput([2, 7, 32], 5);
      const v = sampleInput([2, 7, 32], 6);
      const out = await runSubgraph(null, [{ name: 'q', value: fromRef(q) }, { name: 'k', value: fromRef(kv) }, { name: 'v', value: fromRef(v) }], (g, qi, ki, vi) =>
        kind === 'fused' ? fusedAttention(g, qi!, ki!, vi!, 4) : attention(g, qi!, ki!, vi!, 4, 8),
      );
      assert.ok(maxAbsDiff(out, ref.attention(q, kv, v, 4)) <= TOLERANCE);
    });
  }

  it('timestep embedding (float32 like the original; within 1e-4 of the float64 reference)', async () => {
    const t = { dims: [3], data: new Float32Array([0, 500, 999]) };
    const out = await runSubgraph(null, [{ name: 't', value: t }], (g, ti) => buildTimestepEmbedding(g, ti!, 64));
    assert.ok(maxAbsDiff(out, ref.timestepEmbedding([0, 500, 999], 64)) <= TOLERANCE);
  });

  it('res block with a projected skip connection', async () => {
    // The first block of the second level changes the channel count, so it has skip_connection.
    const block = cfg.numResBlocks[0]! + 2;
    const prefix = `${p()}input_blocks.${block}.0.`;
    assert.ok(sd15.header.tensors.has(`${prefix}skip_connection.weight`));
    const cin = cfg.modelChannels * cfg.channelMult[0]!;
    const x = sampleInput([2, cin, 4, 4], 7);
    const emb = sampleInput([2, 4 * cfg.modelChannels], 8);
    const out = await runSubgraph(sd15.header, [{ name: 'x', value: fromRef(x) }, { name: 'emb', value: fromRef(emb) }], (g, xi, ei) => {
      const u: UnetContext = { g, cfg, opts: { attention: 'fused' }, embSilu: g.op('Mul', [ei!, g.op('Sigmoid', [ei!])]), context: '' };
      return buildResBlock(u, xi!, prefix);
    });
    assert.ok(maxAbsDiff(out, resBlockReference(sd15.weights, prefix, x, emb, cfg.groups)) <= TOLERANCE);
  });

  it('spatial transformer (conv projections, self + cross attention, GEGLU)', async () => {
    const block = cfg.inputTransformerDepth.findIndex((d) => d > 0);
    const prefix = `${p()}input_blocks.${block}.1.`;
    const c = cfg.modelChannels * cfg.channelMult[0]!;
    const x = sampleInput([2, c, 4, 4], 9);
    const context = sampleInput([2, 77, cfg.contextDim], 10);
    const heads = attentionHeads(cfg, c);
    const out = await runSubgraph(sd15.header, [{ name: 'x', value: fromRef(x) }, { name: 'ctx', value: fromRef(context) }], (g, xi, ci) => {
      const u: UnetContext = { g, cfg, opts: { attention: 'fused' }, embSilu: '', context: ci! };
      return buildSpatialTransformer(u, xi!, prefix, cfg.inputTransformerDepth[block]!, c);
    });
    const expected = spatialTransformerReference(sd15.weights, prefix, x, context, { heads, depth: cfg.inputTransformerDepth[block]!, linearProjection: cfg.linearProjection, groups: cfg.groups });
    assert.ok(maxAbsDiff(out, expected) <= TOLERANCE);
  });

  it('downsample (stride-2 conv) and upsample (nearest 2x then conv)', async () => {
    const down = `${p()}input_blocks.${cfg.numResBlocks[0]! + 1}.0.`;
    const c0 = cfg.modelChannels * cfg.channelMult[0]!;
    const x = sampleInput([1, c0, 8, 8], 11);
    const d = await runSubgraph(sd15.header, [{ name: 'x', value: fromRef(x) }], (g, xi) => conv2d(g, xi!, `${down}op.`, { stride: 2, padding: 1 }));
    assert.ok(maxAbsDiff(d, downsampleReference(sd15.weights, down, x)) <= TOLERANCE);

    const lastLevel = cfg.channelMult.length - 1;
    const upBlock = cfg.numResBlocks[lastLevel]!;
    const sub = (cfg.outputTransformerDepth[upBlock] ?? 0) > 0 ? 2 : 1;
    const up = `${p()}output_blocks.${upBlock}.${sub}.`;
    const c1 = cfg.modelChannels * cfg.channelMult[lastLevel]!;
    const y = sampleInput([1, c1, 4, 4], 12);
    const u = await runSubgraph(sd15.header, [{ name: 'y', value: fromRef(y) }], (g, yi) => conv2d(g, upsampleNearest2x(g, yi!), `${up}conv.`));
    assert.ok(maxAbsDiff(u, upsampleReference(sd15.weights, up, y)) <= TOLERANCE);
  });
});

describe('whole tiny UNets against the reference', () => {
  const cases = [
    ...(['sd15', 'sdxl', 'sdxl-refiner'] as const).flatMap((family) => (['fused', 'plain'] as const).map((kind) => ({ family, kind, options: {} }))),
    { family: 'sdxl', kind: 'fused', options: { dtype: 'F16' } },
    { family: 'sd15', kind: 'fused', options: { inpaint: true } },
  ] as const;
  for (const { family, kind, options } of cases) {
    {
      const label = Object.entries(options).map(([k, v]) => `${k} ${String(v)}`).join(', ');
      it(`${family} (${kind} attention${label ? `, ${label}` : ''}): batch 2, 8x8 latent, max abs error <= 1e-4`, async (t) => {
        const fx = await loadTinyFixture(family, options);
        try {
          const cfg = fx.architecture.unet!;
          const session = await createModelSession(encodeOnnxModel(buildUnetGraph(fx.header, cfg, { attention: kind })), (await import('node:path')).dirname(fx.file));
          const x = sampleInput([2, cfg.inChannels, 8, 8], 21);
          const context = sampleInput([2, 77, cfg.contextDim], 22);
          const y = cfg.admInChannels === null ? null : sampleInput([2, cfg.admInChannels], 23);
          const feeds = { x: fromRef(x), timesteps: { dims: [2], data: new Float32Array([999, 13]) }, context: fromRef(context), ...(y ? { y: fromRef(y) } : {}) };
          const out = (await session.run(feeds)).out!;
          await session.release();
          const expected = unetReference(fx.weights, cfg, x, [999, 13], context, y);
          const err = maxAbsDiff(out, expected);
          t.diagnostic(`max abs error ${err.toExponential(2)}`);
          assert.ok(err <= TOLERANCE, `max abs error ${err}`);
        } finally {
          fx.cleanup();
        }
      });
    }
  }
});

