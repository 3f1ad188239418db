/**
 * An image through the whole image prompt encoder (vision encoder, Resampler, key/value projections) against the
 * reference chain, the unconditional side from the negative features, and the refusals of files that do not fit
 * together or do not fit the UNet.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import { preprocessClipImage } from '../../../src/engine/ip-adapter/clip-image-preprocess.ts';
import { loadImagePromptEncoder } from '../../../src/engine/ip-adapter/image-prompt-encoder.ts';
import { ImagePromptModelError } from '../../../src/engine/ip-adapter/image-prompt-model-error.ts';
import { ipLayerKey } from '../../../src/engine/ip-adapter/ip-adapter-layout.ts';
import { detectVisionEncoder } from '../../../src/engine/ip-adapter/vision-encoder-layout.ts';
import { float32ToFloat16Bits } from '../../../src/engine/io/half-float.ts';
import type { TensorToWrite } from '../../../src/engine/io/safetensors-types.ts';
import type { UnetConfig } from '../../../src/engine/models/architecture.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, TINY_RESAMPLER, TINY_VISION, TINY_VISION_TOKENS, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { resamplerReference, visionEncoderReference } from '../../reference/image-prompt.ts';
import { linear } from '../../reference/ops.ts';
import { weightSourceFromMap, type RefTensor } from '../../reference/tensor.ts';
import { loadTinyFixture, maxAbsDiff, type TinyFixture } from '../graphs/graph-harness.ts';
import { ipLayerWidths } from '../pipeline/guidance-harness.ts';

const TOLERANCE = 1e-4;
const overrides = { heads: TINY_VISION.heads, activation: 'gelu' as const };

/** The same tower stored as float16 (Fooocus's clip_vision_vit_h.safetensors is a float16 file). */
function toFloat16(tensors: readonly TensorToWrite[]): TensorToWrite[] {
  return tensors.map((t) => {
    const values = new Float32Array((t.data as Uint8Array).slice().buffer);
    return { ...t, dtype: 'F16', data: new Uint8Array(Uint16Array.from(values, float32ToFloat16Bits).buffer) };
  });
}

async function weightsOf(file: string) {
  const header = await readSafetensorsHeader(file);
  const map = new Map<string, RefTensor>();
  for (const [name, info] of header.tensors) map.set(name, { shape: info.shape, data: await readTensorAsFloat32(header, name) });
  return weightSourceFromMap(map);
}

describe('image prompt encoder', () => {
  let fx: TinyFixture;
  let cfg: UnetConfig;
  let widths: number[];
  let files: { visionEncoder: string; adapter: string; negative: string };
  before(async () => {
    fx = await loadTinyFixture('sdxl');
    cfg = fx.architecture.unet!;
    widths = ipLayerWidths(fx.header, cfg);
    const dir = path.dirname(fx.file);
    files = {
      visionEncoder: await writeTinyModel(dir, 'clip_vision_tiny.safetensors', generateTinyVisionEncoder()),
      adapter: await writeTinyModel(dir, 'ip-adapter-plus_tiny.safetensors', generateTinyIpAdapter(widths, cfg.contextDim)),
      negative: await writeTinyModel(dir, 'ip_negative_tiny.safetensors', generateTinyIpNegative()),
    };
  });
  after(() => fx.cleanup());

  it('gives the keys and values of the reference chain for the image and for the negative features', async () => {
    const encoder = await loadImagePromptEncoder(files, cfg, widths, { visionOverrides: overrides, runtime: { threads: 1 } });
    const image = { width: 24, height: 20, rgb: new Uint8Array(24 * 20 * 3).map((_, i) => (i * 53 + 7) % 256) };
    const embedding = await encoder.encode(image, 'ImagePrompt', { stopAt: 0.5, weight: 0.6 });
    await encoder.release();
    const pixels = preprocessClipImage(image, TINY_VISION.imageSize);
    const features = visionEncoderReference(await weightsOf(files.visionEncoder), { ...TINY_VISION, activation: 'gelu' }, { shape: [...pixels.dims], data: pixels.data });
    const adapter = await weightsOf(files.adapter);
    const tokens = resamplerReference(adapter, TINY_RESAMPLER, features);
    const negativeFeatures = (await weightsOf(files.negative))('data');
    const negativeTokens = resamplerReference(adapter, TINY_RESAMPLER, negativeFeatures);
    assert.equal(embedding.positive.keys.length, widths.length);
    widths.forEach((_, i) => {
      assert.ok(maxAbsDiff(embedding.positive.keys[i]!, linear(tokens, adapter(ipLayerKey(i, 'k')), null)) <= TOLERANCE, `k.${i}`);
      assert.ok(maxAbsDiff(embedding.positive.values[i]!, linear(tokens, adapter(ipLayerKey(i, 'v')), null)) <= TOLERANCE, `v.${i}`);
      assert.ok(maxAbsDiff(embedding.negative.keys[i]!, linear(negativeTokens, adapter(ipLayerKey(i, 'k')), null)) <= TOLERANCE, `negative k.${i}`);
    });
    assert.deepEqual({ type: embedding.type, stopAt: embedding.stopAt, weight: embedding.weight }, { type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 });
  });

  it("reads the IP-Adapter publisher's encoder file (float32, with the int64 position_ids older transformers saved) and a float16 copy alike", async () => {
    const dir = path.dirname(fx.file);
    const tower = generateTinyVisionEncoder();
    const positionIds: TensorToWrite = { name: 'vision_model.embeddings.position_ids', dtype: 'I64', shape: [1, TINY_VISION_TOKENS], data: new Uint8Array(BigInt64Array.from({ length: TINY_VISION_TOKENS }, (_, i) => BigInt(i)).buffer) };
    const publisher = await writeTinyModel(dir, 'image_encoder_model.safetensors', [...tower.slice(0, 3), positionIds, ...tower.slice(3)]);
    const half = await writeTinyModel(dir, 'clip_vision_half.safetensors', toFloat16(tower));
    const image = { width: 20, height: 20, rgb: new Uint8Array(20 * 20 * 3).map((_, i) => (i * 31 + 5) % 256) };
    const encode = async (visionEncoder: string) => {
      const encoder = await loadImagePromptEncoder({ ...files, visionEncoder }, cfg, widths, { visionOverrides: overrides, runtime: { threads: 1 } });
      try {
        return await encoder.encode(image, 'ImagePrompt', { stopAt: 0.5, weight: 0.6 });
      } finally {
        await encoder.release();
      }
    };
    assert.deepEqual(detectVisionEncoder(await readSafetensorsHeader(publisher), overrides), detectVisionEncoder(await readSafetensorsHeader(files.visionEncoder), overrides));
    const plain = await encode(files.visionEncoder);
    assert.deepEqual((await encode(publisher)).positive, plain.positive, 'the position_ids buffer changes nothing');
    // The float16 file against the reference chain on its own (rounded) weights.
    const pixels = preprocessClipImage(image, TINY_VISION.imageSize);
    const features = visionEncoderReference(await weightsOf(half), { ...TINY_VISION, activation: 'gelu' }, { shape: [...pixels.dims], data: pixels.data });
    const adapter = await weightsOf(files.adapter);
    const tokens = resamplerReference(adapter, TINY_RESAMPLER, features);
    const fromHalf = await encode(half);
    widths.forEach((_, i) => assert.ok(maxAbsDiff(fromHalf.positive.keys[i]!, linear(tokens, adapter(ipLayerKey(i, 'k')), null)) <= TOLERANCE, `k.${i}`));
  });

  it('refuses an adapter for another UNet, swapped files and a negative of the wrong shape, naming the file', async () => {
    const dir = path.dirname(fx.file);
    const otherFamily = await writeTinyModel(dir, 'ip-adapter-sd15_tiny.safetensors', generateTinyIpAdapter([64, 64], cfg.contextDim));
    const isModelError = (name: string) => (err: unknown) => err instanceof ImagePromptModelError && err.message.includes(name);
    await assert.rejects(loadImagePromptEncoder({ ...files, adapter: otherFamily }, cfg, widths, { visionOverrides: overrides }), isModelError('ip-adapter-sd15_tiny.safetensors'));
    await assert.rejects(loadImagePromptEncoder({ ...files, adapter: files.visionEncoder }, cfg, widths, { visionOverrides: overrides }), isModelError('clip_vision_tiny.safetensors'));
    await assert.rejects(loadImagePromptEncoder({ ...files, visionEncoder: files.adapter }, cfg, widths, { visionOverrides: overrides }), isModelError('ip-adapter-plus_tiny.safetensors'));
    await assert.rejects(loadImagePromptEncoder({ ...files, negative: files.adapter }, cfg, widths, { visionOverrides: overrides }), isModelError('ip-adapter-plus_tiny.safetensors'));
  });
});
