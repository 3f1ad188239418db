/**
 * Uploads through the real studio over HTTP: the hostile uploads are refused with a 4xx naming the problem, what is
 * served back is the re-encoded PNG, the per-owner cap answers 429, DELETE works, and a job never reads an input
 * through a planted link or a swapped directory.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rename, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { createStudio } from '../../src/app/studio/create-studio.ts';
import { ownerDirectory } from '../../src/app/uploads/upload-store.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../src/engine/output/png-text.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { buildServer } from '../../src/server/build-server.ts';
import { guardAgainstPathLeaks } from './path-leak-guard.ts';

const HOST = '127.0.0.1:7865';
const json = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };
const PNG_HEADER_ONLY = Buffer.from('89504e470d0a1a0a0000000d4948445200000040000000400802000000250be689', 'hex');

describe('uploads through the real studio', () => {
  let dir: string;
  let app: FastifyInstance;
  let studio: Awaited<ReturnType<typeof createStudio>>;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-app-uploads-'));
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    config.uploads.maxPerOwner = 3;
    studio = await createStudio(config, { software: 'test' });
    app = await buildServer(createAppStudioPort(studio), { host: '127.0.0.1', allowedHosts: [HOST], auth: null, outputsDir: studio.outputsDir, logger: false, rateLimit: { submitsPerMinute: 1000 } });
    guardAgainstPathLeaks(app, [dir]);
  });
  after(async () => {
    await app.close();
    await studio.close();
    await rm(dir, { recursive: true, force: true });
  });

  const upload = (type: string, payload: Buffer) => app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { host: HOST, origin: `http://${HOST}`, 'content-type': type }, payload });
  const remove = (id: string) => app.inject({ method: 'DELETE', url: `/api/v1/uploads/${id}`, headers: { host: HOST, origin: `http://${HOST}` } });
  const ownerDir = () => path.join(studio.outputsDir, 'uploads', ownerDirectory('local'));
  const stored = async () => (await readdir(ownerDir()).catch(() => [] as string[])).sort();

  async function waitForJob(id: string): Promise<{ status: string; error: string | null }> {
    for (let i = 0; i < 300; i++) {
      const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: HOST } })).json();
      if (!['queued', 'running'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 30 s');
  }

  for (const [name, type, bytes, status, rule] of [
    ['the 33-byte PNG with no pixel data', 'image/png', () => PNG_HEADER_ONLY, 400, 'pixelData'],
    ['4 MiB of random bytes behind a PNG header', 'image/png', () => Buffer.concat([PNG_HEADER_ONLY, randomBytes(4 * 1024 ** 2)]), 400, 'pixelData'],
    ['a 4096 x 4096 upload', 'image/png', () => sharp({ create: { width: 4096, height: 4096, channels: 3, background: '#336699' } }).png().toBuffer(), 413, 'maxPixels'],
  ] as const) {
    it(`refuses ${name} with ${status} naming the problem, and stores nothing`, async () => {
      const before = await stored();
      const response = await upload(type, await bytes());
      assert.equal(response.statusCode, status, response.body);
      assert.equal(response.json().field, 'body');
      assert.equal(response.json().rule, rule);
      assert.ok(!response.body.includes(dir), 'no server path in the answer');
      assert.deepEqual(await stored(), before);
    });
  }

  it('serves back the re-encoded pixels as PNG without the client metadata; DELETE removes it', async () => {
    const jpeg = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#c0ffee' } })
      .jpeg()
      .withMetadata({ exif: { IFD0: { ImageDescription: 'client secret' } } })
      .toBuffer();
    const created = await upload('image/jpeg', jpeg);
    assert.equal(created.statusCode, 201, created.body);
    const { imageId } = created.json() as { imageId: string };
    const image = await app.inject({ method: 'GET', url: `/api/v1/images/${imageId}`, headers: { host: HOST } });
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.deepEqual(Object.keys(readPngTextChunks(image.rawPayload)), []);
    assert.ok(!image.rawPayload.includes('client secret'));
    assert.equal((await remove(imageId)).statusCode, 204);
    assert.equal((await app.inject({ method: 'GET', url: `/api/v1/images/${imageId}`, headers: { host: HOST } })).statusCode, 404);
    assert.equal((await remove(imageId)).statusCode, 404);
  });

  it('caps uploads per owner with 429 naming the setting', async () => {
    const png = Buffer.from(encodePng(new Uint8Array(64 * 64 * 3).fill(7), 64, 64));
    const ids: string[] = [];
    for (let i = (await stored()).length; i < 3; i++) ids.push((await upload('image/png', png)).json().imageId);
    const over = await upload('image/png', png);
    assert.equal(over.statusCode, 429, over.body);
    assert.equal(over.json().rule, 'uploads.maxPerOwner');
    assert.equal(over.json().limit, 3);
    assert.ok(Number(over.headers['retry-after']) > 0);
    for (const id of ids) assert.equal((await remove(id)).statusCode, 204);
  });

  it('a job never reads its input through a planted link or a swapped owner directory', async () => {
    const outside = path.join(dir, 'outside');
    await mkdir(outside);
    const secret = Buffer.from(encodePng(new Uint8Array(64 * 64 * 3).fill(250), 64, 64));
    // A link planted under the owner's uploads is not an upload at all.
    await mkdir(ownerDir(), { recursive: true });
    await writeFile(path.join(outside, 'up-PLANTEDPLANTED00.png'), secret);
    await symlink(path.join(outside, 'up-PLANTEDPLANTED00.png'), path.join(ownerDir(), 'up-PLANTEDPLANTED00.png'));
    const planted = await app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: 'x', inputImageId: 'up-PLANTEDPLANTED00', width: 64, height: 64, steps: 2 } });
    assert.equal(planted.statusCode, 400, planted.body);
    assert.equal(planted.json().field, 'inputImageId');

    // A real upload whose owner directory is then swapped for a link to a directory holding a same-named file.
    const png = Buffer.from(encodePng(new Uint8Array(64 * 64 * 3).fill(20), 64, 64));
    const { imageId } = (await upload('image/png', png)).json() as { imageId: string };
    await writeFile(path.join(outside, `${imageId}.png`), secret);
    await rename(ownerDir(), `${ownerDir()}-moved`);
    await symlink(outside, ownerDir());
    try {
      const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: 'x', inputImageId: imageId, denoise: 0.5, width: 64, height: 64, steps: 2 } });
      assert.equal(submit.statusCode, 202, submit.body);
      const job = await waitForJob(submit.json().id);
      assert.equal(job.status, 'failed', JSON.stringify(job));
      assert.match(job.error ?? '', /input image cannot be used/);
      assert.ok(!(job.error ?? '').includes(dir));
    } finally {
      await rm(ownerDir());
      await rename(`${ownerDir()}-moved`, ownerDir());
    }
  });
});
