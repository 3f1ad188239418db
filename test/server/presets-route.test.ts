/**
 * GET /api/v1/presets: every value a preset fills the form with, model names as the store knows them, and the
 * models the store lacks; through the response allowlist (fake studio) and over the real studio's presets.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { importModel } from '../../src/app/models/import-model.ts';
import type { Studio } from '../../src/app/studio/create-studio.ts';
import { useStudioServer } from './studio-server.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { createFixture, HOST, type Fixture } from './server-fixture.ts';

describe('GET /api/v1/presets (fake studio)', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
  });
  after(() => f.close());

  it('returns each preset with its settings and missing models, and nothing the schema does not list', async () => {
    const response = await f.app.inject({ url: '/api/v1/presets', headers: { host: HOST } });
    assert.equal(response.statusCode, 200);
    const { presets } = response.json();
    assert.deepEqual(presets.map((p: { name: string }) => p.name), ['default', 'anime']);
    assert.deepEqual(Object.keys(presets[0]).sort(), [
      'aspectRatio', 'cfg', 'imageCount', 'label', 'loras', 'missing', 'model', 'name', 'performance', 'refiner',
      'refinerSwitch', 'sampler', 'scheduler', 'sharpness', 'styles',
    ]);
    assert.equal(presets[0].refiner, null);
    assert.deepEqual(presets[1].missing, [{ kind: 'checkpoint', name: 'anime.safetensors', catalogId: 'anime-xl' }]);
    assert.doesNotMatch(response.body, /secretPath|presets\/default\.json/);
  });
});

describe('GET /api/v1/presets (real studio)', () => {
  let dir: string;
  let app: FastifyInstance;
  let studio: Studio;
  useStudioServer((server) => ({ dir, app, studio } = server), 'fooocus-presets-route-');

  const realistic = async () => {
    const { presets } = (await app.inject({ url: '/api/v1/presets', headers: { host: HOST } })).json();
    return presets.find((p: { name: string }) => p.name === 'realistic');
  };

  it("maps the presets' catalog ids to the files the catalog installs and lists them as missing", async () => {
    assert.deepEqual(await realistic(), {
      name: 'realistic',
      label: 'Realistic',
      model: 'sd_xl_base_1.0.safetensors',
      refiner: 'sd_xl_refiner_1.0.safetensors',
      refinerSwitch: 0.75,
      loras: [],
      cfg: 3,
      sharpness: 2,
      sampler: 'dpmpp_2m_sde_gpu',
      scheduler: 'karras',
      styles: ['FooocusTS Expansion', 'Photo Film 35mm', 'Photo Natural Light'],
      performance: 'Quality',
      aspectRatio: '896*1152',
      imageCount: 2,
      missing: [
        { kind: 'checkpoint', name: 'sd_xl_base_1.0.safetensors', catalogId: 'sdxl-base-1.0' },
        { kind: 'checkpoint', name: 'sd_xl_refiner_1.0.safetensors', catalogId: 'sdxl-refiner-1.0' },
      ],
    });
  });

  it('drops a model from the missing list once the store holds its file', async () => {
    const scratch = path.join(dir, 'scratch');
    mkdirSync(scratch);
    const file = await writeTinyCheckpoint(scratch, 'sdxl');
    renameSync(file, path.join(scratch, 'sd_xl_base_1.0.safetensors'));
    await importModel(studio.store, path.join(scratch, 'sd_xl_base_1.0.safetensors'), { kind: 'checkpoints' });
    assert.deepEqual((await realistic()).missing, [{ kind: 'checkpoint', name: 'sd_xl_refiner_1.0.safetensors', catalogId: 'sdxl-refiner-1.0' }]);
  });
});
