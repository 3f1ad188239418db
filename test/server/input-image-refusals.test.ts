/**
 * Input Image requests the studio refuses at submit (400 naming the field), not when the job runs:
 * an empty mask (all black, or emptied by erode or invert), an inpaint engine the checkpoint cannot run (a
 * 4-channel model named for inpaint-checkpoint, a 9-channel one named for another engine, fooocus-v2.6 on SD 1.5
 * or without its files) and an upscaler that is not installed.
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DEMO_MODEL_NAME } from '../../src/app/demo/demo-model.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { STUDIO_HOST, useStudioServer, type StudioServer } from './studio-server.ts';

const headers = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}` };
const W = 80;
const H = 64;

/** A W x H grey mask PNG, white inside the box (none: all black). */
function maskPng(box?: { left: number; top: number; size: number }): Promise<Buffer> {
  const grey = Buffer.alloc(W * H);
  if (box !== undefined) for (let y = box.top; y < box.top + box.size; y++) grey.fill(255, y * W + box.left, y * W + box.left + box.size);
  return sharp(grey, { raw: { width: W, height: H, channels: 1 } }).png().toBuffer();
}

describe('Input Image refusals at submit (real studio)', { timeout: 300_000 }, () => {
  let server: StudioServer;
  useStudioServer((s) => (server = s), 'fooocus-input-image-refusals-');
  let imageId: string;
  let maskId: string;
  let blackId: string;
  let sdxl: string;
  let nineChannel: string;

  const upload = async (png: Buffer, purpose: 'image' | 'mask'): Promise<string> => {
    const response = await server.app.inject({ method: 'POST', url: `/api/v1/uploads?purpose=${purpose}`, headers: { ...headers, 'content-type': 'image/png' }, payload: png });
    assert.equal(response.statusCode, 201, response.body);
    return (response.json() as { imageId: string }).imageId;
  };
  const refusal = async (body: Record<string, unknown>): Promise<{ field: string; rule: string; message: string }> => {
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: 'a harbour', model: DEMO_MODEL_NAME, ...body }) });
    assert.equal(response.statusCode, 400, response.body);
    return response.json();
  };

  before(async () => {
    imageId = await upload(await sharp({ create: { width: W, height: H, channels: 3, background: '#336699' } }).png().toBuffer(), 'image');
    maskId = await upload(await maskPng({ left: 16, top: 16, size: 16 }), 'mask');
    blackId = await upload(await maskPng(), 'mask');
    sdxl = (await importModel(server.studio.store, await writeTinyCheckpoint(server.dir, 'sdxl'), { kind: 'checkpoints' })).name;
    nineChannel = (await importModel(server.studio.store, await writeTinyCheckpoint(server.dir, 'sd15', { inpaint: true }), { kind: 'checkpoints' })).name;
  });

  it('refuses describe-then-generate without an input image, or with its describer not installed, naming describeFirst', async () => {
    const alone = await refusal({ prompt: '', describeFirst: 'anime' });
    assert.deepEqual([alone.field, alone.rule], ['describeFirst', 'needsInput']);
    const missing = await refusal({ prompt: '', inputImageId: imageId, describeFirst: 'photo' });
    assert.deepEqual([missing.field, missing.rule], ['describeFirst', 'installed']);
    assert.match(missing.message, /clip_vision\/blip-image-captioning-base\.safetensors/);
    const unknown = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: '', model: DEMO_MODEL_NAME, inputImageId: imageId, describeFirst: 'poem' }) });
    assert.equal(unknown.statusCode, 400, unknown.body);
    assert.equal((unknown.json() as { field: string }).field, 'describeFirst');
  });

  it('refuses an all-black mask, naming inpaint.mask', async () => {
    const error = await refusal({ inputImageId: imageId, inpaint: { mode: 'default', mask: blackId } });
    assert.deepEqual([error.field, error.rule], ['inpaint.mask', 'empty']);
    assert.match(error.message, /inpaint\.mask is empty/);
  });

  it('refuses a mask that erode or invert leaves empty, as the run would apply them', async () => {
    const eroded = await refusal({ inputImageId: imageId, inpaint: { mode: 'default', mask: maskId, maskErode: 12 } });
    assert.deepEqual([eroded.field, eroded.rule], ['inpaint.mask', 'empty']);
    // Inverted, the all-black mask repaints everything: accepted (then cancelled).
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: 'a', model: DEMO_MODEL_NAME, inputImageId: imageId, inpaint: { mode: 'default', mask: blackId, invertMask: true } }) });
    assert.equal(response.statusCode, 202, response.body);
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/${(response.json() as { id: string }).id}/cancel`, headers });
  });

  it('refuses inpaint-checkpoint on a 4-channel model, naming inpaint.engine', async () => {
    const error = await refusal({ inputImageId: imageId, inpaint: { mode: 'default', mask: maskId, engine: 'inpaint-checkpoint' } });
    assert.equal(error.field, 'inpaint.engine');
    assert.match(error.message, /inpaint-checkpoint needs a 9-channel inpaint checkpoint; .* takes 4 channels/);
  });

  it('refuses another engine on a 9-channel inpaint checkpoint, naming inpaint.engine', async () => {
    const error = await refusal({ model: nineChannel, inputImageId: imageId, inpaint: { mode: 'detail', mask: maskId, engine: 'latent-blend' } });
    assert.equal(error.field, 'inpaint.engine');
    assert.match(error.message, /is a 9-channel inpaint checkpoint, which only the inpaint-checkpoint engine runs; got latent-blend/);
  });

  it('refuses fooocus-v2.6 on an SD 1.5 model, and on SDXL without its files, naming each file and the pull command', async () => {
    const family = await refusal({ inputImageId: imageId, inpaint: { mode: 'default', mask: maskId, engine: 'fooocus-v2.6' } });
    assert.deepEqual([family.field, family.rule], ['inpaint.engine', 'family']);
    const files = await refusal({ model: sdxl, inputImageId: imageId, inpaint: { mode: 'default', mask: maskId, engine: 'fooocus-v2.6' } });
    assert.deepEqual([files.field, files.rule], ['inpaint.engine', 'installed']);
    assert.match(files.message, /fooocus_inpaint_head\.safetensors and inpaint_v26\.fooocus\.safetensors/);
    assert.match(files.message, /`npm run fooocus -- models pull fooocus-inpaint-head fooocus-inpaint-v26`/);
  });

  it('refuses an upscaler that is not installed, naming varyUpscale.upscaler', async () => {
    const named = await refusal({ inputImageId: imageId, varyUpscale: { mode: 'upscale-2x', upscaler: 'nope.safetensors' } });
    assert.deepEqual([named.field, named.rule], ['varyUpscale.upscaler', 'installed']);
    assert.match(named.message, /upscaler "nope\.safetensors" is not in the model store/);
    const none = await refusal({ inputImageId: imageId, varyUpscale: { mode: 'upscale-fast-2x' } });
    assert.match(none.message, /needs an upscaler model and none is installed: run `npm run fooocus -- models pull fooocus-upscaler-s409985e5`/);
  });
});
