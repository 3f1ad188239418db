/**
 * The fields the page builds its choices from, through the response allowlists: the demo flag on models, each
 * style's templates, the sizes of each model family, and the ETA in a job's progress. Each is also in the OpenAPI
 * document, since the schemas that filter the responses are the ones it is generated from.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, HOST, type Fixture } from './server-fixture.ts';
import type { ModelInfo, StudioPort, StyleInfo } from '../../src/server/studio-port.ts';

describe('catalog fields the page needs', () => {
  let f: Fixture;
  /** The fake studio as the server sees it, so a test can swap what one list answers. */
  let port: StudioPort;
  const get = async (url: string) => {
    const response = await f.app.inject({ url, headers: { host: HOST } });
    assert.equal(response.statusCode, 200, `${url}: ${response.body}`);
    return response;
  };
  before(async () => {
    f = await createFixture();
    port = f.studio;
  });
  after(() => f.close());

  it('marks the demo checkpoint, and only it', async () => {
    port.listModels = async () => [
      { name: 'fooocus-ts-demo.safetensors', kind: 'checkpoint', family: 'sd15', demo: true, path: '/srv/models/demo' } as ModelInfo,
      { name: 'sd_xl_base_1.0.safetensors', kind: 'checkpoint', family: 'sdxl' },
    ];
    const response = await get('/api/v1/models');
    assert.deepEqual(response.json().models, [
      { name: 'fooocus-ts-demo.safetensors', kind: 'checkpoint', family: 'sd15', demo: true },
      { name: 'sd_xl_base_1.0.safetensors', kind: 'checkpoint', family: 'sdxl' },
    ]);
    assert.doesNotMatch(response.body, /srv/);
  });

  it('sends each style with its prompt and negative templates, markup and all as plain JSON strings', async () => {
    const markup = '<img src=x onerror=alert(1)> {prompt}';
    port.listStyles = async () => [
      { name: 'Fooocus Photograph', prompt: 'photograph {prompt}, 50mm', negative: 'cartoon', file: '/srv/styles.json' } as StyleInfo,
      { name: 'Odd', prompt: markup, negative: '' },
    ];
    const response = await get('/api/v1/styles');
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.deepEqual(response.json().styles, [
      { name: 'Fooocus Photograph', prompt: 'photograph {prompt}, 50mm', negative: 'cartoon' },
      { name: 'Odd', prompt: markup, negative: '' },
    ]);
    assert.doesNotMatch(response.body, /srv/);
  });

  it('lists the sizes of each family apart, and all of them together for older clients', async () => {
    const body = (await get('/api/v1/aspect-ratios')).json();
    assert.deepEqual(body.sdxl, [{ id: '1024*1024', width: 1024, height: 1024 }]);
    assert.deepEqual(body.sd15, [{ id: '512*512', width: 512, height: 512 }]);
    assert.deepEqual(body.aspectRatios, [...body.sdxl, ...body.sd15]);
  });

  it('carries the ETA in a running job, a number or null', async () => {
    const running = f.studio.addJob('local', { status: 'running', progress: { step: 3, steps: 30, image: 1, images: 2, etaSeconds: 40.5 } });
    assert.deepEqual((await get(`/api/v1/jobs/${running.id}`)).json().progress, { step: 3, steps: 30, image: 1, images: 2, etaSeconds: 40.5 });
    const early = f.studio.addJob('local', { status: 'running', progress: { step: 1, steps: 30, image: 1, images: 1, etaSeconds: null } });
    assert.equal((await get(`/api/v1/jobs/${early.id}`)).json().progress.etaSeconds, null);
  });

  it('documents the new fields in the OpenAPI document', async () => {
    const doc = (await get('/api/openapi.json')).json();
    const body = (url: string) => doc.paths[url].get.responses['200'].content['application/json'].schema;
    assert.equal(body('/api/v1/models').properties.models.items.properties.demo.type, 'boolean');
    assert.deepEqual(body('/api/v1/styles').properties.styles.items.required, ['name', 'prompt', 'negative']);
    const ratios = body('/api/v1/aspect-ratios');
    assert.deepEqual([...ratios.required].sort(), ['aspectRatios', 'sd15', 'sdxl']);
    const progress = body('/api/v1/jobs/{id}').properties.progress.anyOf[0];
    assert.deepEqual(progress.properties.etaSeconds.anyOf, [{ type: 'number' }, { type: 'null' }]);
  });
});
