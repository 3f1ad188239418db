/** The API client against a fake fetch: what it sends, what it accepts, and every failure as an ApiError. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../src/ui/api-error.ts';
import { createApiClient, type FetchLike } from '../../src/ui/api-client.ts';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function fakeFetch(respond: (call: Call) => Response | Promise<Response>): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url, init };
      calls.push(call);
      return respond(call);
    },
  };
}

const json = (body: unknown, status = 200): Response =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

const JOB = {
  id: 'job1',
  status: 'done',
  progress: null,
  error: null,
  results: [{ imageId: 'img1', url: '/api/v1/images/img1', seed: '42' }],
  request: { prompt: 'fox' },
};

describe('api client', () => {
  it('posts the generate body as JSON and returns the job id and position', async () => {
    const fake = fakeFetch(() => json({ id: 'job1', position: 2 }, 202));
    const api = createApiClient(fake.fetch);
    assert.deepEqual(await api.generate({ prompt: 'fox', imageCount: 2 }), { id: 'job1', position: 2 });
    const [call] = fake.calls;
    assert.equal(call?.url, '/api/v1/generate');
    assert.equal(call?.init?.method, 'POST');
    assert.equal((call?.init?.headers as Record<string, string>)['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(String(call?.init?.body)), { prompt: 'fox', imageCount: 2 });
  });

  it('turns a 400 into an ApiError naming the field and the rule', async () => {
    const api = createApiClient(
      fakeFetch(() => json({ error: 'invalid_request', field: 'cfg', rule: 'maximum', message: 'cfg must be at most 30' }, 400)).fetch,
    );
    const error = await api.generate({ prompt: 'x', cfg: 99 }).catch((e: unknown) => e);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 400);
    assert.equal(error.code, 'invalid_request');
    assert.equal(error.field, 'cfg');
    assert.equal(error.rule, 'maximum');
    assert.equal(error.message, 'cfg must be at most 30');
    assert.equal(error.needsLogin, false);
  });

  it('reports 401 as needing login, a non-JSON 500 generically, and a refused connection as network', async () => {
    const unauthorized = createApiClient(fakeFetch(() => json({ error: 'unauthorized', message: 'Sign in first.' }, 401)).fetch);
    const e401 = await unauthorized.listModels().catch((e: unknown) => e);
    assert.ok(e401 instanceof ApiError && e401.needsLogin);

    const broken = createApiClient(fakeFetch(() => new Response('<h1>oops</h1>', { status: 500, statusText: 'Internal Server Error' })).fetch);
    const e500 = await broken.listStyles().catch((e: unknown) => e);
    assert.ok(e500 instanceof ApiError);
    assert.equal(e500.code, 'http_500');
    assert.equal(e500.message, 'The server answered 500 Internal Server Error.');
    assert.equal(e500.field, null);

    const offline = createApiClient(async () => {
      throw new TypeError('Failed to fetch');
    });
    const e0 = await offline.getJob('job1').catch((e: unknown) => e);
    assert.ok(e0 instanceof ApiError);
    assert.equal(e0.status, 0);
    assert.equal(e0.code, 'network');
  });

  it('refuses a success body of the wrong shape or not JSON', async () => {
    const wrong = createApiClient(fakeFetch(() => json({ id: 'job1', status: 'exploded' })).fetch);
    await assert.rejects(wrong.getJob('job1'), (e: unknown) => e instanceof ApiError && e.code === 'bad_response');
    const text = createApiClient(fakeFetch(() => new Response('hello', { status: 200 })).fetch);
    await assert.rejects(text.listModels(), (e: unknown) => e instanceof ApiError && e.code === 'bad_response');
  });

  it('reads a job, keeping image addresses on this origin', async () => {
    const hostile = { ...JOB, results: [{ imageId: 'img2', url: 'javascript:alert(1)' }, { imageId: 'img3', url: '//evil.example/x.png' }] };
    const fake = fakeFetch((call) => json(call.url.endsWith('job1') ? JOB : hostile));
    const api = createApiClient(fake.fetch);
    assert.deepEqual((await api.getJob('job1')).results, [{ imageId: 'img1', url: '/api/v1/images/img1', seed: '42' }]);
    const urls = (await api.getJob('job/2')).results.map((r) => r.url);
    assert.deepEqual(urls, ['/api/v1/images/img2', '/api/v1/images/img3']);
    assert.equal(fake.calls[1]?.url, '/api/v1/jobs/job%2F2', 'ids are path-encoded');
  });

  it('reads models, styles and aspect ratios in either spelling the contract allows', async () => {
    const bodies: Record<string, unknown> = {
      '/api/v1/models': { models: [{ name: 'demo-sd15', kind: 'checkpoint', family: 'sd15' }] },
      '/api/v1/styles': [{ name: 'Fooocus V2', prompt: '{prompt}', negative: '' }],
      '/api/v1/aspect-ratios': { aspectRatios: [{ id: '1024*1024', width: 1024, height: 1024 }] },
    };
    const api = createApiClient(fakeFetch((call) => json(bodies[call.url])).fetch);
    assert.deepEqual(await api.listModels(), [{ name: 'demo-sd15', family: 'sd15', kind: 'checkpoint', demo: false }]);
    assert.deepEqual(await api.listStyles(), [{ name: 'Fooocus V2', prompt: '{prompt}', negative: '' }]);
    assert.deepEqual(await api.listAspectRatios(), { sdxl: ['1024*1024'], sd15: [] });
  });

  it('reads the demo flag, style templates and the sizes of each family as the server sends them now', async () => {
    const bodies: Record<string, unknown> = {
      '/api/v1/models': { models: [{ name: 'fooocus-ts-demo.safetensors', kind: 'checkpoint', family: 'sd15', demo: true }, { name: 'b', kind: 'checkpoint', demo: 'yes' }] },
      '/api/v1/styles': { styles: [{ name: 'Fooocus Photograph', prompt: 'photograph {prompt}', negative: 'cartoon' }, { name: 'Bare' }] },
      '/api/v1/aspect-ratios': {
        aspectRatios: [{ id: '1024*1024', width: 1024, height: 1024 }, { id: '512*768', width: 512, height: 768 }],
        sdxl: [{ id: '1024*1024', width: 1024, height: 1024 }],
        sd15: [{ id: '512*768', width: 512, height: 768 }, { id: 'huge', width: 1, height: 1 }],
      },
    };
    const api = createApiClient(fakeFetch((call) => json(bodies[call.url])).fetch);
    assert.deepEqual((await api.listModels()).map((m) => m.demo), [true, false], 'only a JSON true marks the demo model');
    assert.deepEqual(await api.listStyles(), [
      { name: 'Fooocus Photograph', prompt: 'photograph {prompt}', negative: 'cartoon' },
      { name: 'Bare', prompt: '', negative: '' },
    ]);
    assert.deepEqual(await api.listAspectRatios(), { sdxl: ['1024*1024'], sd15: ['512*768'] });
  });

  it('pages history with a cursor, deletes entries, cancels, skips and signs in', async () => {
    const fake = fakeFetch((call) => (call.init?.method === undefined ? json({ items: [JOB], nextCursor: 'c2' }) : new Response(null, { status: 204 })));
    const api = createApiClient(fake.fetch);
    const page = await api.listHistory({ cursor: 'c1', limit: 20 });
    assert.equal(page.nextCursor, 'c2');
    assert.equal(page.items[0]?.id, 'job1');
    await api.deleteHistoryEntry('job1');
    await api.cancelJob('job1');
    await api.skipImage('job1');
    await api.signIn('ada', 'secret');
    assert.deepEqual(
      fake.calls.map((c) => `${c.init?.method ?? 'GET'} ${c.url}`),
      ['GET /api/v1/history?cursor=c1&limit=20', 'DELETE /api/v1/history/job1', 'POST /api/v1/jobs/job1/cancel', 'POST /api/v1/jobs/job1/skip', 'POST /api/v1/session'],
    );
    assert.deepEqual(JSON.parse(String(fake.calls[4]?.init?.body)), { name: 'ada', password: 'secret' });
  });

  it('uploads raw image bytes with their content type', async () => {
    const fake = fakeFetch(() => json({ id: 'up1' }, 201));
    const api = createApiClient(fake.fetch);
    assert.equal(await api.uploadImage(new Blob([new Uint8Array([1, 2])], { type: 'image/png' })), 'up1');
    assert.equal((fake.calls[0]?.init?.headers as Record<string, string>)['content-type'], 'image/png');
  });
});
