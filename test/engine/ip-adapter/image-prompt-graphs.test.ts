/**
 * The vision encoder and Resampler graphs against plain reference forward passes on tiny fixture weights, and the
 * refusals of files that are not those models.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildClipVisionGraph } from '../../../src/engine/graphs/clip-vision.ts';
import { buildResamplerGraph } from '../../../src/engine/graphs/ip-resampler.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import { preprocessClipImage, CLIP_IMAGE_MEAN, CLIP_IMAGE_STD } from '../../../src/engine/ip-adapter/clip-image-preprocess.ts';
import { ImagePromptModelError } from '../../../src/engine/ip-adapter/image-prompt-model-error.ts';
import { detectIpAdapter } from '../../../src/engine/ip-adapter/ip-adapter-layout.ts';
import { detectVisionEncoder } from '../../../src/engine/ip-adapter/vision-encoder-layout.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { generateTinyIpAdapter, generateTinyVisionEncoder, TINY_RESAMPLER, TINY_VISION, TINY_VISION_TOKENS, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { resamplerReference, visionEncoderReference } from '../../reference/image-prompt.ts';
import { weightSourceFromMap, type RefTensor, type WeightSource } from '../../reference/tensor.ts';
import { fromRef, maxAbsDiff, sampleInput } from '../graphs/graph-harness.ts';

const TOLERANCE = 1e-4;

async function loadWeights(header: SafetensorsHeader): Promise<WeightSource> {
  const map = new Map<string, RefTensor>();
  for (const [name, info] of header.tensors) map.set(name, { shape: info.shape, data: await readTensorAsFloat32(header, name) });
  return weightSourceFromMap(map);
}

async function runGraph(model: OnnxModel, dir: string, feeds: Record<string, Tensor>): Promise<Tensor> {
  const session = await createModelSession(encodeOnnxModel(model), dir, { threads: 2 });
  try {
    const out = await session.run(feeds);
    return Object.values(out)[0]!;
  } finally {
    await session.release();
  }
}

describe('image prompt graphs against the reference', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-ip-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the vision encoder gives the penultimate hidden state', async () => {
    const header = await readSafetensorsHeader(await writeTinyModel(dir, 'vision.safetensors', generateTinyVisionEncoder()));
    const cfg = detectVisionEncoder(header, { heads: TINY_VISION.heads, activation: 'gelu' });
    assert.deepEqual(
      { width: cfg.width, layers: cfg.layers, patch: cfg.patch, imageSize: cfg.imageSize, tokens: cfg.tokens, mlpWidth: cfg.mlpWidth },
      { width: 32, layers: 3, patch: 4, imageSize: 16, tokens: TINY_VISION_TOKENS, mlpWidth: 64 },
    );
    const pixels = sampleInput([2, 3, 16, 16], 5);
    const out = await runGraph(buildClipVisionGraph(header, cfg), dir, { pixel_values: fromRef(pixels) });
    const expected = visionEncoderReference(await loadWeights(header), { ...TINY_VISION, activation: 'gelu' }, pixels);
    const err = maxAbsDiff(out, expected);
    assert.ok(err <= TOLERANCE, `max abs err ${err}`);
  });

  it('the vision encoder with quick_gelu (OpenAI towers) also matches', async () => {
    const header = await readSafetensorsHeader(await writeTinyModel(dir, 'vision-q.safetensors', generateTinyVisionEncoder(21)));
    const cfg = detectVisionEncoder(header, { heads: TINY_VISION.heads, activation: 'quick_gelu' });
    const pixels = sampleInput([1, 3, 16, 16], 6);
    const out = await runGraph(buildClipVisionGraph(header, cfg), dir, { pixel_values: fromRef(pixels) });
    const err = maxAbsDiff(out, visionEncoderReference(await loadWeights(header), { ...TINY_VISION, activation: 'quick_gelu' }, pixels));
    assert.ok(err <= TOLERANCE, `max abs err ${err}`);
  });

  it('the Resampler turns vision features into image tokens', async () => {
    const header = await readSafetensorsHeader(await writeTinyModel(dir, 'ip.safetensors', generateTinyIpAdapter([64, 64, 32], 40)));
    const cfg = detectIpAdapter(header);
    assert.deepEqual(cfg.resampler, { inputWidth: 32, width: 48, queries: 4, depth: 2, heads: 2, headDim: 64, ffWidth: 96, outputWidth: 40 });
    assert.deepEqual(cfg.layerWidths, [64, 64, 32]);
    const features = sampleInput([2, TINY_VISION_TOKENS, 32], 7);
    const out = await runGraph(buildResamplerGraph(header, cfg.resampler), dir, { image_embeds: fromRef(features) });
    const err = maxAbsDiff(out, resamplerReference(await loadWeights(header), TINY_RESAMPLER, features));
    assert.ok(err <= TOLERANCE, `max abs err ${err}`);
  });

  it('prepares an image by stretching it to the square and normalizing with CLIP mean and std', () => {
    const image = { width: 16, height: 16, rgb: new Uint8Array(16 * 16 * 3).map((_, i) => (i * 37) % 256) };
    const t = preprocessClipImage(image, 16);
    assert.deepEqual(t.dims, [1, 3, 16, 16]);
    assert.ok(Math.abs(t.data[256 + 3]! - ((image.rgb[3 * 3 + 1]! / 255 - CLIP_IMAGE_MEAN[1]) / CLIP_IMAGE_STD[1])) < 1e-6);
    const wide = preprocessClipImage({ width: 40, height: 10, rgb: new Uint8Array(40 * 10 * 3).fill(255) }, 16);
    assert.ok(Math.abs(wide.data[0]! - (1 - CLIP_IMAGE_MEAN[0]) / CLIP_IMAGE_STD[0]) < 1e-6, 'a flat image stays flat when stretched');
  });

  it('refuses a file that is not a vision encoder or an IP-Adapter, naming the file and the tensor', async () => {
    const noPatch = await readSafetensorsHeader(await writeTinyModel(dir, 'broken-vision.safetensors', generateTinyVisionEncoder(11, 'vision_model.embeddings.patch_embedding.weight')));
    assert.throws(() => detectVisionEncoder(noPatch, { heads: 2, activation: 'gelu' }), (err: unknown) => err instanceof ImagePromptModelError && /broken-vision\.safetensors.*patch_embedding/.test(err.message));
    const unknownWidth = await readSafetensorsHeader(path.join(dir, 'vision.safetensors'));
    assert.throws(() => detectVisionEncoder(unknownWidth), /no published CLIP vision tower is 32 wide/);
    assert.throws(() => detectIpAdapter(unknownWidth), (err: unknown) => err instanceof ImagePromptModelError && /vision\.safetensors.*image_proj\.latents.*not an IP-Adapter Plus/.test(err.message));
    const ip = await readSafetensorsHeader(path.join(dir, 'ip.safetensors'));
    assert.throws(() => detectVisionEncoder(ip), /ip\.safetensors.*not a CLIP vision encoder/);
  });
});
