import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildClipTextGraph } from '../../../src/engine/graphs/clip-text.ts';
import { buildVaeAttentionBlock, buildVaeDecoderGraph, buildVaeEncoderGraph, buildVaeResnetBlock } from '../../../src/engine/graphs/vae.ts';
import type { ClipTextConfig } from '../../../src/engine/models/architecture.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Int64Tensor, Tensor } from '../../../src/engine/tensor.ts';
import { clipTextReference } from '../../reference/clip.ts';
import { vaeAttentionReference, vaeDecodeReference, vaeEncodeReference, vaeResnetBlockReference } from '../../reference/vae.ts';
import { fromRef, loadTinyFixture, maxAbsDiff, runSubgraph, sampleInput, type TinyFixture } from './graph-harness.ts';

const TOLERANCE = 1e-4;

async function runModel(fx: TinyFixture, model: OnnxModel, feeds: Record<string, Tensor | Int64Tensor>): Promise<Record<string, Tensor>> {
  const session = await createModelSession(encodeOnnxModel(model), path.dirname(fx.file));
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

/** Two prompts: one padded with EOS (SD1 style), one with 0 (SDXL bigG style). */
function tokenRows(cfg: ClipTextConfig): number[][] {
  const eos = cfg.vocabSize - 1;
  const bos = cfg.vocabSize - 2;
  const row = (body: number[], pad: number) => [bos, ...body, eos, ...new Array<number>(cfg.maxPositions - body.length - 2).fill(pad)];
  return [row([5, 17, 42, 7], eos), row([3, 9, 11, 250, 4, 8, 19], 0)];
}

function toInt64(rows: number[][]): Int64Tensor {
  return { dims: [rows.length, rows[0]!.length], data: BigInt64Array.from(rows.flat().map(BigInt)) };
}

describe('CLIP text encoder graphs against the reference', () => {
  const cases = [
    { family: 'sd15', encoder: 0, label: 'CLIP-L (HF layout)' },
    { family: 'sdxl', encoder: 0, label: 'SDXL CLIP-L' },
    { family: 'sdxl', encoder: 1, label: 'SDXL OpenCLIP bigG (packed attention, exact GELU, projection)' },
  ] as const;
  for (const c of cases) {
    it(`${c.label}: last layer, penultimate raw and penultimate normed, pooled`, async () => {
      const fx = await loadTinyFixture(c.family);
      try {
        const cfg = fx.architecture.textEncoders[c.encoder]!;
        const rows = tokenRows(cfg);
        for (const [clipSkip, finalLayerNorm] of [[1, true], [2, false], [2, true]] as const) {
          const out = await runModel(fx, buildClipTextGraph(fx.header, cfg, { clipSkip, finalLayerNorm }), { tokens: toInt64(rows) });
          const expected = clipTextReference(fx.weights, cfg, rows, { outputLayer: clipSkip === 1 ? 'last' : 'penultimate', finalLayerNorm });
          const err = maxAbsDiff(out.hidden!, expected.hidden);
          assert.ok(err <= TOLERANCE, `hidden (skip ${clipSkip}, norm ${finalLayerNorm}): max abs error ${err}`);
          if (expected.pooled !== null) {
            const perr = maxAbsDiff(out.pooled!, expected.pooled);
            assert.ok(perr <= TOLERANCE, `pooled: max abs error ${perr}`);
          }
        }
      } finally {
        fx.cleanup();
      }
    });
  }

  it('rejects a CLIP skip beyond the layer count, naming the range', async () => {
    const fx = await loadTinyFixture('sd15');
    try {
      const cfg = fx.architecture.textEncoders[0]!;
      assert.throws(() => buildClipTextGraph(fx.header, cfg, { clipSkip: cfg.layers + 1 }), /clipSkip must be an integer in 1\.\./);
    } finally {
      fx.cleanup();
    }
  });
});

describe('VAE graphs against the reference', () => {
  for (const attentionAsLinear of [false, true]) {
    it(`decoder and encoder (attention as ${attentionAsLinear ? 'linear' : '1x1 conv'})`, async () => {
      const fx = await loadTinyFixture('sd15', { vaeLinearAttention: attentionAsLinear });
      try {
        const cfg = fx.architecture.vae!;
        const z = sampleInput([2, cfg.latentChannels, 4, 4], 31);
        const decoded = await runModel(fx, buildVaeDecoderGraph(fx.header, cfg), { latent: fromRef(z) });
        const derr = maxAbsDiff(decoded.image!, vaeDecodeReference(fx.weights, cfg, z));
        assert.ok(derr <= TOLERANCE, `decoder: max abs error ${derr}`);

        const img = sampleInput([2, cfg.imageChannels, 16, 16], 32);
        const encoded = await runModel(fx, buildVaeEncoderGraph(fx.header, cfg), { image: fromRef(img) });
        const eerr = maxAbsDiff(encoded.latent!, vaeEncodeReference(fx.weights, cfg, img));
        assert.ok(eerr <= TOLERANCE, `encoder: max abs error ${eerr}`);
      } finally {
        fx.cleanup();
      }
    });
  }

  it('resnet block and mid-block attention', async () => {
    const fx = await loadTinyFixture('sd15');
    try {
      const cfg = fx.architecture.vae!;
      const prefix = `${cfg.prefix}decoder.mid.`;
      const c = cfg.baseChannels * cfg.channelMult[cfg.channelMult.length - 1]!;
      const x = sampleInput([1, c, 4, 4], 33);
      const res = await runSubgraph(fx.header, [{ name: 'x', value: fromRef(x) }], (g, xi) => buildVaeResnetBlock(g, cfg, xi!, `${prefix}block_1.`));
      assert.ok(maxAbsDiff(res, vaeResnetBlockReference(fx.weights, `${prefix}block_1.`, x, cfg.groups)) <= TOLERANCE);
      const att = await runSubgraph(fx.header, [{ name: 'x', value: fromRef(x) }], (g, xi) => buildVaeAttentionBlock(g, cfg, xi!, `${prefix}attn_1.`));
      assert.ok(maxAbsDiff(att, vaeAttentionReference(fx.weights, `${prefix}attn_1.`, x, { asLinear: cfg.attentionAsLinear, groups: cfg.groups })) <= TOLERANCE);
    } finally {
      fx.cleanup();
    }
  });
});
