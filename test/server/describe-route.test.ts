/**
 * POST /api/v1/describe at the HTTP boundary (fake studio: authentication, the type, the image checks, the OpenAPI
 * document) and through the real studio with the tiny WD14 tagger installed (the tags as the prompt; a describer
 * whose files are missing refused with 400 naming the field and the files; the describer runs in the inference
 * process, so the server answers other requests while it works).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createFixture, HOST, ORIGIN, type Fixture } from './server-fixture.ts';
import { startStudioServer, stopStudioServer, STUDIO_HOST, type StudioServer } from './studio-server.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { writeTinyTagger } from '../fixtures/wd14-taggers.ts';
import { findInferencePids, skipWithoutProc } from '../app/worker/inference-processes.ts';

const TOKEN = 'fooocus-test-token-0123456789abcdef';

function redPng(width: number, height: number): Buffer {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb[i] = 255;
  return Buffer.from(encodePng(rgb, width, height));
}

describe('describe route (HTTP boundary)', () => {
  let f: Fixture;
  let locked: Fixture;
  before(async () => {
    f = await createFixture({ quotas: { maxPixels: 100 * 100, maxUploadBytes: 64 * 1024 } });
    locked = await createFixture({ auth: { users: [], tokens: [{ name: 'cli', tokenHash: createHash('sha256').update(TOKEN).digest('hex'), owner: 'alice' }] } });
  });
  after(async () => {
    await f.close();
    await locked.close();
  });
  const post = (fixture: Fixture, query: string, type: string, payload: Buffer, headers: Record<string, string> = {}) =>
    fixture.app.inject({ method: 'POST', url: `/api/v1/describe${query}`, headers: { host: HOST, origin: ORIGIN, 'content-type': type, ...headers }, payload });

  it('hands the image and type to the studio and answers its description', async () => {
    const response = await post(f, '?type=anime', 'image/png', redPng(80, 64));
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { type: 'anime', text: 'anime 80x64' });
  });

  it('needs a signed-in user or token when auth is on', async () => {
    assert.equal((await post(locked, '?type=photo', 'image/png', redPng(64, 64))).statusCode, 401);
    const ok = await post(locked, '?type=photo', 'image/png', redPng(64, 64), { authorization: `Bearer ${TOKEN}` });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(locked.studio.calls.at(-1)?.owner, 'alice');
  });

  it('refuses a missing or unknown type with 400 naming it, before the studio', async () => {
    const calls = f.studio.calls.length;
    for (const query of ['', '?type=manga', '?type=anime&extra=1']) {
      const response = await post(f, query, 'image/png', redPng(64, 64));
      assert.equal(response.statusCode, 400, query);
      assert.match(response.body, /type|extra/);
    }
    assert.equal(f.studio.calls.length, calls);
  });

  it('refuses a body that is not the declared image (400), one over the pixel quota (413) and a non-image type (415)', async () => {
    const garbage = await post(f, '?type=anime', 'image/png', Buffer.from('not an image'));
    assert.equal(garbage.statusCode, 400);
    assert.equal(garbage.json().field, 'body');
    assert.equal((await post(f, '?type=anime', 'image/jpeg', redPng(64, 64))).json().field, 'content-type');
    const big = await post(f, '?type=anime', 'image/png', redPng(120, 120));
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().rule, 'maxPixels');
    assert.equal((await post(f, '?type=anime', 'text/plain', Buffer.from('hello'))).statusCode, 415);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/openapi.json', headers: { host: HOST } })).json();
    const route = doc.paths['/api/v1/describe'];
    assert.ok(route?.post, 'the describe route is documented');
    assert.deepEqual(route.post.parameters.find((p: { name: string }) => p.name === 'type').schema.enum, ['photo', 'anime']);
    assert.ok(route.post.responses['200'].content['application/json'].schema.properties.tags);
  });
});

describe('describe route (real studio, tiny WD14 tagger)', () => {
  let s: StudioServer;
  before(async () => {
    s = await startStudioServer('fooocus-describe-route-');
    const files = writeTinyTagger(s.dir);
    await importModel(s.studio.store, files.model, { kind: 'clip_vision' });
    await importModel(s.studio.store, files.tags, { kind: 'clip_vision' });
  });
  after(() => stopStudioServer(s));
  const post = (query: string, payload: Buffer, type = 'image/png') =>
    s.app.inject({ method: 'POST', url: `/api/v1/describe${query}`, headers: { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': type }, payload });

  it('answers the tags of the image as a prompt', async () => {
    const response = await post('?type=anime', redPng(64, 64));
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json();
    assert.equal(body.text, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
    assert.deepEqual(body.tags.map((t: { category: string }) => t.category), ['character', 'general', 'general', 'general']);
  });

  it('refuses a describer that is not installed with 400 naming the field and the files', async () => {
    const response = await post('?type=photo', redPng(64, 64));
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().field, 'type');
    assert.equal(response.json().rule, 'installed');
    assert.match(response.json().message, /Photograph describer/);
  });

  it('describes in the inference process: with it stopped, the server still answers, and the description comes once it resumes', { skip: skipWithoutProc }, async () => {
    // The first description starts the inference process and loads the tagger there.
    assert.equal((await post('?type=anime', redPng(64, 64))).statusCode, 200);
    const [pid] = findInferencePids(s.dir);
    assert.ok(pid !== undefined, 'the describer ran in the inference process');
    const order: string[] = [];
    process.kill(pid, 'SIGSTOP');
    let settled = false;
    const describing = post('?type=anime', redPng(80, 64)).then((response) => (order.push('described'), (settled = true), response));
    try {
      // Once the image is checked and decoded here, the request waits in the stopped process.
      while (s.studio.inference.inFlight === 0 && !settled) await new Promise((resolve) => setTimeout(resolve, 5));
      const get = async (url: string) => {
        const response = await s.app.inject({ method: 'GET', url, headers: { host: STUDIO_HOST } });
        order.push(`${url} ${response.statusCode}`);
      };
      await get('/healthz');
      await get('/api/v1/history');
      order.push('resumed');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    const described = await describing;
    assert.deepEqual(order, ['/healthz 200', '/api/v1/history 200', 'resumed', 'described']);
    assert.equal(described.statusCode, 200, described.body);
    assert.equal(described.json().text, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
  });

  it('refuses bytes that pass the header check but do not decode, naming the body', async () => {
    const png = redPng(64, 64);
    const broken = Buffer.concat([png.subarray(0, 40), Buffer.alloc(png.length - 40, 7)]);
    const response = await post('?type=anime', broken);
    assert.equal(response.statusCode, 400, response.body);
  });
});
