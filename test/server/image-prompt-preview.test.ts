/**
 * POST /api/v1/image-prompts/preview at the HTTP boundary: an image body and a type in, the map as a PNG out;
 * the same header checks as uploads, and the type checked against the schema before the port sees anything.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, HOST, ORIGIN, type Fixture } from './server-fixture.ts';
import { encodePng, decodePng } from '../../src/engine/output/png.ts';
import { controlTestImage } from '../fixtures/control-maps/control-test-image.ts';
import { computePyramidCanny } from '../../src/engine/control/pyramid-canny.ts';


describe('image prompt preview', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture({ quotas: { maxPixels: 100 * 100, maxUploadBytes: 64 * 1024 } });
  });
  after(() => f.close());

  const image = controlTestImage(72, 64, 5);
  const png = Buffer.from(encodePng(image.rgb, 72, 64));
  const preview = (query: string, type: string, payload: Buffer) =>
    f.app.inject({ method: 'POST', url: `/api/v1/image-prompts/preview${query}`, headers: { host: HOST, origin: ORIGIN, 'content-type': type }, payload });

  it('answers the PyraCanny map of the image as a PNG of its size', async () => {
    const response = await preview('?type=PyraCanny', 'image/png', png);
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.headers['content-type'], 'image/png');
    const map = decodePng(response.rawPayload);
    assert.deepEqual([map.width, map.height], [72, 64]);
    assert.deepEqual(Array.from({ length: 72 * 64 }, (_, i) => map.rgb[i * 3]), Array.from(computePyramidCanny(image).data));
  });

  it('refuses a missing or unknown type with 400 naming it, before the port', async () => {
    const before = f.studio.calls.length;
    for (const query of ['', '?type=Canny', '?type=ImagePrompt']) {
      const response = await preview(query, 'image/png', png);
      assert.equal(response.statusCode, 400, query);
      assert.match(response.body, /type/);
    }
    assert.equal(f.studio.calls.length, before);
  });

  it('refuses a body that is not the declared image, and one over the pixel quota (413)', async () => {
    assert.equal((await preview('?type=CPDS', 'image/png', Buffer.from('not an image'))).statusCode, 400);
    assert.equal((await preview('?type=CPDS', 'image/jpeg', png)).statusCode, 400);
    const big = Buffer.from(encodePng(new Uint8Array(120 * 120 * 3), 120, 120));
    const response = await preview('?type=CPDS', 'image/png', big);
    assert.equal(response.statusCode, 413);
    assert.equal(response.json().rule, 'maxPixels');
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await f.app.inject({ method: 'GET', url: '/api/openapi.json', headers: { host: HOST } })).json();
    const route = doc.paths['/api/v1/image-prompts/preview'];
    assert.ok(route?.post, 'the preview route is documented');
    assert.deepEqual(route.post.parameters.find((p: { name: string }) => p.name === 'type').schema.enum, ['PyraCanny', 'CPDS']);
  });
});
