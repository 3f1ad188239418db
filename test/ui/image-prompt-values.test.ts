import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { buildGenerateRequest, DEFAULT_FORM, patchFromRequest } from '../../src/ui/form-values.ts';
import { DEFAULT_IMAGE_PROMPTS, IMAGE_PROMPT_DEFAULTS, patchImagePromptsFromRequest, type ImagePromptValues } from '../../src/ui/image-prompt-values.ts';

const withSlots = (slots: Partial<ImagePromptValues['slots'][number]>[], switches: Partial<ImagePromptValues> = {}) => ({
  ...DEFAULT_FORM,
  prompt: 'a cat',
  imagePrompts: { ...DEFAULT_IMAGE_PROMPTS, ...switches, slots: DEFAULT_IMAGE_PROMPTS.slots.map((s, i) => ({ ...s, ...slots[i] })) },
});

describe('image prompt values', () => {
  it("has Fooocus's defaults per type", () => {
    assert.deepEqual(IMAGE_PROMPT_DEFAULTS, {
      ImagePrompt: { stopAt: 0.5, weight: 0.6 },
      PyraCanny: { stopAt: 0.5, weight: 1.0 },
      CPDS: { stopAt: 0.5, weight: 1.0 },
      FaceSwap: { stopAt: 0.9, weight: 0.75 },
    });
    assert.equal(DEFAULT_IMAGE_PROMPTS.slots.length, 4);
    assert.ok(DEFAULT_IMAGE_PROMPTS.slots.every((s) => s.imageId === null && s.type === 'ImagePrompt'));
  });

  it('sends the filled slots in order, and nothing when all are empty', () => {
    assert.equal(buildGenerateRequest(withSlots([]), 'sdxl').imagePrompts, undefined);
    const request = buildGenerateRequest(
      withSlots([{}, { imageId: 'up-1', type: 'FaceSwap', stopAt: 0.9, weight: 0.75 }, {}, { imageId: 'up-2', type: 'CPDS', stopAt: 0.4, weight: 1.2 }], { mixVary: true }),
      'sdxl',
    );
    assert.deepEqual(request.imagePrompts, [
      { imageId: 'up-1', type: 'FaceSwap', stopAt: 0.9, weight: 0.75 },
      { imageId: 'up-2', type: 'CPDS', stopAt: 0.4, weight: 1.2 },
    ]);
    assert.equal(request.mixImagePromptAndVary, true);
    assert.equal(request.mixImagePromptAndInpaint, undefined);
  });

  it('leaves the fields out for a server that does not take them', () => {
    const accepted = new Set(['prompt', 'negative', 'styles', 'performance', 'imageCount']);
    const request = buildGenerateRequest(withSlots([{ imageId: 'up-1' }], { mixInpaint: true }), 'sdxl', accepted);
    assert.equal(request.imagePrompts, undefined);
    assert.equal(request.mixImagePromptAndInpaint, undefined);
  });

  it('fills types, stops, weights and switches back from a job (images are chosen again)', () => {
    const patch = patchFromRequest({
      prompt: 'x',
      imagePrompts: [{ file: 'uploads/a.png', type: 'PyraCanny', stopAt: 0.3, weight: 1.5 }, { file: 'uploads/b.png', type: 'Nope' }],
      mixImagePromptAndInpaint: true,
    });
    assert.deepEqual(patch.imagePrompts, {
      slots: [
        { imageId: null, type: 'PyraCanny', stopAt: 0.3, weight: 1.5 },
        { imageId: null, type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 },
        { imageId: null, type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 },
        { imageId: null, type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 },
      ],
      advanced: true,
      mixVary: false,
      mixInpaint: true,
    });
    assert.equal(patchImagePromptsFromRequest({ prompt: 'x' }), undefined);
    assert.equal(patchImagePromptsFromRequest({ imagePrompts: [] }), undefined);
  });
});
