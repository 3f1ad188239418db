import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { LATENT_RGB_MAPS, previewLatentToRgb } from '../../../src/engine/guidance/latent-preview.ts';
import { createTensor } from '../../../src/engine/tensor.ts';
import { createNormalRandom } from '../../../src/engine/random/seeded-normal.ts';
import { referencePreviewPixel } from '../../reference/guidance-reference.ts';

describe('previewLatentToRgb', () => {
  it('returns an RGBA image at the latent resolution', () => {
    const preview = previewLatentToRgb(createTensor([1, 4, 5, 7]), 'sdxl');
    assert.equal(preview.width, 7);
    assert.equal(preview.height, 5);
    assert.equal(preview.rgba.length, 5 * 7 * 4);
    for (let p = 0; p < 35; p++) assert.equal(preview.rgba[p * 4 + 3], 255);
  });

  it('maps a latent of zeros to the bias colour: SDXL (141, 125, 127), SD1.5 mid-grey 128', () => {
    // (bias + 1) * 127.5: 1.1084 -> 141.32, 0.9825 -> 125.27, 0.9989 -> 127.36; SD1.5 has no bias: 127.5 -> 128 (ties to even)
    assert.deepEqual([...previewLatentToRgb(createTensor([1, 4, 2, 2]), 'sdxl').rgba.subarray(0, 4)], [141, 125, 127, 255]);
    assert.deepEqual([...previewLatentToRgb(createTensor([1, 4, 2, 2]), 'sd15').rgba.subarray(0, 4)], [128, 128, 128, 255]);
  });

  it('applies the published factors per pixel and clamps to 0..255', () => {
    const normal = createNormalRandom(3);
    const h = 3;
    const w = 4;
    const latent = createTensor([1, 4, h, w], Float32Array.from({ length: 4 * h * w }, () => normal() * 1.5));
    for (const family of ['sd15', 'sdxl'] as const) {
      const { rgba } = previewLatentToRgb(latent, family);
      const { factors, bias } = LATENT_RGB_MAPS[family];
      for (let p = 0; p < h * w; p++) {
        const pixel = [0, 1, 2, 3].map((c) => latent.data[c * h * w + p]!);
        const expected = referencePreviewPixel(pixel, factors.map((row) => [...row]), bias);
        for (let k = 0; k < 3; k++) assert.ok(Math.abs(rgba[p * 4 + k]! - expected[k]!) <= 1, `${family} pixel ${p} channel ${k}`);
      }
    }
    const extremes = createTensor([1, 4, 1, 2], Float32Array.from([10, -10, 0, 0, 0, 0, 0, 0])); // channel 0 = +-10
    assert.deepEqual([...previewLatentToRgb(extremes, 'sd15').rgba], [255, 255, 255, 255, 0, 0, 0, 255]);
  });

  it('rejects a latent without 4 channels', () => {
    assert.throws(() => previewLatentToRgb(createTensor([1, 3, 2, 2]), 'sd15'), /\[B, 4, h, w\]/);
  });
});
