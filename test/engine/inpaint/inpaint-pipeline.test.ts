import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SOFT_MASK_REACH } from '../../../src/engine/inpaint/grey-mask.ts';
import { InpaintModelError, readInpaintHead, readInpaintPatch } from '../../../src/engine/inpaint/inpaint-models.ts';
import { InpaintEngineError } from '../../../src/engine/inpaint/inpaint-plan.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { generate, type PipelineModel } from '../../../src/engine/pipeline/generate.ts';
import { InvalidGenerationRequestError, type GenerationRequest } from '../../../src/engine/pipeline/generation-request.ts';
import type { RgbImage } from '../../../src/engine/rgb-image.ts';
import { writeTinyInpaintHead, writeTinyInpaintPatch } from '../../fixtures/inpaint-models.ts';
import { tinyRequest } from '../pipeline/pipeline-harness.ts';
import { inpaintSettings, loadModelFile, makePicture, makeTempDir, pixelsFarFrom, rectangleMask, writeTinyModel } from './inpaint-harness.ts';

const WIDTH = 124; // not a multiple of 8: inpaint keeps the input's own size
const HEIGHT = 100;
const picture = makePicture(WIDTH, HEIGHT);
const mask = rectangleMask(WIDTH, HEIGHT, { left: 50, right: 70, top: 40, bottom: 58 });

function inpaintRequest(settings: Partial<GenerationRequest['inpaint']> & object, strength = 1, input: RgbImage = picture): GenerationRequest {
  const inpaint = inpaintSettings({ mask, ...settings });
  const padding = inpaint.padding;
  const width = input.width + (padding ? padding.left + padding.right : 0);
  const height = input.height + (padding ? padding.top + padding.bottom : 0);
  return tinyRequest({ width, height, steps: 3, input: { image: input, denoise: strength }, inpaint });
}

/** Asserts that every pixel farther than the soft mask's reach from `m` equals the input's, and counts changed pixels inside. */
function checkKept(result: RgbImage, input: RgbImage, m: typeof mask): void {
  assert.equal(result.width, input.width);
  assert.equal(result.height, input.height);
  const far = pixelsFarFrom(m, SOFT_MASK_REACH - 1);
  assert.ok(far.length > 1000, 'the test image has pixels outside the soft mask');
  for (const p of far) {
    for (let c = 0; c < 3; c++) assert.equal(result.rgb[p * 3 + c], input.rgb[p * 3 + c], `pixel ${p % input.width},${Math.floor(p / input.width)} changed`);
  }
  let changed = 0;
  for (let p = 0; p < m.data.length; p++) if (m.data[p] === 255 && result.rgb[p * 3] !== input.rgb[p * 3]) changed++;
  assert.ok(changed > m.data.filter((v) => v === 255).length / 2, `only ${changed} masked pixels were repainted`);
}

describe('inpaint pipeline, end to end on tiny models', () => {
  const temp = makeTempDir('pipeline');
  const loaded: { release(): Promise<void> }[] = [];
  let sd15: PipelineModel;
  let sd15Inpaint: PipelineModel;
  let sdxlFile: string;
  before(async () => {
    const plain = await loadModelFile(await writeTinyModel(temp.dir, 'sd15'), 'sd15');
    const nine = await loadModelFile(await writeTinyModel(temp.dir, 'sd15', { inpaint: true }), 'sd15-inpaint');
    loaded.push(plain, nine);
    sd15 = plain.model;
    sd15Inpaint = nine.model;
    sdxlFile = await writeTinyModel(temp.dir, 'sdxl');
  });
  after(async () => {
    for (const l of loaded) await l.release();
    temp.remove();
  });

  it('latent-blend: repaints the masked area of any checkpoint and leaves pixels outside the soft mask unchanged bit for bit', async () => {
    const [result] = await generate({ base: sd15 }, inpaintRequest({ engine: 'latent-blend' }));
    checkKept(result!.image, picture, mask);
    const [again] = await generate({ base: sd15 }, inpaintRequest({ engine: 'latent-blend' }));
    assert.deepEqual(again!.image.rgb, result!.image.rgb, 'same seed, same pixels');
  });

  it('latent-blend at strength 0.5 (Detail) and without an initial latent (Modify) keeps the outside too', async () => {
    const [detail] = await generate({ base: sd15 }, inpaintRequest({ respectiveField: 0 }, 0.5));
    checkKept(detail!.image, picture, mask);
    const [modify] = await generate({ base: sd15 }, inpaintRequest({ respectiveField: 0, initialLatent: false }));
    checkKept(modify!.image, picture, mask);
    assert.notDeepEqual(detail!.image.rgb, modify!.image.rgb);
  });

  it('inpaint-checkpoint: feeds the 9-channel UNet its mask and masked-image latent', async () => {
    const [result] = await generate({ base: sd15Inpaint }, inpaintRequest({ engine: 'inpaint-checkpoint' }));
    checkKept(result!.image, picture, mask);
  });

  it('refuses an engine the model cannot run, naming inpaint.engine', async () => {
    await assert.rejects(generate({ base: sd15 }, inpaintRequest({ engine: 'inpaint-checkpoint' })), (err: unknown) => err instanceof InpaintEngineError && err.field === 'inpaint.engine');
    await assert.rejects(generate({ base: sd15Inpaint }, inpaintRequest({ engine: 'latent-blend' })), InpaintEngineError);
    await assert.rejects(generate({ base: sd15 }, inpaintRequest({ engine: 'fooocus-v2.6' })), /SDXL/);
  });

  it('fooocus-v2.6: the head feature and the patched UNet on an SDXL checkpoint (files in different folders)', async () => {
    const header = await readSafetensorsHeader(sdxlFile);
    const { architecture } = inspectHeader(header);
    const head = await readInpaintHead(await writeTinyInpaintHead(path.join(temp.dir, 'inpaint'), architecture.unet!.modelChannels), architecture.unet!.modelChannels);
    const patches = await readInpaintPatch(await writeTinyInpaintPatch(path.join(temp.dir, 'inpaint'), sdxlFile), header, architecture);
    const patched = await loadModelFile(sdxlFile, 'sdxl-patched', { unet: { weightPatches: patches, inpaintFeature: true } });
    loaded.push(patched);
    const [result] = await generate({ base: patched.model, inpaintHead: head }, inpaintRequest({ engine: 'fooocus-v2.6' }));
    checkKept(result!.image, picture, mask);
    // Without the head the same UNet build is refused rather than run half-patched.
    await assert.rejects(generate({ base: patched.model }, inpaintRequest({ engine: 'fooocus-v2.6' })), InpaintEngineError);
  });

  it('outpaint: extends the chosen sides, keeps the original region bit for bit beyond the soft mask', async () => {
    const padding = { left: 0, right: 36, top: 24, bottom: 0 };
    const [result] = await generate({ base: sd15 }, inpaintRequest({ mask: null, padding, respectiveField: 1 }));
    const image = result!.image;
    assert.equal(image.width, WIDTH + 36);
    assert.equal(image.height, HEIGHT + 24);
    let kept = 0;
    for (let y = 0; y < HEIGHT - SOFT_MASK_REACH; y++) {
      for (let x = 0; x < WIDTH - SOFT_MASK_REACH; x++) {
        const out = ((y + 24 + SOFT_MASK_REACH) * image.width + x) * 3;
        const src = ((y + SOFT_MASK_REACH) * WIDTH + x) * 3;
        assert.deepEqual([...image.rgb.subarray(out, out + 3)], [...picture.rgb.subarray(src, src + 3)]);
        kept++;
      }
    }
    assert.ok(kept > 1000);
  });

  it('refuses a mask of another size, an empty mask and a mask erased by erosion, naming inpaint.mask', async () => {
    const small = rectangleMask(WIDTH - 4, HEIGHT, { left: 1, right: 5, top: 1, bottom: 5 });
    const empty = rectangleMask(WIDTH, HEIGHT, { left: 0, right: 0, top: 0, bottom: 0 });
    const thin = rectangleMask(WIDTH, HEIGHT, { left: 10, right: 13, top: 10, bottom: 40 });
    for (const [settings, pattern] of [
      [{ mask: small }, /inpaint\.mask: is 120x100 but the input image is 124x100/],
      [{ mask: empty }, /inpaint\.mask: is empty/],
      [{ mask: thin, maskErode: 2 }, /inpaint\.mask: is empty after erode/],
      [{ mask: null }, /inpaint\.mask: is required/],
      [{ padding: { left: 5000, right: 0, top: 0, bottom: 0 } }, /inpaint\.outpaint\.left/],
      [{ respectiveField: 1.5 }, /inpaint\.respectiveField/],
    ] as const) {
      await assert.rejects(generate({ base: sd15 }, inpaintRequest(settings)), (err: unknown) => err instanceof InvalidGenerationRequestError && pattern.test(err.message));
    }
  });

  it('refuses a patch for another model family or layout, naming the file', async () => {
    const sd15File = await writeTinyModel(temp.dir, 'sd15', { seed: 3 });
    const sd15Header = await readSafetensorsHeader(sd15File);
    const sdxlHeader = await readSafetensorsHeader(sdxlFile);
    const patchFile = await writeTinyInpaintPatch(path.join(temp.dir, 'inpaint'), sdxlFile);
    await assert.rejects(readInpaintPatch(patchFile, sd15Header, inspectHeader(sd15Header).architecture), (err: unknown) => err instanceof InpaintModelError && err.message.startsWith(path.basename(patchFile)));
    // An SD 1.5 layout's patch on the SDXL checkpoint: its weights match no SDXL UNet weight.
    const foreign = await writeTinyInpaintPatch(path.join(temp.dir, 'foreign'), sd15File);
    await assert.rejects(readInpaintPatch(foreign, sdxlHeader, inspectHeader(sdxlHeader).architecture), /match no UNet weight/);
    await assert.rejects(readInpaintHead(foreign, 32), /has no tensor "head"/);
  });
});
