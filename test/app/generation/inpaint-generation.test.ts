/**
 * Inpaint through the app: the choice's defaults per mode and the outpaint rules, the engine picked for what is
 * installed, and the generation service building the patched SDXL UNet and reading the head for fooocus-v2.6.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { GenerationService } from '../../../src/app/generation/generation-service.ts';
import { ImageRequestError, type InpaintChoice } from '../../../src/app/generation/image-request.ts';
import { addInpaintPrompt, checkInpaintEngineFits, chooseInpaintEngine, INPAINT_HEAD_FILE, INPAINT_PATCH_FILE, resolveInpaintChoice, resolveOutpaintPadding, toInpaintSettings } from '../../../src/app/generation/inpaint-step.ts';
import type { ModelListing } from '../../../src/app/models/model-store.ts';
import { SOFT_MASK_REACH } from '../../../src/engine/inpaint/grey-mask.ts';
import { sha256File } from '../../../src/engine/io/sha256.ts';
import { decodePng } from '../../../src/engine/output/png.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { tinyRequestFields } from '../../fixtures/generation-requests.ts';
import { writeTinyInpaintHead, writeTinyInpaintPatch } from '../../fixtures/inpaint-models.ts';
import { makePicture, makeTempDir, pixelsFarFrom, rectangleMask } from '../../engine/inpaint/inpaint-harness.ts';

const listed = (kind: ModelListing['kind'], name: string): ModelListing => ({ kind, name, size: 1, sha256: '0'.repeat(64), source: 'local-import', verifiedAt: '', family: null, convertedFrom: null });
const withFiles = [listed('inpaint', INPAINT_HEAD_FILE), listed('inpaint', INPAINT_PATCH_FILE)];
const sdxl = { hasInput: true, family: 'sdxl' as const, listing: withFiles };

function refusal(field: string): (err: unknown) => boolean {
  return (err) => err instanceof ImageRequestError && err.field === field;
}

describe('inpaint choices', () => {
  it("fills in Fooocus's defaults per mode, and outpaint forces strength and field to 1", () => {
    assert.deepEqual(resolveInpaintChoice({ mode: 'default', mask: 'm.png' }, sdxl), { mode: 'default', mask: 'm.png', strength: 1, respectiveField: 0.618 });
    assert.deepEqual(resolveInpaintChoice({ mode: 'detail', mask: 'm.png' }, sdxl), { mode: 'detail', mask: 'm.png', strength: 0.5, respectiveField: 0 });
    assert.deepEqual(resolveInpaintChoice({ mode: 'modify', mask: 'm.png', strength: 0.7 }, sdxl), { mode: 'modify', mask: 'm.png', strength: 0.7, respectiveField: 0 });
    const outpaint = resolveInpaintChoice({ mode: 'detail', strength: 0.3, respectiveField: 0.2, outpaint: { left: { percent: 30 } } }, sdxl);
    assert.equal(outpaint.strength, 1);
    assert.equal(outpaint.respectiveField, 1);
    assert.equal(toInpaintSettings({ mode: 'modify', mask: 'm' }, 'latent-blend', null, makePicture(64, 64)).initialLatent, false);
  });

  it('refuses bad choices naming the field', () => {
    assert.throws(() => resolveInpaintChoice({ mode: 'default', mask: 'm' }, { ...sdxl, hasInput: false }), refusal('inpaint'));
    assert.throws(() => resolveInpaintChoice({ mode: 'paint' } as unknown as InpaintChoice, sdxl), refusal('inpaint.mode'));
    assert.throws(() => resolveInpaintChoice({ mode: 'default' }, sdxl), refusal('inpaint.mask'));
    assert.throws(() => resolveInpaintChoice({ mode: 'default', mask: 'm', strength: 0 }, sdxl), refusal('inpaint.strength'));
    assert.throws(() => resolveInpaintChoice({ mode: 'default', mask: 'm', maskErode: 65 }, sdxl), refusal('inpaint.maskErode'));
    assert.throws(() => resolveInpaintChoice({ mode: 'default', outpaint: { top: { px: 4 } } }, sdxl), refusal('inpaint.outpaint.top.px'));
    assert.throws(() => resolveInpaintChoice({ mode: 'default', mask: 'm', engine: 'fooocus-v2.6' }, { ...sdxl, family: 'sd15' }), refusal('inpaint.engine'));
    assert.throws(() => resolveInpaintChoice({ mode: 'default', mask: 'm', engine: 'fooocus-v2.6' }, { ...sdxl, listing: [] }), /models pull fooocus-inpaint-head fooocus-inpaint-v26`, or convert .* models convert <file> --kind inpaint`/);
  });

  it('names only the v2.6 file that is missing, and the pull command for it', () => {
    const headOnly = { ...sdxl, listing: [listed('inpaint', INPAINT_HEAD_FILE)] };
    assert.throws(
      () => resolveInpaintChoice({ mode: 'default', mask: 'm', engine: 'fooocus-v2.6' }, headOnly),
      (err: unknown) =>
        err instanceof ImageRequestError &&
        err.field === 'inpaint.engine' &&
        err.message.includes(`needs ${INPAINT_PATCH_FILE} in`) &&
        !err.message.includes(INPAINT_HEAD_FILE) &&
        err.message.includes('`npm run fooocus -- models pull fooocus-inpaint-v26`'),
    );
  });

  it('refuses at submit an engine the checkpoint UNet cannot run', () => {
    assert.throws(() => checkInpaintEngineFits('inpaint-checkpoint', 'base.safetensors', 4), /inpaint\.engine: inpaint-checkpoint needs a 9-channel inpaint checkpoint; base\.safetensors takes 4 channels/);
    assert.throws(() => checkInpaintEngineFits('fooocus-v2.6', 'inpaint.safetensors', 9), refusal('inpaint.engine'));
    checkInpaintEngineFits('inpaint-checkpoint', 'inpaint.safetensors', 9);
    checkInpaintEngineFits('latent-blend', 'base.safetensors', 4);
  });

  it('pads each side by its share of that axis, truncated as Fooocus does', () => {
    const padding = resolveOutpaintPadding({ mode: 'default', outpaint: { left: { percent: 30 }, top: { percent: 30 }, bottom: { px: 16 } } }, { width: 1001, height: 333 });
    assert.deepEqual(padding, { left: 300, right: 0, top: 99, bottom: 16 });
  });

  it('picks the engine: a 9-channel UNet as itself, v2.6 on SDXL with the files for Default and Modify, else latent blend', () => {
    assert.equal(chooseInpaintEngine({ mode: 'default' }, { family: 'sd15', nineChannel: true }, withFiles), 'inpaint-checkpoint');
    assert.equal(chooseInpaintEngine({ mode: 'default' }, { family: 'sdxl', nineChannel: false }, withFiles), 'fooocus-v2.6');
    assert.equal(chooseInpaintEngine({ mode: 'modify' }, { family: 'sdxl', nineChannel: false }, withFiles), 'fooocus-v2.6');
    assert.equal(chooseInpaintEngine({ mode: 'detail' }, { family: 'sdxl', nineChannel: false }, withFiles), 'latent-blend');
    assert.equal(chooseInpaintEngine({ mode: 'default' }, { family: 'sdxl', nineChannel: false }, []), 'latent-blend');
    assert.equal(chooseInpaintEngine({ mode: 'default' }, { family: 'sd15', nineChannel: false }, withFiles), 'latent-blend');
  });

  it('puts the additional prompt first, on its own line', () => {
    assert.equal(addInpaintPrompt('a cat', { mode: 'detail', additionalPrompt: 'red eyes' }), 'red eyes\na cat');
    assert.equal(addInpaintPrompt('', { mode: 'detail', additionalPrompt: 'red eyes' }), 'red eyes');
    assert.equal(addInpaintPrompt('a cat', undefined), 'a cat');
  });
});

describe('fooocus-v2.6 through the generation service', () => {
  const temp = makeTempDir('service');
  after(() => temp.remove());

  it('builds the patched UNet, reads the head, and saves an image that keeps the unmasked pixels', async () => {
    const outputs = path.join(temp.dir, 'outputs');
    await mkdir(outputs);
    const checkpoint = await writeTinyCheckpoint(path.join(temp.dir, 'checkpoints'), 'sdxl');
    const head = await writeTinyInpaintHead(path.join(temp.dir, 'inpaint'), 32);
    const patch = await writeTinyInpaintPatch(path.join(temp.dir, 'inpaint'), checkpoint);
    const verified = async (file: string) => ({ path: file, sha256: await sha256File(file) });
    const service = new GenerationService({ runtime: { threads: 2 }, outputsDir: outputs, loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'test' });
    const picture = makePicture(96, 80);
    const mask = rectangleMask(96, 80, { left: 40, right: 56, top: 30, bottom: 44 });
    try {
      const [saved] = await service.generate({
        ...tinyRequestFields(),
        width: 96,
        height: 80,
        model: await verified(checkpoint),
        input: { image: picture, denoise: 1 },
        inpaint: { mask, engine: 'fooocus-v2.6', maskErode: 0, invertMask: false, padding: null, respectiveField: 0.618, initialLatent: true, workingSize: 64 },
        inpaintFiles: { head: await verified(head), patch: await verified(patch) },
      });
      const image = decodePng(new Uint8Array(await readFile(saved!.path)));
      assert.equal(image.width, 96);
      for (const p of pixelsFarFrom(mask, SOFT_MASK_REACH - 1)) assert.deepEqual([...image.rgb.subarray(p * 3, p * 3 + 3)], [...picture.rgb.subarray(p * 3, p * 3 + 3)]);
    } finally {
      await service.close();
    }
  });
});
