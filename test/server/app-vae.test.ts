/** A VAE file over HTTP: the models list offers it, a request names it, the job records it, an unknown one is refused. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { importModel } from '../../src/app/models/import-model.ts';
import type { Studio } from '../../src/app/studio/create-studio.ts';
import { decodePng } from '../../src/engine/output/png.ts';
import { writeTinyVae } from '../fixtures/checkpoints.ts';
import { useStudioServer, STUDIO_HOST as HOST } from './studio-server.ts';

const headers = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };

describe('a VAE file through the studio API', () => {
  let app: FastifyInstance;
  let studio: Studio;
  let dir: string;
  useStudioServer((server) => ({ app, studio, dir } = server), 'fooocus-studio-vae-');

  const run = async (payload: Record<string, unknown>): Promise<{ rgb: Uint8Array; request: { vae?: string } }> => {
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a boat', width: 64, height: 64, steps: 2, seed: '3', ...payload } });
    assert.equal(submit.statusCode, 202, submit.body);
    let job: { status: string; images: { url: string }[]; request: { vae?: string } } | undefined;
    for (let i = 0; i < 200; i++) {
      job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${submit.json().id}`, headers: { host: HOST } })).json();
      if (!['queued', 'running'].includes(job!.status)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(job?.status, 'done', JSON.stringify(job));
    const rgb = decodePng(new Uint8Array((await app.inject({ method: 'GET', url: job!.images[0]!.url, headers: { host: HOST } })).rawPayload)).rgb;
    return { rgb, request: job!.request };
  };

  it('refuses a VAE that is not in the store before queueing, naming the field', async () => {
    const r = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'x', vae: 'not-installed.safetensors' } });
    assert.equal(r.statusCode, 400, r.body);
    assert.equal(r.json().field, 'vae');
    assert.match(r.json().message, /models import <file> --kind vae/);
  });

  it('lists VAE files and decodes with the one a request names, which its job records', async () => {
    await importModel(studio.store, await writeTinyVae(dir, 'sd15'), { kind: 'vae' });
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/models', headers: { host: HOST } })).json() as { models: { name: string; kind: string }[] };
    const vae = listed.models.find((m) => m.kind === 'vae');
    assert.equal(vae?.name, 'tiny-vae-sd15-latent4-seed7.safetensors', JSON.stringify(listed));
    const own = await run({});
    const chosen = await run({ vae: vae!.name });
    assert.notDeepEqual(chosen.rgb, own.rgb, 'the VAE changed nothing');
    assert.equal(chosen.request.vae, vae!.name);
    assert.equal(own.request.vae, undefined);
  });
});
