import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generate } from '../../../src/engine/pipeline/generate.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / a.length));
}

/**
 * The tiny fixture's int8 image measured 30 dB against fp32 (npm run bench -- tiny:int8); 22 dB still means "the
 * same picture, slightly noisier", while a wrong layout or scale gives noise (under 12 dB).
 */
const MIN_PSNR_DB = 22;

describe('text-to-image with an int8 UNet (tiny SD1.5-like model)', () => {
  let cacheDir: string;
  let fp32: LoadedTinyModel;
  let int8: LoadedTinyModel;
  before(async () => {
    cacheDir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-int8-pipe-'));
    fp32 = await loadTinyPipelineModel('sd15');
    int8 = await loadTinyPipelineModel('sd15', 1, { int8CacheDir: cacheDir });
  });
  after(async () => {
    await fp32.release();
    await int8.release();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it('gives byte-identical pixels run to run at the same seed, close to (but not the same as) the fp32 image', async () => {
    assert.equal(int8.loaded.int8Weights?.origin, 'built');
    assert.equal(fp32.loaded.int8Weights, null);
    const [a] = await generate({ base: int8.model }, tinyRequest());
    const [b] = await generate({ base: int8.model }, tinyRequest());
    const [reference] = await generate({ base: fp32.model }, tinyRequest());
    assert.deepEqual(a!.image.rgb, b!.image.rgb);
    assert.notDeepEqual(a!.image.rgb, reference!.image.rgb, 'the int8 UNet was used');
    const db = psnr(a!.image.rgb, reference!.image.rgb);
    assert.ok(db >= MIN_PSNR_DB, `PSNR ${db.toFixed(1)} dB against fp32`);
  });

  it('a second load reads the cached weights back and makes the same image', async () => {
    // The tiny checkpoint is written the same way each time, so its SHA-256 (the cache key) is the same.
    const again = await loadTinyPipelineModel('sd15', 1, { int8CacheDir: cacheDir });
    try {
      assert.equal(again.loaded.int8Weights?.origin, 'cache');
      assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith('.safetensors')).length, 1);
      const [first] = await generate({ base: int8.model }, tinyRequest({ seed: 7n }));
      const [second] = await generate({ base: again.model }, tinyRequest({ seed: 7n }));
      assert.deepEqual(second!.image.rgb, first!.image.rgb);
    } finally {
      await again.release();
    }
  });
});
