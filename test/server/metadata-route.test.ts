/**
 * POST /api/v1/metadata: the engine's report for an uploaded image, nothing stored, the upload route's limits,
 * media-type checks and authentication, and its place in the OpenAPI document.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { createFixture, HOST, ORIGIN, type Fixture } from './server-fixture.ts';
import { buildJpeg, buildPng, buildTiff, latin1, utf16 } from '../engine/output/metadata-fixtures.ts';

const TEXT = 'a fox\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 5, Size: 512x768, Hires upscale: 2';
const TOKEN = 'fooocus-test-token-0123456789abcdef';

describe('metadata route', () => {
  let f: Fixture;
  let locked: Fixture;
  before(async () => {
    f = await createFixture({ quotas: { maxPixels: 1024 * 1024, maxUploadBytes: 64 * 1024 } });
    locked = await createFixture({ auth: { users: [], tokens: [{ name: 'cli', tokenHash: createHash('sha256').update(TOKEN).digest('hex'), owner: 'alice' }] } });
  });
  after(async () => {
    await f.close();
    await locked.close();
  });

  const post = (fixture: Fixture, type: string, payload: Uint8Array, extra: Record<string, string> = {}) =>
    fixture.app.inject({ method: 'POST', url: '/api/v1/metadata', headers: { host: HOST, origin: ORIGIN, 'content-type': type, ...extra }, payload: Buffer.from(payload) });

  it('answers the report of a PNG and a JPEG, and keeps no file', async () => {
    const png = await post(f, 'image/png', buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(TEXT) }]));
    assert.equal(png.statusCode, 200, png.body);
    const report = png.json();
    assert.equal(report.scheme, 'a1111');
    assert.equal(report.candidates[0].settings.sampler, 'euler_ancestral');
    assert.deepEqual(report.candidates[0].notApplied, [{ key: 'Hires upscale', value: '2', reason: 'has no equivalent here' }]);
    const jpeg = await post(f, 'image/jpeg', buildJpeg({ exif: buildTiff({ userComment: { code: 'UNICODE', body: utf16(TEXT, 'be') } }, 'II') }));
    assert.equal(jpeg.json().candidates[0].settings.seed, '5');
    assert.deepEqual(await readdir(f.outputsDir), []);
  });

  it('refuses a body that is not the declared image, bad metadata with 400, and a body over the upload limit with 413', async () => {
    const png = buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(TEXT) }]);
    const mismatch = await post(f, 'image/jpeg', png);
    assert.equal(mismatch.statusCode, 400);
    assert.equal(mismatch.json().field, 'content-type');
    assert.equal((await post(f, 'image/png', latin1('GIF89a'))).statusCode, 400);
    const deep = await post(f, 'image/png', buildPng([{ type: 'tEXt', keyword: 'prompt', bytes: latin1(`{"1":{"class_type":"X","inputs":{"a":${'['.repeat(100)}${']'.repeat(100)}}}}`) }]));
    assert.equal(deep.statusCode, 400);
    assert.equal(deep.json().field, 'prompt');
    assert.equal((await post(f, 'image/png', buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: new Uint8Array(70 * 1024) }]))).statusCode, 413);
    assert.equal((await post(f, 'text/plain', latin1('hello'))).statusCode, 415);
  });

  it('needs credentials when the server has users, like every other route', async () => {
    const png = buildPng([{ type: 'tEXt', keyword: 'parameters', bytes: latin1(TEXT) }]);
    assert.equal((await post(locked, 'image/png', png)).statusCode, 401);
    assert.equal((await post(locked, 'image/png', png, { authorization: `Bearer ${TOKEN}` })).statusCode, 200);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ url: '/api/openapi.json', headers: { host: HOST } })).json();
    const operation = doc.paths['/api/v1/metadata'].post;
    assert.match(operation.summary, /the image is not kept/);
    const report = operation.responses['200'].content['application/json'].schema;
    assert.ok(report.properties.candidates, 'the report schema is documented');
  });
});
