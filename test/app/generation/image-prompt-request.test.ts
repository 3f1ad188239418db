/**
 * The image prompts of a request: each type's defaults filled, the bounds and the mixing switches enforced, and
 * every refusal naming the field at fault.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMAGE_PROMPT_DEFAULTS, ImageRequestError, resolveImagePrompts, type ImagePromptDraft } from '../../../src/app/generation/image-request.ts';
import { isGuidanceActive } from '../../../src/engine/index.ts';

function refusal(drafts: unknown, request = {}): { field: string; rule: string } {
  try {
    resolveImagePrompts(drafts as ImagePromptDraft[], request);
  } catch (err) {
    assert.ok(err instanceof ImageRequestError, String(err));
    return { field: err.field, rule: err.rule };
  }
  assert.fail('accepted');
}

describe('image prompts of a request', () => {
  it("fills each type's Fooocus defaults and keeps explicit values", () => {
    const resolved = resolveImagePrompts([
      { file: 'a.png' },
      { file: 'b.png', type: 'FaceSwap' },
      { file: 'c.png', type: 'PyraCanny', weight: 0 },
      { file: 'd.png', type: 'CPDS', stopAt: 1, weight: 2 },
    ]);
    assert.deepEqual(resolved, [
      { file: 'a.png', type: 'ImagePrompt', stopAt: 0.5, weight: 0.6 },
      { file: 'b.png', type: 'FaceSwap', stopAt: 0.9, weight: 0.75 },
      { file: 'c.png', type: 'PyraCanny', stopAt: 0.5, weight: 0 },
      { file: 'd.png', type: 'CPDS', stopAt: 1, weight: 2 },
    ]);
    assert.deepEqual(IMAGE_PROMPT_DEFAULTS.CPDS, { stopAt: 0.5, weight: 1 });
  });

  it('gives no image prompts for an absent or empty list', () => {
    assert.equal(resolveImagePrompts(undefined), undefined);
    assert.equal(resolveImagePrompts([]), undefined);
  });

  it('refuses a fifth image, an unknown type, and stop or weight out of range, naming the field', () => {
    const five = Array.from({ length: 5 }, (_, i) => ({ file: `${i}.png` }));
    assert.deepEqual(refusal(five), { field: 'imagePrompts', rule: 'range' });
    assert.deepEqual(refusal([{ file: 'a.png' }, { file: 'b.png', type: 'Canny' }]), { field: 'imagePrompts[1].type', rule: 'known' });
    assert.deepEqual(refusal([{ file: 'a.png', stopAt: 1.01 }]), { field: 'imagePrompts[0].stopAt', rule: 'range' });
    assert.deepEqual(refusal([{ file: 'a.png', stopAt: -0.1 }]), { field: 'imagePrompts[0].stopAt', rule: 'range' });
    assert.deepEqual(refusal([{ file: 'a.png', weight: 2.5 }]), { field: 'imagePrompts[0].weight', rule: 'range' });
    assert.deepEqual(refusal([{ file: 'a.png', weight: Number.NaN }]), { field: 'imagePrompts[0].weight', rule: 'range' });
    assert.deepEqual(refusal([{ type: 'CPDS' }]), { field: 'imagePrompts[0].file', rule: 'required' });
    assert.deepEqual(refusal('a.png'), { field: 'imagePrompts', rule: 'format' });
  });

  it('needs the mixing switch to combine image prompts with Vary/Upscale or Inpaint', () => {
    const one = [{ file: 'a.png' }];
    assert.deepEqual(refusal(one, { varyUpscale: { mode: 'vary-subtle' } }), { field: 'imagePrompts', rule: 'conflict' });
    assert.deepEqual(refusal(one, { inpaint: { mode: 'default' } }), { field: 'imagePrompts', rule: 'conflict' });
    assert.equal(resolveImagePrompts(one, { varyUpscale: { mode: 'vary-subtle' }, mixImagePromptAndVary: true })?.length, 1);
    assert.equal(resolveImagePrompts(one, { inpaint: { mode: 'default' }, mixImagePromptAndInpaint: true })?.length, 1);
  });

  it('is active while step < stopAt * steps, never at weight 0', () => {
    const window = { stopAt: 0.5, weight: 0.6 };
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((s) => isGuidanceActive(window, s, 6)), [true, true, true, false, false, false]);
    assert.equal(isGuidanceActive({ stopAt: 0, weight: 1 }, 0, 6), false);
    assert.equal(isGuidanceActive({ stopAt: 1, weight: 0 }, 0, 6), false);
  });
});
