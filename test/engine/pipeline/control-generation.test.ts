/**
 * Generation with PyraCanny/CPDS controls on tiny SDXL: weight 0 (or stop 0) is the plain image bit for bit, an
 * active control changes it, and a map of the wrong size is refused naming the field. With inpaint, the map (the
 * size of the input) is cropped to the inpaint area: the control changes the repainted area and nothing outside.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeControlMap, grayToRgb } from '../../../src/engine/control/control-map.ts';
import { loadControlledUnet, type ControlNetModel } from '../../../src/engine/pipeline/control-lora-model.ts';
import { generate, type PipelineModels } from '../../../src/engine/pipeline/generate.ts';
import { InvalidGenerationRequestError } from '../../../src/engine/pipeline/generation-request.ts';
import type { ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';
import { inpaintSettings, makePicture, pixelsFarFrom, rectangleMask } from '../inpaint/inpaint-harness.ts';
import { SOFT_MASK_REACH } from '../../../src/engine/inpaint/grey-mask.ts';
import { countRuns, loadTinyControlNet } from './guidance-harness.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

describe('generation with controls (tiny SDXL)', () => {
  let tiny: LoadedTinyModel;
  let net: ControlNetModel;
  let controlledUnet: ModelSession;
  let models: PipelineModels;
  before(async () => {
    tiny = await loadTinyPipelineModel('sdxl');
    const unet = tiny.loaded.architecture.unet!;
    net = await loadTinyControlNet(tiny.dir, tiny.header, unet, 'control-lora-canny-tiny.safetensors');
    controlledUnet = await loadControlledUnet(tiny.header, unet, {}, tiny.dir, { threads: 2 });
    models = { base: tiny.model, controls: { unet: controlledUnet, nets: { PyraCanny: net } } };
  });
  after(async () => {
    await net.release();
    await controlledUnet.release();
    await tiny.release();
  });

  const map = grayToRgb(computeControlMap('PyraCanny', controlTestImage(64, 64, 5)));

  it('makes the plain image bit for bit at weight 0 and at stop 0, and another image while active', async () => {
    const [plain] = await generate(models, tinyRequest());
    const [weightless] = await generate(models, tinyRequest({ controls: [{ type: 'PyraCanny', map, weight: 0, stopAt: 1 }] }));
    const [stopped] = await generate(models, tinyRequest({ controls: [{ type: 'PyraCanny', map, weight: 1, stopAt: 0 }] }));
    assert.deepEqual(weightless!.image.rgb, plain!.image.rgb);
    assert.deepEqual(stopped!.image.rgb, plain!.image.rgb);
    const [guided] = await generate(models, tinyRequest({ controls: [{ type: 'PyraCanny', map, weight: 1, stopAt: 0.5 }] }));
    assert.notDeepEqual(guided!.image.rgb, plain!.image.rgb);
  });

  it('encodes each control image once per job, not per step: the images of a job and a repeat of its map reuse it', async () => {
    const encoder = countRuns(net['hintEncoder']);
    const steps = countRuns(net.session);
    const other = grayToRgb(computeControlMap('PyraCanny', controlTestImage(64, 64, 9)));
    const controls = [
      { type: 'PyraCanny' as const, map: other, weight: 1, stopAt: 1 },
      { type: 'PyraCanny' as const, map: grayToRgb(computeControlMap('PyraCanny', controlTestImage(64, 64, 11))), weight: 0.5, stopAt: 1 },
    ];
    await generate(models, tinyRequest({ controls, imageCount: 2 }));
    assert.equal(encoder.calls, 2, 'one encode per control image for the whole job');
    assert.equal(steps.calls, 2 * 2 * 4, 'the per-step graph runs for each net at every step of both images');
    await generate(models, tinyRequest({ controls: controls.slice(0, 1) }));
    assert.equal(encoder.calls, 2, 'a map encoded before is not encoded again');
  });

  it('refuses a map of another size than the result, naming the field', async () => {
    const wide = grayToRgb(computeControlMap('PyraCanny', controlTestImage(72, 64, 5)));
    await assert.rejects(
      generate(models, tinyRequest({ controls: [{ type: 'PyraCanny', map: wide, weight: 1, stopAt: 0.5 }] })),
      (e: unknown) => e instanceof InvalidGenerationRequestError && e.field === 'controls[0].map',
    );
  });

  it('with inpaint, crops the map to the inpaint area: the masked area changes, pixels outside the soft mask do not', async () => {
    const picture = makePicture(96, 64);
    const mask = rectangleMask(96, 64, { left: 8, right: 24, top: 8, bottom: 24 });
    const request = (controls: { weight: number }[]) =>
      tinyRequest({
        width: 96,
        height: 64,
        steps: 3,
        input: { image: picture, denoise: 1 },
        inpaint: inpaintSettings({ mask }),
        controls: controls.map((c) => ({ type: 'PyraCanny' as const, map: grayToRgb(computeControlMap('PyraCanny', controlTestImage(96, 64, 5))), weight: c.weight, stopAt: 1 })),
      });
    const [plain] = await generate(models, request([]));
    const [guided] = await generate(models, request([{ weight: 1 }]));
    assert.notDeepEqual(guided!.image.rgb, plain!.image.rgb, 'the control changed the repainted area');
    const far = pixelsFarFrom(mask, SOFT_MASK_REACH - 1);
    assert.ok(far.length > 1000);
    for (const p of far) for (let c = 0; c < 3; c++) assert.equal(guided!.image.rgb[p * 3 + c], picture.rgb[p * 3 + c]);
  });
});
