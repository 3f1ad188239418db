import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generate } from '../../../src/engine/pipeline/generate.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / a.length));
}

/**
 * The tiny fixtures' fp16 images measured 57-59 dB against fp32 on the CPU provider; 40 dB is the level the int8
 * section of the README calls "as faithful as fp16", while a wrong island or cast gives a different picture.
 */
const MIN_PSNR_DB = 40;

for (const family of ['sd15', 'sdxl'] as const) {
  describe(`text-to-image with float16 UNet and text encoders on the CPU provider (tiny ${family} model)`, () => {
    let fp32: LoadedTinyModel;
    let fp16: LoadedTinyModel;
    before(async () => {
      fp32 = await loadTinyPipelineModel(family);
      fp16 = await loadTinyPipelineModel(family, 1, { float16: true });
    });
    after(async () => {
      await fp32.release();
      await fp16.release();
    });

    it('gives byte-identical pixels run to run at the same seed, close to the fp32 image', async () => {
      const [a] = await generate({ base: fp16.model }, tinyRequest());
      const [b] = await generate({ base: fp16.model }, tinyRequest());
      const [reference] = await generate({ base: fp32.model }, tinyRequest());
      assert.deepEqual(a!.image.rgb, b!.image.rgb);
      assert.notDeepEqual(a!.image.rgb, reference!.image.rgb, 'the float16 graphs were used');
      const db = psnr(a!.image.rgb, reference!.image.rgb);
      assert.ok(db >= MIN_PSNR_DB, `PSNR ${db.toFixed(1)} dB against fp32`);
    });
  });
}
