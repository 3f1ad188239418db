/**
 * Image prompts over HTTP: the schema's bounds (at most four, known types, stop and weight ranges), upload ids
 * resolved at submit, the IP-Adapter and control-LoRA files (and PyraCanny/CPDS's SDXL-only rule) checked before
 * anything is queued, and the job report giving the upload ids back with each type's defaults filled in.
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import path from 'node:path';
import { DEMO_MODEL_NAME } from '../../src/app/demo/demo-model.ts';
import { CONTROL_FILES } from '../../src/app/generation/image-prompt-files.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { readSafetensorsHeader } from '../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../src/engine/io/safetensors-writer.ts';
import { inspectHeader } from '../../src/engine/models/inspect.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { generateTinyControlLora } from '../fixtures/control-loras.ts';
import { STUDIO_HOST, useStudioServer, type StudioServer } from './studio-server.ts';

const headers = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}` };

describe('image prompts over HTTP (real studio)', { timeout: 300_000 }, () => {
  let server: StudioServer;
  useStudioServer((s) => (server = s), 'fooocus-image-prompt-requests-');
  let imageId: string;

  const submit = (body: Record<string, unknown>) =>
    server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: 'a harbour', model: DEMO_MODEL_NAME, ...body }) });
  const refusal = async (body: Record<string, unknown>): Promise<{ field: string; rule: string; message: string }> => {
    const response = await submit(body);
    assert.equal(response.statusCode, 400, response.body);
    return response.json();
  };

  before(async () => {
    const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#336699' } }).png().toBuffer();
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/uploads?purpose=image', headers: { ...headers, 'content-type': 'image/png' }, payload: png });
    assert.equal(response.statusCode, 201, response.body);
    imageId = (response.json() as { imageId: string }).imageId;
  });

  it('refuses a fifth image prompt, an unknown type and a weight out of range, naming the field', async () => {
    const five = await refusal({ imagePrompts: Array.from({ length: 5 }, () => ({ imageId })) });
    assert.match(five.field, /imagePrompts/);
    const type = await refusal({ imagePrompts: [{ imageId, type: 'Canny' }] });
    assert.match(type.field, /imagePrompts\/0\/type|imagePrompts\[0\]\.type/);
    const weight = await refusal({ imagePrompts: [{ imageId, weight: 2.5 }] });
    assert.match(weight.field, /imagePrompts\/0\/weight|imagePrompts\[0\]\.weight/);
  });

  it('refuses an unknown upload and a missing IP-Adapter before queueing, naming the field, the files and how to add them', async () => {
    const upload = await refusal({ imagePrompts: [{ imageId: 'nosuchupload0000000000' }] });
    assert.deepEqual([upload.field, upload.rule], ['imagePrompts[0].imageId', 'uploaded']);
    const files = await refusal({ imagePrompts: [{ imageId, type: 'ImagePrompt' }] });
    assert.deepEqual([files.field, files.rule], ['imagePrompts[0].type', 'installed']);
    assert.match(files.message, /clip_vision\/clip_vision_vit_h\.safetensors/);
    assert.match(files.message, /models import <file> --kind <kind>/);
  });

  it('needs the mixing switch with Vary, and reports the upload ids with the defaults filled in', async () => {
    const mixed = await refusal({ inputImageId: imageId, varyUpscale: { mode: 'vary-subtle' }, imagePrompts: [{ imageId, type: 'CPDS' }] });
    assert.deepEqual([mixed.field, mixed.rule], ['imagePrompts', 'conflict']);
    const sd15 = await refusal({ imagePrompts: [{ imageId, type: 'CPDS', weight: 0.4 }, { imageId, type: 'PyraCanny' }] });
    assert.deepEqual([sd15.field, sd15.rule], ['imagePrompts[0].type', 'family']);

    // PyraCanny and CPDS run on SDXL with their control-LoRAs installed.
    const store = await openModelStore(path.join(server.dir, 'models'));
    const checkpoint = await writeTinyCheckpoint(path.join(server.dir, 'files'), 'sdxl');
    const model = (await importModel(store, checkpoint, { kind: 'checkpoints', name: 'tiny-sdxl.safetensors' })).name;
    const missing = await refusal({ model, imagePrompts: [{ imageId, type: 'PyraCanny' }] });
    assert.deepEqual([missing.field, missing.rule], ['imagePrompts[0].type', 'installed']);
    assert.match(missing.message, /controlnet\/control-lora-canny-rank128\.safetensors.*models import <file> --kind controlnet/);
    const controlLora = path.join(server.dir, 'files', 'control.safetensors');
    await writeSafetensors(controlLora, generateTinyControlLora(inspectHeader(await readSafetensorsHeader(checkpoint)).architecture.unet!));
    for (const file of Object.values(CONTROL_FILES)) await importModel(store, controlLora, { kind: 'controlnet', name: file.name });
    const response = await submit({ model, imagePrompts: [{ imageId, type: 'CPDS', weight: 0.4 }, { imageId, type: 'PyraCanny' }] });
    assert.equal(response.statusCode, 202, response.body);
    const { id } = response.json() as { id: string };
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers });
    const job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers })).json() as { request: { imagePrompts: unknown } };
    assert.deepEqual(job.request.imagePrompts, [
      { imageId, type: 'CPDS', stopAt: 0.5, weight: 0.4 },
      { imageId, type: 'PyraCanny', stopAt: 0.5, weight: 1 },
    ]);
  });
});
