/**
 * History written by the previous version of the studio (test/fixtures/jobs-previous, made by its script at that
 * version) still lists through the API after an upgrade, with every field the page's Reuse fills in, and stays
 * scoped to its owner.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { createStudio } from '../../src/app/studio/create-studio.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { buildServer } from '../../src/server/build-server.ts';

const HOST = '127.0.0.1:7865';
const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'jobs-previous', 'jobs-v1.sqlite');

/** The request fields the page's Reuse reads, as the previous version's API returned them for each stored job. */
const REUSED = [
  {
    status: 'cancelled',
    request: {
      prompt: 'portrait of an old sailor, <lora:detail:0.5>',
      negative: 'blurry',
      styles: ['Fooocus Photograph', 'Random Style'],
      performance: 'Quality',
      width: 832,
      height: 1216,
      imageCount: 1,
      seed: '42',
      model: 'tiny-sdxl.safetensors',
      refiner: 'tiny-refiner.safetensors',
      refinerSwitch: 0.6,
      loras: [{ name: 'detail.safetensors', weight: 0.7 }],
      steps: 12,
      cfg: 5.5,
      sharpness: 3,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      format: 'webp',
    },
  },
  {
    status: 'interrupted',
    request: { prompt: 'the same fox, at dusk', negative: '', styles: [], performance: 'Speed', width: 512, height: 512, imageCount: 1, seed: '9223372036854775807', format: 'jpeg', denoise: 0.35 },
  },
  {
    status: 'failed',
    request: {
      prompt: 'portrait of an old sailor, <lora:detail:0.5>',
      negative: 'blurry',
      styles: ['Fooocus Photograph', 'Random Style'],
      performance: 'Quality',
      width: 832,
      height: 1216,
      imageCount: 1,
      seed: '42',
      model: 'tiny-sdxl.safetensors',
      refiner: 'tiny-refiner.safetensors',
      refinerSwitch: 0.6,
      loras: [{ name: 'detail.safetensors', weight: 0.7 }],
      steps: 12,
      cfg: 5.5,
      sharpness: 3,
      sampler: 'dpmpp_2m',
      scheduler: 'karras',
      format: 'webp',
    },
  },
  {
    status: 'done',
    request: { prompt: 'a red fox in snow', negative: '', styles: ['FooocusTS Expansion'], performance: 'Speed', width: 1152, height: 896, imageCount: 2, seed: '1234567890123456789', format: 'png' },
  },
];

describe('history saved by the previous version', () => {
  let dir: string;
  let app: FastifyInstance;
  let studio: Awaited<ReturnType<typeof createStudio>>;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-previous-'));
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    mkdirSync(config.paths.cache, { recursive: true, mode: 0o750 });
    copyFileSync(FIXTURE, path.join(config.paths.cache, 'jobs.sqlite'));
    studio = await createStudio(config, { software: 'test' });
    app = await buildServer(createAppStudioPort(studio), { host: '127.0.0.1', allowedHosts: [HOST], auth: null, outputsDir: studio.outputsDir, logger: false });
  });
  after(async () => {
    await app.close();
    await studio.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the owner\'s jobs, newest first, with the request fields Reuse fills the form from', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } });
    assert.equal(response.statusCode, 200, response.body);
    const items = response.json().items as { id: string; status: string; request: Record<string, unknown>; images: { imageId: string; seed: string }[] }[];
    assert.deepEqual(items.map((i) => i.status), REUSED.map((r) => r.status));
    items.forEach((item, at) => {
      const expected = REUSED[at]!.request;
      const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, item.request[key]]));
      assert.deepEqual(picked, expected, `${item.status} job`);
    });
    assert.ok(!items.some((i) => i.request.prompt === 'not yours'));
    const done = items.at(-1)!;
    assert.deepEqual(done.images.map((i) => i.seed), ['1234567890123456789', '1234567890123456790']);
    assert.ok(done.images.every((i) => i.imageId.startsWith(`${done.id}-`)));
  });

  it('opens one stored job by id, and retries a failed one as a new job with the same request', async () => {
    const { items } = (await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } })).json() as { items: { id: string; status: string; request: unknown }[] };
    const interrupted = items.find((i) => i.status === 'interrupted')!;
    const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${interrupted.id}`, headers: { host: HOST } })).json();
    assert.deepEqual(job.request, interrupted.request);
    const failed = items.find((i) => i.status === 'failed')!;
    const retry = await app.inject({ method: 'POST', url: `/api/v1/jobs/${failed.id}/retry`, headers: { host: HOST, origin: `http://${HOST}` } });
    assert.equal(retry.statusCode, 202, retry.body);
    const again = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${retry.json().id}`, headers: { host: HOST } })).json();
    assert.deepEqual(again.request, failed.request);
  });
});
