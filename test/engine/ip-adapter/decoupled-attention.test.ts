/**
 * The UNet graph with image prompt inputs against the reference UNet with decoupled cross-attention added to
 * every cross-attention layer, and the IP-Adapter's key/value projections against plain matrix products.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ipAdapterLayerOrder, ipKeyInput, ipValueInput, IP_SCALE_INPUT } from '../../../src/engine/graphs/decoupled-attention.ts';
import { buildIpKeyValueGraph } from '../../../src/engine/graphs/ip-key-value.ts';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import { detectIpAdapter, ipLayerKey } from '../../../src/engine/ip-adapter/ip-adapter-layout.ts';
import type { UnetConfig } from '../../../src/engine/models/architecture.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { generateTinyIpAdapter, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { imagePromptAttentionReference } from '../../reference/image-prompt.ts';
import { linear } from '../../reference/ops.ts';
import { unetReference } from '../../reference/unet.ts';
import { fromRef, loadTinyFixture, maxAbsDiff, sampleInput, type TinyFixture } from '../graphs/graph-harness.ts';
import { ipLayerWidths } from '../pipeline/guidance-harness.ts';

const TOLERANCE = 1e-4;

describe('decoupled cross-attention in the UNet graph', () => {
  let fx: TinyFixture;
  let cfg: UnetConfig;
  before(async () => {
    fx = await loadTinyFixture('sdxl');
    cfg = fx.architecture.unet!;
  });
  after(() => fx.cleanup());

  it('numbers the cross-attention layers input blocks, output blocks, then middle', () => {
    const order = ipAdapterLayerOrder(cfg).map((p) => p.slice(cfg.prefix.length, p.indexOf('.transformer_blocks')));
    assert.deepEqual(order, ['input_blocks.5.1', 'input_blocks.5.1', 'output_blocks.0.1', 'output_blocks.0.1', 'output_blocks.1.1', 'output_blocks.1.1', 'middle_block.1']);
  });

  for (const kind of ['plain', 'fused'] as const) {
    it(`matches the reference with two image prompts (${kind} attention)`, async (t) => {
      const order = ipAdapterLayerOrder(cfg);
      const widths = ipLayerWidths(fx.header, cfg);
      const [B, P, T] = [2, 2, 3];
      const keys = widths.map((w, i) => sampleInput([B, P, T, w], 40 + i));
      const values = widths.map((w, i) => sampleInput([B, P, T, w], 60 + i));
      const scales = order.map((_, i) => [0.6 + 0.1 * i, i % 2 === 0 ? 1.5 : 0]);
      const session = await createModelSession(encodeOnnxModel(buildUnetGraph(fx.header, cfg, { attention: kind, imagePrompts: true })), path.dirname(fx.file));
      const x = sampleInput([B, cfg.inChannels, 8, 8], 21);
      const context = sampleInput([B, 5, cfg.contextDim], 22);
      const y = sampleInput([B, cfg.admInChannels!], 23);
      const feeds: Record<string, Tensor> = { x: fromRef(x), timesteps: { dims: [B], data: new Float32Array([999, 13]) }, context: fromRef(context), y: fromRef(y) };
      order.forEach((_, i) => {
        feeds[ipKeyInput(i)] = fromRef(keys[i]!);
        feeds[ipValueInput(i)] = fromRef(values[i]!);
      });
      feeds[IP_SCALE_INPUT] = { dims: [order.length, P], data: Float32Array.from(scales.flat()) };
      const out = (await session.run(feeds)).out!;
      await session.release();
      const extra = (prefix: string, q: Parameters<typeof imagePromptAttentionReference>[0], heads: number) => {
        const i = order.indexOf(prefix);
        return imagePromptAttentionReference(q, keys[i]!, values[i]!, scales[i]!, heads);
      };
      const expected = unetReference(fx.weights, cfg, x, [999, 13], context, y, extra);
      const err = maxAbsDiff(out, expected);
      t.diagnostic(`max abs error ${err.toExponential(2)}`);
      assert.ok(err <= TOLERANCE, `max abs error ${err}`);
      const plain = unetReference(fx.weights, cfg, x, [999, 13], context, y);
      assert.ok(maxAbsDiff(out, plain) > 1e-3, 'the image prompts change the prediction');
    });
  }

  it('projects image tokens into every layer’s keys and values', async () => {
    const widths = ipLayerWidths(fx.header, cfg);
    const file = await writeTinyModel(path.dirname(fx.file), 'ip.safetensors', generateTinyIpAdapter(widths, cfg.contextDim));
    const header = await readSafetensorsHeader(file);
    const ip = detectIpAdapter(header);
    const session = await createModelSession(encodeOnnxModel(buildIpKeyValueGraph(header, ip)), path.dirname(file));
    const tokens = sampleInput([1, 4, cfg.contextDim], 9);
    const out = await session.run({ image_tokens: fromRef(tokens) });
    await session.release();
    for (let i = 0; i < widths.length; i++) {
      for (const which of ['k', 'v'] as const) {
        const w = { shape: [widths[i]!, cfg.contextDim], data: await readTensorAsFloat32(header, ipLayerKey(i, which)) };
        assert.ok(maxAbsDiff(out[`${which}.${i}`]!, linear(tokens, w, null)) <= TOLERANCE, `${which}.${i}`);
      }
    }
  });
});
