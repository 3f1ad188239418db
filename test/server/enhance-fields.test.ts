/**
 * The `enhance` field over HTTP: in the OpenAPI document with its bounds, a malformed tab refused by the schema
 * naming the field, a tab nothing installed can find refused at submit by the use case, and an accepted request
 * stored with each tab's defaults filled in (what the job report, and so history Reuse, reads back).
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import sharp from 'sharp';
import { DEMO_MODEL_NAME } from '../../src/app/demo/demo-model.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { writeTinyForegroundModel } from '../fixtures/foreground-models.ts';
import { STUDIO_HOST, useStudioServer, type StudioServer } from './studio-server.ts';

const headers = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}` };

describe('enhance over HTTP (real studio)', { timeout: 300_000 }, () => {
  let server: StudioServer;
  useStudioServer((s) => (server = s), 'fooocus-enhance-fields-');
  let imageId: string;

  const post = (body: Record<string, unknown>) =>
    server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...headers, 'content-type': 'application/json' }, payload: JSON.stringify({ prompt: 'a harbour', model: DEMO_MODEL_NAME, ...body }) });

  before(async () => {
    const png = await sharp({ create: { width: 80, height: 64, channels: 3, background: '#aa2222' } }).png().toBuffer();
    const response = await server.app.inject({ method: 'POST', url: '/api/v1/uploads?purpose=image', headers: { ...headers, 'content-type': 'image/png' }, payload: png });
    assert.equal(response.statusCode, 201, response.body);
    imageId = (response.json() as { imageId: string }).imageId;
  });

  it('documents enhance in the OpenAPI document with its bounds', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/api/openapi.json', headers })).json() as { components?: unknown; paths: unknown };
    const text = JSON.stringify(doc);
    assert.match(text, /"enhance":\{/);
    assert.match(text, /"detectionPrompt":\{/);
    assert.match(text, /"maxItems":3/);
  });

  it('refuses a bad tab naming the field, and a prompt nothing installed can find', async () => {
    const bad = await post({ enhance: { tabs: [{ detectionPrompt: 'person' }, { detectionPrompt: 'person', strength: 2 }] } });
    assert.equal(bad.statusCode, 400, bad.body);
    assert.match((bad.json() as { field: string }).field, /^enhance\.tabs\[1\]\.strength$|^\/enhance\/tabs\/1\/strength$/);
    const missing = await post({ enhance: { tabs: [{ detectionPrompt: 'person' }] } });
    assert.equal(missing.statusCode, 400, missing.body);
    assert.equal((missing.json() as { field: string }).field, 'enhance.tabs[0].maskModel');
    const face = await post({ enhance: { tabs: [{ detectionPrompt: 'face' }] } });
    assert.equal((face.json() as { field: string }).field, 'enhance.tabs[0].detectionPrompt');
  });

  it('accepts an Enhance of an uploaded image and stores the tabs with their defaults', async () => {
    await importModel(server.studio.store, await writeTinyForegroundModel(server.dir), { kind: 'detection' });
    const response = await post({ inputImageId: imageId, enhance: { tabs: [{ detectionPrompt: 'background', prompt: 'a beach' }] } });
    assert.equal(response.statusCode, 202, response.body);
    const { id } = response.json() as { id: string };
    await server.app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers });
    const job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers })).json() as { request: { enhance?: { tabs: Record<string, unknown>[] }; width: number } };
    assert.deepEqual(job.request.enhance?.tabs[0], { detectionPrompt: 'background', prompt: 'a beach', maskModel: 'u2net.onnx', mode: 'default', strength: 1, respectiveField: 0.618, boxThreshold: 0.3, textThreshold: 0.25, maxDetections: 0 });
    assert.equal(job.request.width, 80, 'an input enhanced alone keeps its size');
  });
});
