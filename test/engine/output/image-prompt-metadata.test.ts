/**
 * Image prompts and the mixing switches in the metadata: written by both schemes (Fooocus-style keys in the JSON,
 * labels in the A1111 text) and read back the same, with the image's name and SHA-256 but never its pixels; bad
 * values are refused naming the key as written.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatA1111Parameters } from '../../../src/engine/output/a1111-metadata-scheme.ts';
import { formatFooocusJson } from '../../../src/engine/output/fooocus-metadata-scheme.ts';
import { parseGenerationMetadata } from '../../../src/engine/output/generation-metadata.ts';
import type { InputImageParameters } from '../../../src/engine/output/generation-parameters.ts';
import { assertInputImageRoundTrip, assertRefusedNaming, fooocusJsonOf, lighthouseParameters as base } from './metadata-round-trip.ts';

const sha = (c: string) => c.repeat(64);
const withPrompts: InputImageParameters = {
  uovMethod: 'Vary (Subtle)',
  imagePrompts: [
    { type: 'ImagePrompt', stopAt: 0.5, weight: 0.6, image: 'ref.png', imageSha256: sha('a') },
    { type: 'FaceSwap', stopAt: 0.9, weight: 0.75, image: 'face, "one": 2.jpg', imageSha256: sha('b') },
    { type: 'PyraCanny', stopAt: 0.45, weight: 1, image: 'edges.png', imageSha256: sha('c') },
    { type: 'CPDS', stopAt: 0, weight: 2, image: 'depth.webp', imageSha256: sha('d') },
  ],
  mixImagePromptAndVary: true,
  mixImagePromptAndInpaint: false,
};

describe('image prompt metadata', () => {
  it('round-trips four prompts and both switches through the Fooocus and the A1111 scheme', () => {
    assertInputImageRoundTrip(base, withPrompts);
    // Without a scheme name, each is recognised by its shape.
    assert.deepEqual(parseGenerationMetadata(formatFooocusJson({ ...base, inputImage: withPrompts })).inputImage, withPrompts);
  });

  it('writes Fooocus-style keys (its control names) and labels, and nothing that is not a setting', () => {
    const json = fooocusJsonOf({ ...base, inputImage: withPrompts });
    assert.equal(json.ip_type_2, 'FaceSwap');
    assert.equal(json.ip_stop_2, 0.9);
    assert.equal(json.ip_weight_3, 1.0);
    assert.equal(json.ip_image_2, 'face, "one": 2.jpg');
    assert.equal(json.ip_image_sha256_4, sha('d'));
    assert.equal(json.mixing_image_prompt_and_vary_upscale, 'True');
    assert.equal(json.mixing_image_prompt_and_inpaint, 'False');
    const text = formatA1111Parameters({ ...base, inputImage: withPrompts });
    assert.match(text, /Image Prompt 1 Type: ImagePrompt/);
    assert.match(text, /Mixing Image Prompt and Vary\/Upscale: True/);
    assert.equal(parseGenerationMetadata(formatFooocusJson({ ...base, inputImage: withPrompts }), 'fooocus').extra, undefined, 'no key is left over as unknown');
  });

  it('keeps a prompt recorded without its image (values only)', () => {
    const inputImage: InputImageParameters = { imagePrompts: [{ type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 }] };
    assert.deepEqual(parseGenerationMetadata(formatFooocusJson({ ...base, inputImage }), 'fooocus').inputImage, inputImage);
  });

  for (const [change, field] of [
    [{ ip_type_1: 'Depth' }, 'ip_type_1'],
    [{ ip_stop_1: 1.5 }, 'ip_stop_1'],
    [{ ip_weight_2: -1 }, 'ip_weight_2'],
    [{ ip_image_sha256_1: 'abc' }, 'ip_image_sha256_1'],
    [{ mixing_image_prompt_and_inpaint: 'sometimes' }, 'mixing_image_prompt_and_inpaint'],
    [{ ip_type_1: undefined }, 'ip_stop_1'],
    [{ ip_type_2: undefined, ip_stop_2: undefined, ip_weight_2: undefined, ip_image_2: undefined, ip_image_sha256_2: undefined }, 'ip_type_3'],
  ] as const) {
    it(`refuses ${JSON.stringify(change)} naming ${field}`, () => {
      const json = fooocusJsonOf({ ...base, inputImage: withPrompts });
      Object.assign(json, change);
      assertRefusedNaming(json, field);
    });
  }
});
