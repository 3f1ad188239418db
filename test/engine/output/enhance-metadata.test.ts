/** The Enhance record in both metadata schemes: written, read back unchanged, and a malformed value refused by its key. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidMetadataError, type EnhanceRecord, type GenerationParameters } from '../../../src/engine/output/generation-parameters.ts';
import { readEnhanceRecord } from '../../../src/engine/output/enhance-metadata.ts';
import { assertInputImageRoundTrip } from './metadata-round-trip.ts';

const base: GenerationParameters = {
  prompt: 'a harbour', negativePrompt: '', styles: [], steps: 30, sampler: 'euler', scheduler: 'karras', cfg: 4, sharpness: 2,
  adaptiveCfg: 7, seed: '1', width: 1024, height: 1024, modelName: 'm', modelHash: '', clipSkip: 2, version: 'test',
};

const record: EnhanceRecord = {
  tabs: [
    { detectionPrompt: 'person', prompt: 'a knight, "shining" armour', maskModel: 'u2net.onnx', mode: 'default', strength: 1, respectiveField: 0.618, boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0, regions: 1, skipped: false },
    { detectionPrompt: 'background', negative: 'blur', mode: 'detail', maskErode: -8, invertMask: true, regions: 0, skipped: true },
  ],
  varyUpscale: { mode: 'upscale-2x', upscaler: 'RealESRGAN_x4plus.safetensors' },
  varyUpscaleOrder: 'after',
};

describe('Enhance in image metadata', () => {
  it('round-trips through the Fooocus and A1111 schemes', () => {
    assertInputImageRoundTrip(base, { enhance: record });
  });

  it('refuses a malformed record naming the key, and drops fields it does not know', () => {
    assert.throws(() => readEnhanceRecord('enhance_tabs', '{"tabs":'), (e: unknown) => e instanceof InvalidMetadataError && /enhance_tabs/.test(e.message));
    assert.throws(() => readEnhanceRecord('enhance_tabs', '{"tabs":[{"prompt":"x"}]}'), /no detectionPrompt/);
    assert.throws(() => readEnhanceRecord('enhance_tabs', '{"tabs":[{"detectionPrompt":"face","strength":"high"}]}'), /strength is not a number/);
    assert.deepEqual(readEnhanceRecord('enhance_tabs', '{"tabs":[{"detectionPrompt":"face","__proto__":{"x":1},"script":"y"}]}'), { tabs: [{ detectionPrompt: 'face' }] });
  });
});
