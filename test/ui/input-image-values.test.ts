/**
 * The page's Input Image values into a generate request and back from a job's request (history Reuse): each tab
 * sends only its own field, the request passes the server's schema-level rules, and Reuse restores the mode.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildGenerateRequest, DEFAULT_FORM, patchFromRequest } from '../../src/ui/form-values.ts';
import { buildInputImageFields, DEFAULT_INPUT_IMAGE, patchInputImageFromRequest, type InputImageValues } from '../../src/ui/input-image-values.ts';
import { describeRestore, patchFromSettings } from '../../src/ui/image-parameters.ts';

const withInput = (inputImage: Partial<InputImageValues>) => ({ ...DEFAULT_FORM, prompt: 'a cat', inputImageId: 'up-AAAAAAAAAAAAAAAA', inputImage: { ...DEFAULT_INPUT_IMAGE, ...inputImage } });

describe('Input Image values', () => {
  it('sends denoise for image to image, and the mode (without denoise) for the other tabs', () => {
    const plain = buildGenerateRequest(withInput({ tab: 'image' }), 'sdxl');
    assert.equal(plain.denoise, DEFAULT_FORM.denoise);
    assert.equal(plain.varyUpscale, undefined);
    assert.equal(plain.inpaint, undefined);
    const vary = buildGenerateRequest(withInput({ tab: 'uov', uovMode: 'vary-strong', upscaler: 'x.safetensors' }), 'sdxl');
    assert.deepEqual(vary.varyUpscale, { mode: 'vary-strong' }, 'a vary mode sends no upscaler');
    assert.equal(vary.denoise, undefined);
    assert.equal(vary.inputImageId, 'up-AAAAAAAAAAAAAAAA');
    const custom = buildGenerateRequest(withInput({ tab: 'uov', uovMode: 'upscale-custom', upscaleFactor: 2.5, upscaler: 'x.safetensors' }), 'sdxl');
    assert.deepEqual(custom.varyUpscale, { mode: 'upscale-custom', factor: 2.5, upscaler: 'x.safetensors' });
    assert.deepEqual(buildGenerateRequest(withInput({ tab: 'uov', uovMode: 'upscale-2x', upscaleFactor: 3 }), 'sdxl').varyUpscale, { mode: 'upscale-2x' });
  });

  it('sends describeFirst with an input image when Describe then generate is ticked, and only then', () => {
    assert.equal(buildGenerateRequest(withInput({ tab: 'image', describeFirst: 'anime' }), 'sdxl').describeFirst, 'anime');
    assert.equal(buildGenerateRequest(withInput({ tab: 'inpaint', describeFirst: 'photo' }), 'sdxl').describeFirst, 'photo');
    assert.equal(buildGenerateRequest(withInput({ tab: 'image' }), 'sdxl').describeFirst, undefined);
    const noInput = { ...DEFAULT_FORM, inputImage: { ...DEFAULT_INPUT_IMAGE, describeFirst: 'photo' as const } };
    assert.equal(buildGenerateRequest(noInput, 'sdxl').describeFirst, undefined, 'nothing to describe without an input image');
    assert.equal(buildGenerateRequest(withInput({ describeFirst: 'anime' }), 'sdxl', new Set(['prompt', 'inputImageId', 'denoise'])).describeFirst, undefined, 'a server without the field never receives it');
  });

  it('sends an inpaint with only the choices made (empty boxes leave the method defaults)', () => {
    assert.deepEqual(buildInputImageFields({ ...DEFAULT_INPUT_IMAGE, tab: 'inpaint', maskImageId: 'up-BBBBBBBBBBBBBBBB' }), { inpaint: { mode: 'default', mask: 'up-BBBBBBBBBBBBBBBB' } });
    const full: InputImageValues = {
      ...DEFAULT_INPUT_IMAGE,
      tab: 'inpaint',
      inpaintMode: 'detail',
      inpaintEngine: 'latent-blend',
      inpaintStrength: 0.4,
      respectiveField: 0.3,
      maskErode: -5,
      invertMask: true,
      additionalPrompt: 'a red hat',
      outpaintSides: ['left', 'top'],
      outpaintAmount: 96,
      outpaintUnit: 'px',
      maskImageId: 'up-BBBBBBBBBBBBBBBB',
    };
    const inpaint = {
      mode: 'detail', mask: 'up-BBBBBBBBBBBBBBBB', engine: 'latent-blend', strength: 0.4, respectiveField: 0.3, maskErode: -5, invertMask: true,
      additionalPrompt: 'a red hat', outpaint: { left: { px: 96 }, top: { px: 96 } },
    };
    assert.deepEqual(buildInputImageFields(full), { inpaint });
    // History Reuse: the job's request fills the same values back in (the mask is drawn again).
    assert.deepEqual(patchInputImageFromRequest({ inpaint }), { ...full, maskImageId: null });
    assert.deepEqual(patchFromRequest({ prompt: 'a', inpaint }).inputImage, { ...full, maskImageId: null });
  });

  it('restores a vary or upscale from a job, and nothing from a request without a mode', () => {
    assert.deepEqual(patchInputImageFromRequest({ varyUpscale: { mode: 'upscale-custom', factor: 3, upscaler: 'x.safetensors' } }), {
      ...DEFAULT_INPUT_IMAGE, tab: 'uov', uovMode: 'upscale-custom', upscaleFactor: 3, upscaler: 'x.safetensors',
    });
    assert.deepEqual(patchInputImageFromRequest({ inpaint: { mode: 'default', outpaint: { right: { percent: 40 } } } }), {
      ...DEFAULT_INPUT_IMAGE, tab: 'inpaint', outpaintSides: ['right'], outpaintAmount: 40, outpaintUnit: 'percent',
    });
    assert.equal(patchInputImageFromRequest({ prompt: 'a' }), undefined);
    assert.equal('inputImage' in patchFromRequest({ prompt: 'a' }), false);
  });

  it("sends Enhance's Upscale or Vary with its order (before is the default, so only after is sent), and restores both", () => {
    const tabs = [{ detectionPrompt: 'person', prompt: '', negative: '', strength: 0.6, maskErode: 0, invertMask: false }, ...DEFAULT_INPUT_IMAGE.enhanceTabs.slice(1)];
    const enhance = (extra: Partial<InputImageValues>) => buildGenerateRequest(withInput({ tab: 'enhance', enhanceTabs: tabs, ...extra }), 'sdxl').enhance;
    assert.deepEqual(enhance({}), { tabs: [{ detectionPrompt: 'person', strength: 0.6 }] }, 'None sends no varyUpscale');
    assert.deepEqual(enhance({ enhanceVaryOrder: 'after' }), { tabs: [{ detectionPrompt: 'person', strength: 0.6 }] }, 'an order alone means nothing');
    assert.deepEqual(enhance({ enhanceVary: 'vary-subtle' }), { tabs: [{ detectionPrompt: 'person', strength: 0.6 }], varyUpscale: { mode: 'vary-subtle' } });
    const after = enhance({ enhanceVary: 'upscale-fast-2x', enhanceVaryOrder: 'after' });
    assert.deepEqual(after, { tabs: [{ detectionPrompt: 'person', strength: 0.6 }], varyUpscale: { mode: 'upscale-fast-2x' }, varyUpscaleOrder: 'after' });
    const restored = patchInputImageFromRequest({ enhance: after });
    assert.deepEqual([restored?.tab, restored?.enhanceVary, restored?.enhanceVaryOrder], ['enhance', 'upscale-fast-2x', 'after']);
    const plain = patchInputImageFromRequest({ enhance: { tabs: [{ detectionPrompt: 'person' }], varyUpscaleOrder: 'after' } });
    assert.deepEqual([plain?.enhanceVary, plain?.enhanceVaryOrder], ['', 'before']);
  });

  it('leaves the mode out for a server whose schema does not take it', () => {
    const request = buildGenerateRequest(withInput({ tab: 'uov' }), 'sdxl', new Set(['prompt', 'inputImageId']));
    assert.equal(request.varyUpscale, undefined);
  });
});

describe('Input Image mode from a dropped image', () => {
  it('restores an upscale: mode, upscaler and factor, and says the input image was not restored', () => {
    const { patch, notRestored } = patchFromSettings({ prompt: 'a', inputImage: { uovMethod: 'Upscale (Custom)', upscaleFactor: 3, upscaler: 'fooocus_upscaler_s409985e5' } });
    assert.deepEqual(patch.inputImage, { ...DEFAULT_INPUT_IMAGE, tab: 'uov', uovMode: 'upscale-custom', upscaleFactor: 3, upscaler: 'fooocus_upscaler_s409985e5.safetensors' });
    assert.match(describeRestore(patch, [], notRestored), /^restored prompt, Input Image mode; not restored: input image \(choose or drop it again\)$/);
  });

  it('restores an inpaint with its engine, strength, field, erode, invert and outpaint sides, and names the mask as not restored', () => {
    const { patch, notRestored } = patchFromSettings({
      inputImage: {
        inpaintMethod: 'Modify Content (add objects, change background, etc.)',
        inpaintEngine: 'v2.6',
        inpaintStrength: 0.8,
        inpaintRespectiveField: 0.3,
        inpaintErodeOrDilate: -4,
        invertMask: true,
        inpaintAdditionalPrompt: 'a red door',
      },
    });
    assert.deepEqual(patch.inputImage, {
      ...DEFAULT_INPUT_IMAGE, tab: 'inpaint', inpaintMode: 'modify', inpaintEngine: 'fooocus-v2.6', inpaintStrength: 0.8, respectiveField: 0.3, maskErode: -4, invertMask: true, additionalPrompt: 'a red door',
    });
    assert.deepEqual(notRestored.map((f) => f.key), ['input image', 'mask']);
    const outpaint = patchFromSettings({ inputImage: { inpaintMethod: 'Inpaint or Outpaint (default)', outpaint: [{ side: 'Top', size: '25%' }, { side: 'Right', size: '25%' }] } });
    assert.deepEqual([outpaint.patch.inputImage?.outpaintSides, outpaint.patch.inputImage?.outpaintAmount, outpaint.patch.inputImage?.outpaintUnit], [['right', 'top'], 25, 'percent']);
    assert.deepEqual(outpaint.notRestored.map((f) => f.key), ['input image'], 'an outpaint needs no mask');
  });

  it('names a mode it does not know instead of guessing', () => {
    const { patch, notRestored } = patchFromSettings({ inputImage: { uovMethod: 'Upscale (3x)' } });
    assert.equal(patch.inputImage, undefined);
    assert.deepEqual(notRestored, [{ key: 'Input Image mode', value: 'Upscale (3x)', reason: 'not known here' }]);
  });
});
