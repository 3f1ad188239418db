/**
 * What the API says when a job fails or a request is malformed, through the real studio and inference process:
 * the error the user can act on, by store name and field name, never a path of the server's folders (the leak
 * guard checks every response here).
 */
import { strict as assert } from 'node:assert';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { importModel } from '../../src/app/models/import-model.ts';
import type { Studio } from '../../src/app/studio/create-studio.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { useStudioServer, STUDIO_HOST as HOST } from './studio-server.ts';

const headers = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };

describe('job and request errors over HTTP', () => {
  let dir: string;
  let app: FastifyInstance;
  let studio: Studio;
  useStudioServer((server) => ({ dir, app, studio } = server), 'fooocus-errors-');

  async function waitForJob(id: string): Promise<{ status: string; error: string | null }> {
    for (let i = 0; i < 200; i++) {
      const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: HOST } })).json();
      if (!['queued', 'running'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 20 s');
  }

  it('names a tampered model by its store name in the job error and its event stream, never the models folder', async () => {
    const file = await writeTinyCheckpoint(path.join(dir, 'to-tamper'), 'sd15');
    const { name } = await importModel(studio.store, file, { kind: 'checkpoints', name: 'tampered.safetensors' });
    const stored = await studio.store.resolve('checkpoints', name);
    const tampered = readFileSync(stored);
    tampered[tampered.length - 1] = tampered.at(-1)! ^ 0xff;
    writeFileSync(stored, tampered);
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'x', model: name, width: 64, height: 64, steps: 2 } });
    assert.equal(submit.statusCode, 202, submit.body);
    const events = await app.inject({ method: 'GET', url: `/api/v1/jobs/${submit.json().id}/events`, headers: { host: HOST } });
    const job = await waitForJob(submit.json().id);
    assert.equal(job.status, 'failed');
    const error = job.error ?? '';
    assert.match(error, /^checkpoints\/tampered\.safetensors: SHA-256 is [0-9a-f]{64}, expected [0-9a-f]{64}; refusing to load a file that changed/);
    assert.ok(events.body.includes('checkpoints/tampered.safetensors: SHA-256 is'), events.body);
    assert.ok(!error.includes(dir) && !events.body.includes(dir));
  });

  it('answers a malformed history cursor with 400 naming the cursor', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/history?cursor=AAAA', headers: { host: HOST } });
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(response.json(), { error: 'invalid_request', field: 'cursor', message: 'cursor: must be a cursor returned by a previous page' });
  });

  it("passes the worker's verdict on a request to the client: an input image of the wrong size", async () => {
    const png = Buffer.from(encodePng(new Uint8Array(64 * 64 * 3).fill(90), 64, 64));
    const up = await app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'image/png' }, payload: png });
    assert.equal(up.statusCode, 201, up.body);
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'x', model: 'fooocus-ts-demo.safetensors', inputImageId: up.json().imageId, width: 128, height: 128, steps: 2 } });
    assert.equal(submit.statusCode, 202, submit.body);
    const job = await waitForJob(submit.json().id);
    assert.equal(job.status, 'failed');
    assert.equal(job.error, 'input: image is 64x64 but the request asks for 128x128');
  });
});
