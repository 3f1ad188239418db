/**
 * The CLI and the studio compose a request the same way: one model store, one wildcards folder, the same inputs
 * given as options and as a generate body, and each image's metadata comes out the same.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parseGenerationMetadata, readImageMetadata, type GenerationParameters } from '../../src/engine/index.ts';
import { useStudioServer, STUDIO_HOST as HOST } from '../server/studio-server.ts';
import { runCli } from './cli-run.ts';

async function metadataOf(bytes: Uint8Array): Promise<GenerationParameters> {
  const meta = await readImageMetadata(bytes);
  return parseGenerationMetadata(meta.parameters!, meta.fooocus_scheme);
}

/** What a request composes to: everything in the metadata but the timing-free identity of the files. */
function composed(p: GenerationParameters): Partial<GenerationParameters> {
  const { prompt, negativePrompt, fullPrompt, fullNegativePrompt, styles, performance, steps, sampler, scheduler, cfg, sharpness, adaptiveCfg, seed, width, height, modelName, clipSkip } = p;
  return { prompt, negativePrompt, fullPrompt, fullNegativePrompt, styles, performance, steps, sampler, scheduler, cfg, sharpness, adaptiveCfg, seed, width, height, modelName, clipSkip };
}

describe('fooocus generate and the studio', () => {
  let dir: string;
  let app: FastifyInstance;
  useStudioServer((server) => ({ dir, app } = server), 'fooocus-parity-', (dir) => {
    mkdirSync(path.join(dir, 'wildcards'));
    writeFileSync(path.join(dir, 'wildcards', 'animal.txt'), 'fox\nowl\nhare\nlynx\n');
  }, 'Fooocus-TS');

  it('make images with the same composed request from the same inputs', async () => {
    const prompt = 'a __animal__ in [[snow, rain]]\nwide shot';
    const styles = ['Random Style', 'Photo Natural Light', 'FooocusTS Expansion'];

    const submit = await app.inject({
      method: 'POST',
      url: '/api/v1/generate',
      headers: { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' },
      payload: { prompt, negative: 'blurry', styles, seed: '4242', width: 128, height: 128, steps: 2, imageCount: 2, cfg: 5, sampler: 'euler' },
    });
    assert.equal(submit.statusCode, 202, submit.body);
    let job: { status: string; images: { url: string }[] } = { status: 'queued', images: [] };
    for (let i = 0; i < 300 && ['queued', 'running'].includes(job.status); i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${submit.json().id}`, headers: { host: HOST } })).json();
    }
    assert.equal(job.status, 'done');
    const fromStudio = await Promise.all(
      job.images.map(async (image) => metadataOf(new Uint8Array((await app.inject({ method: 'GET', url: image.url, headers: { host: HOST } })).rawPayload))),
    );

    const argv = ['generate', prompt, '--negative', 'blurry', ...styles.flatMap((s) => ['--style', s]), '--seed', '4242', '--size', '128x128', '--steps', '2', '--n', '2', '--cfg', '5', '--sampler', 'euler'];
    const { code, out, err } = await runCli([...argv, '--models', path.join(dir, 'models'), '--model', 'fooocus-ts-demo.safetensors', '--out', path.join(dir, 'cli'), '--json', '--threads', '1']);
    assert.equal(code, 0, err);
    const saved = out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; path?: string }).filter((e) => e.event === 'saved');
    const fromCli = await Promise.all(saved.map(async (e) => metadataOf(new Uint8Array(readFileSync(e.path!)))));

    assert.equal(fromCli.length, 2);
    assert.deepEqual(fromCli.map(composed), fromStudio.map(composed));
    assert.deepEqual(fromCli.map((p) => p.seed), ['4242', '4243']);
    assert.match(fromCli[0]!.prompt, /^a (fox|owl|hare|lynx) in snow\nwide shot$/);
    assert.equal(fromCli[0]!.styles.length, 3, 'Random Style resolved to a library style');
  });
});
