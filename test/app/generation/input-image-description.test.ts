/**
 * A request's Input Image mode recorded in metadata under Fooocus's labels and read back to the same choices, so
 * a dropped image or history Reuse asks for what was asked (the mask excepted: it is not in the file).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InpaintChoice, VaryUpscaleChoice } from '../../../src/app/generation/image-request.ts';
import { describeInputImage, readInputImageChoices } from '../../../src/app/generation/input-image-description.ts';
import { formatA1111Parameters } from '../../../src/engine/output/a1111-metadata-scheme.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import type { GenerationParameters } from '../../../src/engine/output/generation-parameters.ts';

const base: GenerationParameters = {
  prompt: 'a harbour', negativePrompt: '', styles: [], steps: 30, sampler: 'euler', scheduler: 'karras', cfg: 4, sharpness: 2,
  adaptiveCfg: 7, seed: '1', width: 1024, height: 1024, modelName: 'm', modelHash: '', clipSkip: 2, version: 'test',
};

describe('Input Image choices in metadata', () => {
  const varies: VaryUpscaleChoice[] = [
    { mode: 'vary-subtle' },
    { mode: 'vary-strong' },
    { mode: 'upscale-1.5x', upscaler: 'RealESRGAN_x4plus.safetensors' },
    { mode: 'upscale-2x' },
    { mode: 'upscale-fast-2x' },
    { mode: 'upscale-custom', factor: 3.25 },
  ];
  const inpaints: InpaintChoice[] = [
    { mode: 'default' },
    { mode: 'detail', engine: 'latent-blend', strength: 0.4, respectiveField: 0.2, maskErode: 12, invertMask: false, additionalPrompt: 'eyes' },
    { mode: 'modify', engine: 'fooocus-v2.6' },
    { mode: 'default', engine: 'inpaint-checkpoint', outpaint: { right: { percent: 25 }, left: { px: 96 }, bottom: { percent: 30 } } },
  ];
  for (const varyUpscale of varies) {
    it(`records ${varyUpscale.mode} and reads it back`, () => {
      const record = describeInputImage({ varyUpscale });
      const read = parseGenerationMetadata(formatA1111Parameters({ ...base, inputImage: record! }), 'a1111');
      assert.deepEqual(readInputImageChoices(read.inputImage), { varyUpscale });
    });
  }
  for (const inpaint of inpaints) {
    it(`records inpaint ${JSON.stringify(inpaint)} without its mask and reads it back`, () => {
      const record = describeInputImage({ inpaint: { ...inpaint, mask: 'uploads/x/up-AAAAAAAAAAAAAAAA.png' } });
      assert.ok(!JSON.stringify(record).includes('uploads'), 'no mask path in the metadata');
      const read = parseGenerationMetadata(formatA1111Parameters({ ...base, inputImage: record! }), 'a1111');
      assert.deepEqual(readInputImageChoices(read.inputImage), { inpaint });
    });
  }

  it("uses Fooocus's labels", () => {
    assert.equal(describeInputImage({ varyUpscale: { mode: 'upscale-fast-2x' } })?.uovMethod, 'Upscale (Fast 2x)');
    assert.equal(describeInputImage({ inpaint: { mode: 'modify', engine: 'fooocus-v2.6' } })?.inpaintMethod, 'Modify Content (add objects, change background, etc.)');
    assert.equal(describeInputImage({ inpaint: { mode: 'modify', engine: 'fooocus-v2.6' } })?.inpaintEngine, 'v2.6');
    assert.equal(describeInputImage({}), undefined);
  });
});
