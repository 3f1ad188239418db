/**
 * History written by the previous version of the studio (test/fixtures/jobs-previous, made by its script at that
 * version) still lists through the API after an upgrade, with every field the page's Reuse fills in, and stays
 * scoped to its owner.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { chosen, plain, variation } from '../fixtures/jobs-previous/stored-requests.ts';
import { useStudioServer, STUDIO_HOST as HOST } from './studio-server.ts';

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'jobs-previous', 'jobs-v1.sqlite');

/**
 * Each stored job's request as the previous version's API returned it (the upload's denoise, never its path), in
 * the history's order (newest first): every field here is one the page's Reuse reads.
 */
const { input, ...variationFields } = variation;
const REUSED = [
  { status: 'cancelled', request: chosen },
  { status: 'interrupted', request: { ...variationFields, denoise: input.denoise } },
  { status: 'failed', request: chosen },
  { status: 'done', request: plain },
];

describe('history saved by the previous version', () => {
  let app: FastifyInstance;
  useStudioServer((server) => ({ app } = server), 'fooocus-previous-', (_dir, config) => {
    mkdirSync(config.paths.cache, { recursive: true, mode: 0o750 });
    copyFileSync(FIXTURE, path.join(config.paths.cache, 'jobs.sqlite'));
  });

  it('lists the owner\'s jobs, newest first, with the request fields Reuse fills the form from', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } });
    assert.equal(response.statusCode, 200, response.body);
    const items = response.json().items as { id: string; status: string; request: Record<string, unknown>; images: { imageId: string; seed: string }[] }[];
    assert.deepEqual(items.map((i) => i.status), REUSED.map((r) => r.status));
    items.forEach((item, at) => {
      const expected: Record<string, unknown> = REUSED[at]!.request;
      const picked = Object.fromEntries(Object.keys(expected).map((key) => [key, item.request[key]]));
      assert.deepEqual(picked, expected, `${item.status} job`);
    });
    assert.ok(!items.some((i) => i.request.prompt === 'not yours'));
    const done = items.at(-1)!;
    assert.deepEqual(done.images.map((i) => i.seed), ['1234567890123456789', '1234567890123456790']);
    assert.ok(done.images.every((i) => i.imageId.startsWith(`${done.id}-`)));
  });

  it('opens one stored job by id, and retries a failed one as a new job with the same request', async () => {
    const { items } = (await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } })).json() as { items: { id: string; status: string; request: unknown }[] };
    const interrupted = items.find((i) => i.status === 'interrupted')!;
    const job = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${interrupted.id}`, headers: { host: HOST } })).json();
    assert.deepEqual(job.request, interrupted.request);
    const failed = items.find((i) => i.status === 'failed')!;
    const retry = await app.inject({ method: 'POST', url: `/api/v1/jobs/${failed.id}/retry`, headers: { host: HOST, origin: `http://${HOST}` } });
    assert.equal(retry.statusCode, 202, retry.body);
    const again = (await app.inject({ method: 'GET', url: `/api/v1/jobs/${retry.json().id}`, headers: { host: HOST } })).json();
    assert.deepEqual(again.request, failed.request);
  });
});
