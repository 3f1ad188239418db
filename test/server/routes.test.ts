import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, HOST, jsonHeaders, type Fixture } from './server-fixture.ts';

describe('routes', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
  });
  after(() => f.close());

  it('queues a job and reads it back, owned by local when auth is off', async () => {
    const submitted = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a cat', imageCount: 2, seed: '42' } });
    assert.equal(submitted.statusCode, 202, submitted.body);
    const { id, eventsUrl } = submitted.json();
    assert.equal(eventsUrl, `/api/v1/jobs/${id}/events`);
    assert.equal(f.studio.jobs.get(id)?.owner, 'local');
    const job = await f.app.inject({ url: `/api/v1/jobs/${id}`, headers: { host: HOST } });
    assert.equal(job.statusCode, 200);
    assert.deepEqual(job.json().request, { prompt: 'a cat', imageCount: 2, seed: '42' });
  });

  it('returns a prompt holding markup as a JSON string, served as application/json, never as HTML', async () => {
    const prompt = '<img src=x onerror=alert(1)><script>alert(2)</script>';
    const submitted = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt } });
    const job = await f.app.inject({ url: `/api/v1/jobs/${submitted.json().id}`, headers: { host: HOST } });
    assert.match(String(job.headers['content-type']), /^application\/json/);
    assert.equal(job.headers['x-content-type-options'], 'nosniff');
    assert.equal(job.json().request.prompt, prompt);
    assert.equal(JSON.parse(job.body).request.prompt, prompt);
  });

  it('lists the catalog through the response allowlist (fields the port adds are dropped)', async () => {
    const models = await f.app.inject({ url: '/api/v1/models', headers: { host: HOST } });
    assert.equal(models.statusCode, 200);
    assert.deepEqual(models.json(), { models: [{ name: 'sd_xl_base_1.0.safetensors', kind: 'checkpoint', family: 'sdxl' }] });
    assert.doesNotMatch(models.body, /secretPath|\/models\/x/);
    for (const [url, key] of [['/api/v1/styles', 'styles'], ['/api/v1/presets', 'presets'], ['/api/v1/aspect-ratios', 'aspectRatios']] as const) {
      const response = await f.app.inject({ url, headers: { host: HOST } });
      assert.equal(response.statusCode, 200, url);
      assert.ok(Array.isArray(response.json()[key]), url);
    }
  });

  it('answers health and readiness probes', async () => {
    assert.deepEqual((await f.app.inject({ url: '/healthz', headers: { host: HOST } })).json(), { status: 'ok' });
    f.studio.isReady = false;
    const notReady = await f.app.inject({ url: '/readyz', headers: { host: HOST } });
    f.studio.isReady = true;
    assert.equal(notReady.statusCode, 503);
    assert.equal((await f.app.inject({ url: '/readyz', headers: { host: HOST } })).statusCode, 200);
  });

  it('cancels, skips, pages history and deletes finished entries', async () => {
    const job = f.studio.addJob('local');
    assert.equal((await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/skip`, headers: jsonHeaders(), payload: {} })).statusCode, 204);
    assert.equal((await f.app.inject({ method: 'DELETE', url: `/api/v1/history/${job.id}`, headers: { host: HOST } })).statusCode, 409);
    assert.equal((await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: { host: HOST } })).statusCode, 204);
    assert.equal((await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: { host: HOST } })).statusCode, 409);
    const page = await f.app.inject({ url: '/api/v1/history?limit=1', headers: { host: HOST } });
    assert.equal(page.statusCode, 200);
    assert.equal(page.json().items.length, 1);
    assert.equal(page.json().nextCursor, 'next');
    assert.equal((await f.app.inject({ method: 'DELETE', url: `/api/v1/history/${job.id}`, headers: { host: HOST } })).statusCode, 204);
    assert.equal((await f.app.inject({ url: `/api/v1/jobs/${job.id}`, headers: { host: HOST } })).statusCode, 404);
  });

  it('retries an interrupted, failed or cancelled job as a new job, and refuses other states', async () => {
    const done = f.studio.addJob('local', { status: 'done' });
    const retryDone = await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${done.id}/retry`, headers: { host: HOST } });
    assert.equal(retryDone.statusCode, 409);
    for (const status of ['interrupted', 'failed', 'cancelled'] as const) {
      const job = f.studio.addJob('local', { status });
      const retried = await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/retry`, headers: { host: HOST } });
      assert.equal(retried.statusCode, 202, status);
      const again = retried.json() as { id: string; eventsUrl: string };
      assert.notEqual(again.id, job.id);
      assert.equal(again.eventsUrl, `/api/v1/jobs/${again.id}/events`);
      assert.deepEqual(f.studio.jobs.get(again.id)?.request, job.request);
    }
  });

  it('serves an OpenAPI document generated from the route schemas, and a script-free docs page', async () => {
    const spec = await f.app.inject({ url: '/api/openapi.json', headers: { host: HOST } });
    assert.equal(spec.statusCode, 200);
    const doc = spec.json();
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(doc.paths['/api/v1/generate'].post.requestBody);
    assert.ok(doc.paths['/api/v1/jobs/{id}/events'].get);
    assert.equal(doc.paths['/api/openapi.json'], undefined);
    const docs = await f.app.inject({ url: '/api/docs', headers: { host: HOST } });
    assert.equal(docs.statusCode, 200);
    assert.match(String(docs.headers['content-type']), /^text\/html/);
    assert.match(docs.body, /POST \/api\/v1\/generate/);
    assert.doesNotMatch(docs.body, /<script|<style| style=|https?:\/\/(?!127)/i);
  });

  it('answers an unknown route with 404 JSON', async () => {
    const response = await f.app.inject({ url: '/api/v1/nothing', headers: { host: HOST } });
    assert.equal(response.statusCode, 404);
    assert.equal(response.json().error, 'not_found');
  });
});
