/**
 * The real studio behind the HTTP API, end to end with the demo model: submit, follow the job, fetch the image,
 * history, and the page itself.
 */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { createStudio, type Studio } from '../../src/app/studio/create-studio.ts';
import { decodePng, encodePng } from '../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../src/engine/output/png-text.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { writeTinyLora } from '../fixtures/loras.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { buildServer } from '../../src/server/build-server.ts';
import { useStudioServer } from './studio-server.ts';
import { guardAgainstPathLeaks } from './path-leak-guard.ts';

const HOST = '127.0.0.1:7865';
const headers = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };

describe('studio over HTTP with the demo model', () => {
  let dir: string;
  let app: FastifyInstance;
  let studio: Studio;
  useStudioServer((server) => ({ dir, app, studio } = server), 'fooocus-studio-');

  async function waitForJob(id: string): Promise<{ status: string; images: { url: string; seed: string }[]; request: { prompt: string } }> {
    for (let i = 0; i < 200; i++) {
      const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: HOST } })).json();
      if (!['queued', 'running'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 20 s');
  }

  it('lists the demo model, generates, and serves the image with its prompt kept as plain text', async () => {
    const models = (await app.inject({ method: 'GET', url: '/api/v1/models', headers: { host: HOST } })).json();
    assert.deepEqual(models.models.map((m: { name: string }) => m.name), ['fooocus-ts-demo.safetensors']);
    const prompt = 'a lighthouse <img src=x onerror=alert(1)>';
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt, width: 128, height: 128, steps: 3, seed: '7', imageCount: 2 } });
    assert.equal(submit.statusCode, 202, submit.body);
    const job = await waitForJob(submit.json().id);
    assert.equal(job.status, 'done');
    assert.deepEqual(job.images.map((i) => i.seed), ['7', '8']);
    assert.equal(job.request.prompt, prompt);
    const image = await app.inject({ method: 'GET', url: job.images[0]!.url, headers: { host: HOST } });
    assert.equal(image.statusCode, 200);
    assert.equal(image.headers['content-type'], 'image/png');
    assert.equal(image.headers['x-content-type-options'], 'nosniff');
    const history = (await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } })).json();
    assert.equal(history.items.length, 1);
  });

  it('refuses unknown models, styles and samplers before queueing, naming the field', async () => {
    for (const [field, payload] of [
      ['model', { prompt: 'x', model: 'nope.safetensors' }],
      ['styles', { prompt: 'x', styles: ['No Such Style'] }],
      ['sampler', { prompt: 'x', sampler: 'magic' }],
      ['scheduler', { prompt: 'x', scheduler: 'fast' }],
      ['loras[0].name', { prompt: 'x', loras: [{ name: 'not-installed', weight: 1 }] }],
      ['format', { prompt: 'x', format: 'gif' }],
    ] as const) {
      const r = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload });
      assert.equal(r.statusCode, 400, `${field}: ${r.body}`);
      assert.equal(r.json().field, field);
    }
  });

  it('applies LoRAs from the store, named in the request and in prompt tokens', async () => {
    const loraFile = path.join(dir, 'demo-detail.safetensors');
    const demo = await studio.store.resolve('checkpoints', 'fooocus-ts-demo.safetensors');
    await writeTinyLora(loraFile, demo, {
      dialect: 'kohya',
      seed: 5,
      modules: [{ module: 'lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q', target: 'model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight', rank: 4, alpha: 4 }],
    });
    await importModel(studio.store, loraFile, { kind: 'loras' });
    const listed = (await app.inject({ method: 'GET', url: '/api/v1/models', headers: { host: HOST } })).json();
    assert.ok(listed.models.some((m: { name: string; kind: string }) => m.name === 'demo-detail.safetensors' && m.kind === 'lora'), JSON.stringify(listed));
    const run = async (payload: Record<string, unknown>): Promise<Uint8Array> => {
      const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { width: 64, height: 64, steps: 2, seed: '3', ...payload } });
      assert.equal(submit.statusCode, 202, submit.body);
      const job = await waitForJob(submit.json().id);
      assert.equal(job.status, 'done', JSON.stringify(job));
      return decodePng(new Uint8Array((await app.inject({ method: 'GET', url: job.images[0]!.url, headers: { host: HOST } })).rawPayload)).rgb;
    };
    const base = await run({ prompt: 'a boat' });
    const viaField = await run({ prompt: 'a boat', loras: [{ name: 'demo-detail', weight: 1.5 }] });
    const viaToken = await run({ prompt: 'a boat <lora:demo-detail:1.5>' });
    assert.notDeepEqual(viaField, base, 'the LoRA changed nothing');
    assert.deepEqual(viaToken, viaField, 'a prompt token applies the same LoRA as the request field');
  });

  it('keeps uploads across a restart: the owner can still use and fetch them by id', async () => {
    const png = Buffer.from(encodePng(new Uint8Array(64 * 64 * 3).fill(128), 64, 64));
    const up = await app.inject({ method: 'POST', url: '/api/v1/uploads', headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'image/png' }, payload: png });
    assert.equal(up.statusCode, 201, up.body);
    const { imageId } = up.json() as { imageId: string };
    // A second studio over the same directories stands in for the restarted process.
    const config = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache-2') };
    config.runtime.threads = 1;
    const restarted = await createStudio(config, { software: 'test' });
    const app2 = await buildServer(createAppStudioPort(restarted), { host: '127.0.0.1', allowedHosts: [HOST], auth: null, outputsDir: restarted.outputsDir, logger: false });
    guardAgainstPathLeaks(app2, [dir]);
    try {
      const image = await app2.inject({ method: 'GET', url: `/api/v1/images/${imageId}`, headers: { host: HOST } });
      assert.equal(image.statusCode, 200);
      const submit = await app2.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'x', inputImageId: imageId, denoise: 0.5, width: 64, height: 64, steps: 2 } });
      assert.equal(submit.statusCode, 202, submit.body);
      const unknown = await app2.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'x', inputImageId: 'up-AAAAAAAAAAAAAAAA', width: 64, height: 64 } });
      assert.equal(unknown.statusCode, 400);
      assert.equal(unknown.json().field, 'inputImageId');
    } finally {
      await app2.close();
      await restarted.close();
    }
  });

  it('runs the Lightning performance mode with its LoRA from the store: 4 steps, euler + sgm_uniform, CFG 1', async () => {
    const sdxl = await writeTinyCheckpoint(path.join(dir, 'tiny-sdxl'), 'sdxl');
    const model = (await importModel(studio.store, sdxl, { kind: 'checkpoints', name: 'tiny-sdxl.safetensors' })).name;
    const missing = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a fox', model, performance: 'Lightning', width: 64, height: 64 } });
    const failed = missing.statusCode === 202 ? await waitForJob(missing.json().id) : null;
    const message = failed === null ? missing.body : JSON.stringify(failed);
    assert.match(message, /sdxl_lightning_4step_lora\.safetensors.*npm run fooocus -- models pull sdxl-lightning-4step-lora/, 'a missing performance LoRA says which file and how to get it');
    assert.equal(missing.statusCode, 400, 'refused at submit, as the CLI refuses it');
    assert.equal(missing.json().field, 'performance');

    const lora = path.join(dir, 'sdxl_lightning_4step_lora.safetensors');
    await writeTinyLora(lora, sdxl, {
      dialect: 'kohya',
      seed: 8,
      modules: [{ module: 'lora_unet_down_blocks_2_attentions_0_transformer_blocks_0_attn1_to_q', target: 'model.diffusion_model.input_blocks.5.1.transformer_blocks.0.attn1.to_q.weight', rank: 4, alpha: 4 }],
    });
    await importModel(studio.store, lora, { kind: 'loras' });
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a fox', model, performance: 'Lightning', width: 64, height: 64, seed: '11' } });
    assert.equal(submit.statusCode, 202, submit.body);
    const job = await waitForJob(submit.json().id);
    assert.equal(job.status, 'done', JSON.stringify(job));
    const png = new Uint8Array((await app.inject({ method: 'GET', url: job.images[0]!.url, headers: { host: HOST } })).rawPayload);
    const parameters = JSON.parse(readPngTextChunks(png).parameters ?? '{}') as Record<string, unknown>;
    assert.equal(parameters.performance, 'Lightning');
    assert.equal(parameters.steps, 4);
    assert.equal(parameters.sampler, 'euler');
    assert.equal(parameters.scheduler, 'sgm_uniform');
    assert.equal(parameters.guidance_scale, 1);
    assert.deepEqual((parameters.loras as unknown[][]).map((l) => l.slice(0, 2)), [['sdxl_lightning_4step_lora.safetensors', 1]]);
  });

  it('refuses at submit what the CLI refuses: a fast mode on an SD 1.5 model, a preset whose models are missing', async () => {
    const historySize = async () => (await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } })).json().items.length as number;
    const before = await historySize();
    const sd15 = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a fox', model: 'fooocus-ts-demo.safetensors', performance: 'Lightning', width: 64, height: 64 } });
    assert.equal(sd15.statusCode, 400, sd15.body);
    assert.equal(sd15.json().field, 'performance');
    assert.match(sd15.json().message, /not available for fooocus-ts-demo\.safetensors \(SD 1\.5\).*Speed or Quality/);
    assert.doesNotMatch(sd15.json().message, /sdxl_lightning/, 'an SD 1.5 model is not sent to fetch the SDXL LoRA');
    const preset = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a fox', preset: 'sd15' } });
    assert.equal(preset.statusCode, 400, preset.body);
    assert.equal(preset.json().field, 'preset');
    assert.match(preset.json().message, /v1-5-pruned-emaonly\.safetensors.*models pull --preset sd15/);
    const unknown = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a fox', preset: 'fancy' } });
    assert.equal(unknown.json().field, 'preset');
    assert.equal(await historySize(), before, 'nothing was queued');
  });

  it('writes the output format the request asks for (the page sends one)', async () => {
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a kite', width: 64, height: 64, steps: 2, format: 'webp' } });
    assert.equal(submit.statusCode, 202, submit.body);
    const job = await waitForJob(submit.json().id);
    assert.equal(job.status, 'done', JSON.stringify(job));
    const image = await app.inject({ method: 'GET', url: job.images[0]!.url, headers: { host: HOST } });
    assert.equal(image.headers['content-type'], 'image/webp');
  });

  it('reports an ETA in the job progress once steps have been timed', async () => {
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'a slow one', width: 256, height: 256, steps: 60, seed: '2' } });
    assert.equal(submit.statusCode, 202, submit.body);
    const id = submit.json().id as string;
    let progress: { step: number; etaSeconds?: number | null } | null = null;
    for (let i = 0; i < 600; i++) {
      const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: HOST } })).json();
      progress = job.progress;
      if (job.status !== 'queued' && job.status !== 'running') break;
      if (progress !== null && progress.step >= 4) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(progress !== null && progress.step >= 4, JSON.stringify(progress));
    assert.equal(typeof progress.etaSeconds, 'number');
    assert.ok(progress.etaSeconds! >= 0 && progress.etaSeconds! < 600, String(progress.etaSeconds));
    await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: { host: HOST, origin: `http://${HOST}` } });
  });

  it('describes what the page needs: the demo flag, style templates, and the sizes of each model family', async () => {
    const get = async (url: string) => (await app.inject({ method: 'GET', url, headers: { host: HOST } })).json();
    const models = (await get('/api/v1/models')).models as { name: string; demo?: boolean }[];
    assert.equal(models.find((m) => m.name === 'fooocus-ts-demo.safetensors')?.demo, true);
    const styles = (await get('/api/v1/styles')).styles as { name: string; prompt: string; negative: string }[];
    assert.deepEqual(styles.slice(0, 2).map((s) => s.name), ['FooocusTS Expansion', 'Random Style']);
    assert.ok(styles.length > 120);
    assert.ok(styles.slice(2).every((s) => s.prompt.includes('{prompt}') || s.prompt !== ''), 'every library style has a template');
    const ratios = await get('/api/v1/aspect-ratios');
    assert.equal(ratios.sdxl.length, 26);
    assert.ok(ratios.sdxl.some((r: { id: string }) => r.id === '1152*896'));
    assert.ok(ratios.sd15.some((r: { id: string; width: number }) => r.id === '512*512' && r.width === 512));
    assert.equal(ratios.aspectRatios.length, ratios.sdxl.length + ratios.sd15.length);
  });
});
