/**
 * The real studio on the Redis queue with a worker node that has its own model store (each makes the demo model
 * itself, so they pin the same SHA-256): readiness reports Redis and the worker, a text-to-image and an
 * image-to-image job (its upload sent with the job) run on the worker, and their images land in the studio's
 * outputs only, served over HTTP.
 */
import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { startWorkerNode, type WorkerNode } from '../../src/app/studio/worker-node.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from '../app/jobs/redis-server.ts';
import { startStudioServer, STUDIO_HOST, stopStudioServer, type StudioServer } from './studio-server.ts';

const json = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': 'application/json' };

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

describe('the studio on Redis with a worker machine', { skip: skipWithoutRedis, timeout: 120_000 }, () => {
  let redis: TestRedis;
  let server: StudioServer;
  let node: WorkerNode;
  let workerDir: string;

  before(async () => {
    redis = await startTestRedis();
    server = await startStudioServer('fooocus-redis-studio-', (_dir, config) => {
      config.queue = { ...config.queue, backend: 'redis', redisUrl: redis.url, redisPrefix: 'studio', localWorker: false };
    });
    workerDir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-redis-worker-'));
    const config = createDefaultConfig();
    config.paths = { models: path.join(workerDir, 'models'), outputs: path.join(workerDir, 'outputs'), cache: path.join(workerDir, 'cache') };
    config.runtime.threads = 1;
    config.queue = { ...config.queue, redisUrl: redis.url, redisPrefix: 'studio' };
    node = await startWorkerNode(config, { software: 'test', log: () => undefined, id: 'gpu-1' });
  });
  after(async () => {
    await node?.close();
    if (server !== undefined) await stopStudioServer(server);
    await redis?.dispose();
    rmSync(workerDir, { recursive: true, force: true });
  });

  async function waitForJob(id: string): Promise<{ status: string; error: string | null; images: { url: string }[] }> {
    for (let i = 0; i < 600; i++) {
      const job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: STUDIO_HOST } })).json();
      if (!['queued', 'running'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 60 s');
  }

  it('readiness names Redis and the live worker', async () => {
    let body: { status: string; redis?: string; workers?: number } = { status: '' };
    for (let i = 0; i < 100 && body.workers !== 1; i++) {
      body = (await server.app.inject({ method: 'GET', url: '/readyz', headers: { host: STUDIO_HOST } })).json();
      if (body.workers !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(body, { status: 'ok', redis: 'connected', workers: 1, providers: { cpu: 1 } });
  });

  it('text-to-image and image-to-image jobs run on the worker; images are kept by the studio only', async () => {
    const text = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: 'a cat', width: 64, height: 64, steps: 2, imageCount: 2 } });
    assert.equal(text.statusCode, 202, text.body);
    const done = await waitForJob(text.json().id);
    assert.equal(done.status, 'done', done.error ?? '');
    assert.equal(done.images.length, 2);
    const image = await server.app.inject({ method: 'GET', url: done.images[0]!.url, headers: { host: STUDIO_HOST } });
    assert.equal(image.statusCode, 200);
    assert.deepEqual(image.rawPayload.subarray(1, 4), Buffer.from('PNG'));

    const pixels = new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 256);
    const upload = await server.app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': 'image/png' }, payload: Buffer.from(encodePng(pixels, 64, 64)) });
    assert.equal(upload.statusCode, 201, upload.body);
    const img2img = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: 'x', inputImageId: upload.json().imageId, denoise: 0.5, width: 64, height: 64, steps: 2 } });
    assert.equal(img2img.statusCode, 202, img2img.body);
    assert.equal((await waitForJob(img2img.json().id)).status, 'done');

    assert.equal(listFiles(path.join(server.dir, 'outputs')).filter((f) => f.endsWith('.png') && !f.startsWith('up-')).length, 3);
    assert.deepEqual(listFiles(path.join(workerDir, 'outputs')).filter((f) => f.endsWith('.png')), [], 'the worker keeps no image');
  });
});
