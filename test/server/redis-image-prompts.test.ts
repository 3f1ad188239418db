/**
 * An image prompt job on a Redis worker machine: the studio sends the prompt's uploaded image with the job (decoded
 * through its upload checks, with the SHA-256 of the file) and pins the control-LoRA by SHA-256; the worker, which
 * has no such upload, runs it and the image the studio keeps records the prompt's type and its image's digest.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { CONTROL_FILES } from '../../src/app/generation/image-prompt-files.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { startWorkerNode, type WorkerNode } from '../../src/app/studio/worker-node.ts';
import { inspectHeader, readSafetensorsHeader, writeSafetensors } from '../../src/engine/index.ts';
import { parseGenerationMetadata } from '../../src/engine/output/generation-metadata.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../src/engine/output/png-text.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from '../app/jobs/redis-server.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { generateTinyControlLora } from '../fixtures/control-loras.ts';
import { controlTestImage } from '../fixtures/control-maps/control-test-image.ts';
import { startStudioServer, STUDIO_HOST, stopStudioServer, type StudioServer } from './studio-server.ts';

const json = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': 'application/json' };

describe('image prompts on a Redis worker machine', { skip: skipWithoutRedis, timeout: 180_000 }, () => {
  let redis: TestRedis;
  let server: StudioServer;
  let node: WorkerNode;
  let root: string;
  let model: string;

  before(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-redis-ip-'));
    // The same tiny SDXL checkpoint and control-LoRA bytes in both stores, so the pins match.
    const files = path.join(root, 'files');
    const checkpoint = await writeTinyCheckpoint(files, 'sdxl');
    const control = path.join(files, CONTROL_FILES.PyraCanny.name);
    await writeSafetensors(control, generateTinyControlLora(inspectHeader(await readSafetensorsHeader(checkpoint)).architecture.unet!));
    for (const side of ['studio', 'worker']) {
      mkdirSync(path.join(root, side), { recursive: true });
      const store = await openModelStore(path.join(root, side, 'models'));
      model = (await importModel(store, checkpoint, { kind: 'checkpoints' })).name;
      await importModel(store, control, { kind: 'controlnet' });
    }
    redis = await startTestRedis();
    server = await startStudioServer('fooocus-redis-ip-studio-', (_dir, config) => {
      config.paths.models = path.join(root, 'studio', 'models');
      config.queue = { ...config.queue, backend: 'redis', redisUrl: redis.url, redisPrefix: 'ip', localWorker: false };
    });
    const config = createDefaultConfig();
    config.paths = { models: path.join(root, 'worker', 'models'), outputs: path.join(root, 'worker', 'outputs'), cache: path.join(root, 'worker', 'cache') };
    config.runtime.threads = 1;
    config.queue = { ...config.queue, redisUrl: redis.url, redisPrefix: 'ip' };
    node = await startWorkerNode(config, { software: 'test', log: () => undefined, id: 'ip-1' });
  });
  after(async () => {
    await node?.close();
    if (server !== undefined) await stopStudioServer(server);
    await redis?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  async function waitForJob(id: string): Promise<{ status: string; error: string | null; images: { url: string }[] }> {
    for (let i = 0; i < 1200; i++) {
      const job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: STUDIO_HOST } })).json();
      if (!['queued', 'running'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 120 s');
  }

  it('runs a PyraCanny job whose upload only the studio has, and records the image by name and SHA-256', async () => {
    const edges = controlTestImage(64, 64, 5);
    const upload = await server.app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': 'image/png' }, payload: Buffer.from(encodePng(edges.rgb, edges.width, edges.height)) });
    assert.equal(upload.statusCode, 201, upload.body);
    const payload = { prompt: 'a lighthouse', model, width: 64, height: 64, steps: 2, imagePrompts: [{ imageId: upload.json().imageId, type: 'PyraCanny' }] };
    const submitted = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload });
    assert.equal(submitted.statusCode, 202, submitted.body);
    const done = await waitForJob(submitted.json().id);
    assert.equal(done.status, 'done', done.error ?? '');

    const image = await server.app.inject({ method: 'GET', url: done.images[0]!.url, headers: { host: STUDIO_HOST } });
    const chunks = readPngTextChunks(new Uint8Array(image.rawPayload));
    const [recorded] = parseGenerationMetadata(chunks.parameters!, chunks.fooocus_scheme).inputImage?.imagePrompts ?? [];
    assert.equal(recorded?.type, 'PyraCanny');
    const outputs = path.join(server.dir, 'outputs');
    const uploaded = readdirSync(outputs, { recursive: true, withFileTypes: true }).find((e) => e.isFile() && e.name === recorded!.image);
    assert.ok(uploaded, `the studio has the upload ${recorded?.image}`);
    assert.equal(recorded!.imageSha256, createHash('sha256').update(readFileSync(path.join(uploaded.parentPath, uploaded.name))).digest('hex'));
    assert.deepEqual(readdirSync(path.join(root, 'worker', 'outputs'), { recursive: true }).filter((f) => String(f).endsWith('.png')), [], 'the worker keeps no image and had no upload');
  });
});
