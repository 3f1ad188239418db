/**
 * The page's one source for modes and limits: the request schema in the server's OpenAPI document. Read from a
 * real server (inject), so the page offers exactly the app's performance modes and the schema's bounds.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PERFORMANCE_MODE_NAMES } from '../../src/app/creative/performance-modes.ts';
import { INPAINT_ENGINES, INPAINT_MODES, VARY_UPSCALE_MODES } from '../../src/app/generation/image-request.ts';
import { createApiClient } from '../../src/ui/api-client.ts';
import { ApiError } from '../../src/ui/api-error.ts';
import { ContractError, readGenerateContract } from '../../src/ui/request-contract.ts';
import { createFixture, HOST, type Fixture } from '../server/server-fixture.ts';

describe('the generate contract the page reads', () => {
  let f: Fixture;
  let doc: unknown;
  before(async () => {
    f = await createFixture();
    const response = await f.app.inject({ url: '/api/openapi.json', headers: { host: HOST } });
    assert.equal(response.statusCode, 200);
    doc = response.json();
  });
  after(() => f.close());

  it('lists the Input Image modes and engines, and the bounds of their numbers, nested fields by dotted path', () => {
    const contract = readGenerateContract(doc);
    assert.deepEqual(contract.varyUpscaleModes, [...VARY_UPSCALE_MODES]);
    assert.deepEqual(contract.inpaintModes, [...INPAINT_MODES]);
    assert.deepEqual(contract.inpaintEngines, [...INPAINT_ENGINES]);
    assert.deepEqual(contract.limits.get('varyUpscale.factor'), { min: 1, max: 4, integer: false });
    assert.deepEqual(contract.limits.get('inpaint.maskErode'), { min: -64, max: 64, integer: true });
    assert.deepEqual(contract.limits.get('inpaint.outpaint.left.px'), { min: 8, max: 2048, integer: true });
    const { varyUpscale: _vary, inpaint: _inpaint, ...older } = (doc as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }> }).paths['/api/v1/generate']!.post.requestBody.content['application/json']!.schema.properties;
    const withoutModes = structuredClone(doc) as { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }> };
    withoutModes.paths['/api/v1/generate']!.post.requestBody.content['application/json']!.schema.properties = older;
    const old = readGenerateContract(withoutModes);
    assert.deepEqual([old.varyUpscaleModes, old.inpaintModes, old.inpaintEngines], [[], [], []], 'a server without the fields: no tabs to offer');
  });

  it('lists the app\'s performance modes, the output formats and the schema\'s number bounds', () => {
    const contract = readGenerateContract(doc);
    assert.deepEqual(contract.performanceModes, [...PERFORMANCE_MODE_NAMES]);
    assert.deepEqual(contract.formats, ['png', 'jpeg', 'webp']);
    assert.deepEqual(contract.limits.get('cfg'), { min: 1, max: 30, integer: false });
    assert.deepEqual(contract.limits.get('steps'), { min: 1, max: 200, integer: true }, 'the operator\'s quota, as the schema states it');
    assert.deepEqual(contract.limits.get('width'), { min: 64, max: 4096, integer: true });
    assert.deepEqual(contract.limits.get('loras[].weight'), { min: -2, max: 2, integer: false });
    assert.deepEqual(contract.limits.get('denoise'), { min: 0, max: 1, integer: false });
    assert.ok(contract.fields.has('prompt') && contract.fields.has('inputImageId'));
  });

  it('follows a change of the operator\'s quotas', async () => {
    const small = await createFixture({ quotas: { maxSteps: 50, maxImages: 4 } });
    try {
      const contract = readGenerateContract((await small.app.inject({ url: '/api/openapi.json', headers: { host: HOST } })).json());
      assert.equal(contract.limits.get('steps')?.max, 50);
      assert.equal(contract.limits.get('imageCount')?.max, 4);
    } finally {
      await small.close();
    }
  });

  it('is fetched from /api/openapi.json by the API client; a document without the route is a clear error', async () => {
    const urls: string[] = [];
    const client = (body: unknown) =>
      createApiClient(async (url) => {
        urls.push(url);
        return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
      });
    assert.deepEqual((await client(doc).getGenerateContract()).performanceModes, [...PERFORMANCE_MODE_NAMES]);
    assert.deepEqual(urls, ['/api/openapi.json']);
    await assert.rejects(client({ paths: {} }).getGenerateContract(), (e) => e instanceof ApiError && /no schema for POST \/api\/v1\/generate/.test(e.message));
    assert.throws(() => readGenerateContract({ paths: { '/api/v1/generate': { post: { requestBody: { content: { 'application/json': { schema: { properties: {} } } } } } } } }), ContractError);
  });
});
