/**
 * The developer settings of a generate request (the page's "Developer debug mode"), end to end with the real
 * studio and the demo model: adaptive CFG, ADM guidance, CLIP skip, seed increment and metadata scheme reach the
 * engine and the written metadata, come back in the job's request (what "Reuse" reads), and bad values are
 * refused at submit naming the field.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parseGenerationMetadata } from '../../src/engine/output/generation-metadata.ts';
import { decodePng } from '../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../src/engine/output/png-text.ts';
import { useStudioServer, STUDIO_HOST as HOST } from './studio-server.ts';

const headers = { host: HOST, origin: `http://${HOST}`, 'content-type': 'application/json' };

interface JobBody {
  status: string;
  images: { url: string; seed: string }[];
  request: Record<string, unknown>;
}

describe('developer settings over HTTP with the demo model', () => {
  let app: FastifyInstance;
  useStudioServer((server) => ({ app } = server), 'fooocus-developer-');

  async function run(payload: Record<string, unknown>): Promise<{ job: JobBody; pngs: Uint8Array[] }> {
    const submit = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload });
    assert.equal(submit.statusCode, 202, submit.body);
    for (let i = 0; i < 400; i++) {
      const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${submit.json().id as string}`, headers: { host: HOST } })).json() as JobBody;
      if (!['queued', 'running'].includes(job.status)) {
        assert.equal(job.status, 'done', JSON.stringify(job));
        const pngs = await Promise.all(job.images.map(async (image) => new Uint8Array((await app.inject({ method: 'GET', url: image.url, headers: { host: HOST } })).rawPayload)));
        return { job, pngs };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 40 s');
  }

  it('states the bounds in the OpenAPI document, from the engine\'s own limits', async () => {
    const doc = (await app.inject({ url: '/api/openapi.json', headers: { host: HOST } })).json();
    const body = doc.paths['/api/v1/generate'].post.requestBody.content['application/json'].schema.properties;
    assert.deepEqual([body.adaptiveCfg.minimum, body.adaptiveCfg.maximum], [1, 30]);
    assert.deepEqual([body.clipSkip.type, body.clipSkip.minimum, body.clipSkip.maximum], ['integer', 1, 12]);
    assert.deepEqual(
      ['positive', 'negative', 'end'].map((k) => [body.admScalers.properties[k].minimum, body.admScalers.properties[k].maximum]),
      [[0.1, 3], [0.1, 3], [0, 1]],
    );
    assert.equal(body.seedIncrement.type, 'boolean');
    assert.deepEqual(body.metadataScheme.enum, ['fooocus', 'a1111']);
  });

  it('without seed increment both images get the seed (the same picture); the settings reach the A1111 metadata and the job\'s request', async () => {
    const settings = { adaptiveCfg: 5, clipSkip: 1, admScalers: { positive: 1.2, negative: 0.7, end: 0.4 }, seedIncrement: false, metadataScheme: 'a1111' };
    const { job, pngs } = await run({ prompt: 'a red kite', width: 64, height: 64, steps: 2, seed: '5', imageCount: 2, ...settings });
    assert.deepEqual(job.images.map((i) => i.seed), ['5', '5']);
    assert.deepEqual(decodePng(pngs[0]!).rgb, decodePng(pngs[1]!).rgb, 'same seed, same prompt: the same image');
    for (const [key, value] of Object.entries(settings)) assert.deepEqual(job.request[key], value, `the job's request keeps ${key}`);
    const text = readPngTextChunks(pngs[1]!);
    assert.equal(text.fooocus_scheme, 'a1111');
    const written = parseGenerationMetadata(text.parameters!, text.fooocus_scheme);
    assert.equal(written.seed, '5');
    assert.equal(written.adaptiveCfg, 5);
    assert.equal(written.clipSkip, 1);
    assert.deepEqual(written.admScalers, [1.2, 0.7, 0.4]);
  });

  it('by default image i uses seed + i, with Fooocus JSON metadata and CLIP skip 2', async () => {
    const { job, pngs } = await run({ prompt: 'a red kite', width: 64, height: 64, steps: 2, seed: '5', imageCount: 2 });
    assert.deepEqual(job.images.map((i) => i.seed), ['5', '6']);
    assert.notDeepEqual(decodePng(pngs[0]!).rgb, decodePng(pngs[1]!).rgb);
    const text = readPngTextChunks(pngs[1]!);
    assert.equal(text.fooocus_scheme, 'fooocus');
    const written = parseGenerationMetadata(text.parameters!, text.fooocus_scheme);
    assert.equal(written.seed, '6');
    assert.equal(written.clipSkip, 2);
    assert.equal(written.adaptiveCfg, 7);
  });

  it('refuses out-of-range or unknown values at submit, naming the field, and queues nothing', async () => {
    const historySize = async () => (await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } })).json().items.length as number;
    const before = await historySize();
    for (const [field, extra] of [
      ['clipSkip', { clipSkip: 13 }],
      ['clipSkip', { clipSkip: 1.5 }],
      ['adaptiveCfg', { adaptiveCfg: 0 }],
      ['admScalers', { admScalers: { positive: 5, negative: 0.8, end: 0.3 } }],
      ['admScalers', { admScalers: { positive: 1.5, negative: 0.8 } }],
      ['seedIncrement', { seedIncrement: 'no' }],
      ['metadataScheme', { metadataScheme: 'exif' }],
    ] as const) {
      const response = await app.inject({ method: 'POST', url: '/api/v1/generate', headers, payload: { prompt: 'x', ...extra } });
      assert.equal(response.statusCode, 400, `${JSON.stringify(extra)}: ${response.body}`);
      assert.match(String(response.json().field), new RegExp(field), `${JSON.stringify(extra)} names ${field}: ${response.body}`);
    }
    assert.equal(await historySize(), before, 'nothing was queued');
  });
});
