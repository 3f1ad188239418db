/**
 * The Input Image mode in image metadata: written by both schemes under Fooocus's names, read back unchanged, read
 * from what Fooocus itself writes (its fast upscale's `upscale_fast`, its outpaint sides without sizes), and a bad
 * value refused naming the key as written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatA1111Parameters } from '../../../src/engine/output/a1111-metadata-scheme.ts';
import { formatFooocusJson } from '../../../src/engine/output/fooocus-metadata-scheme.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import type { GenerationParameters, InputImageParameters } from '../../../src/engine/output/generation-parameters.ts';
import { assertInputImageRoundTrip, assertRefusedNaming, fooocusJsonOf, lighthouseParameters } from './metadata-round-trip.ts';

const base: GenerationParameters = { ...lighthouseParameters, performance: 'Speed', denoise: 1 };

const inpaint: InputImageParameters = {
  inpaintMethod: 'Improve Detail (face, hand, eyes, etc.)',
  inpaintEngine: 'latent-blend',
  inpaintStrength: 0.5,
  inpaintRespectiveField: 0,
  inpaintErodeOrDilate: -8,
  invertMask: true,
  inpaintAdditionalPrompt: 'a red hat, detailed: sharp',
  outpaint: [
    { side: 'Left', size: '30%' },
    { side: 'Top', size: '128px' },
  ],
};
const upscale: InputImageParameters = { uovMethod: 'Upscale (Custom)', upscaleFactor: 2.5, upscaler: 'fooocus_upscaler_s409985e5' };

describe('Input Image metadata', () => {
  for (const [name, inputImage] of [['inpaint and outpaint', inpaint], ['a custom upscale', upscale], ['a vary', { uovMethod: 'Vary (Strong)' }]] as const) {
    it(`round-trips ${name} through the Fooocus and A1111 schemes`, () => {
      assertInputImageRoundTrip(base, inputImage);
    });
  }

  it("writes Fooocus's keys (JSON) and labels (A1111), and none for an image made without a mode", () => {
    const json = fooocusJsonOf({ ...base, inputImage: inpaint });
    assert.equal(json.inpaint_method, inpaint.inpaintMethod);
    assert.equal(json.inpaint_engine_version, 'latent-blend');
    assert.equal(json.inpaint_strength, 0.5);
    assert.equal(json.inpaint_erode_or_dilate, -8);
    assert.equal(json.outpaint_selections, "['Left', 'Top']");
    const text = formatA1111Parameters({ ...base, inputImage: inpaint });
    assert.match(text, /Inpaint Mode: "Improve Detail \(face, hand, eyes, etc\.\)"/);
    assert.match(text, /Mask Erode or Dilate: -8/);
    assert.match(text, /Outpaint Direction: "\['Left', 'Top'\]"/);
    const plain = formatFooocusJson(base);
    assert.doesNotMatch(plain, /uov_method|inpaint_|outpaint_/);
    assert.equal(parseGenerationMetadata(plain, 'fooocus').inputImage, undefined);
  });

  it('reads what Fooocus writes: upscale_fast, and outpaint sides without sizes (30 % each)', () => {
    const fast = fooocusJsonOf(base);
    fast.upscale_fast = '2x';
    assert.deepEqual(parseGenerationMetadata(JSON.stringify(fast), 'fooocus').inputImage, { uovMethod: 'Upscale (Fast 2x)' });
    const sides = fooocusJsonOf(base);
    sides['Outpaint Direction'] = "['Right', 'Bottom']";
    sides['Inpaint Mode'] = 'Inpaint or Outpaint (default)';
    assert.deepEqual(parseGenerationMetadata(JSON.stringify(sides), 'fooocus').inputImage, {
      inpaintMethod: 'Inpaint or Outpaint (default)',
      outpaint: [
        { side: 'Right', size: '30%' },
        { side: 'Bottom', size: '30%' },
      ],
    });
    // Neither lands among the unknown extras.
    assert.equal(parseGenerationMetadata(JSON.stringify(sides), 'fooocus').extra, undefined);
  });

  for (const [key, value, field] of [
    ['inpaint_strength', 1.5, 'inpaint_strength'],
    ['outpaint_selections', "['Middle']", 'outpaint_selections'],
    ['invert_mask_checkbox', 'maybe', 'invert_mask_checkbox'],
    ['inpaint_erode_or_dilate', 2.5, 'inpaint_erode_or_dilate'],
  ] as const) {
    it(`refuses ${key} = ${JSON.stringify(value)} naming it`, () => {
      const json = fooocusJsonOf(base);
      json[key] = value;
      assertRefusedNaming(json, field);
    });
  }
});
