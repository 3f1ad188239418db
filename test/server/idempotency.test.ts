/**
 * Repeated submits and retries over HTTP with the real studio: the Idempotency-Key header returns the first job,
 * a reused key with another body is refused naming the header, and a retry repeated (also concurrently) returns
 * the job it created.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Studio } from '../../src/app/studio/create-studio.ts';
import { useStudioServer, STUDIO_HOST as HOST } from './studio-server.ts';

const postHeaders = { host: HOST, origin: `http://${HOST}` };
const headers = { ...postHeaders, 'content-type': 'application/json' };

describe('idempotent submits and retries over HTTP', () => {
  let app: FastifyInstance;
  let studio: Studio;
  useStudioServer((server) => ({ app, studio } = server), 'fooocus-idem-');

  const submit = (payload: object, key?: string) =>
    app.inject({ method: 'POST', url: '/api/v1/generate', headers: key === undefined ? headers : { ...headers, 'idempotency-key': key }, payload });
  const historySize = async () => (await app.inject({ method: 'GET', url: '/api/v1/history', headers: { host: HOST } })).json().items.length as number;

  it('the same key and body return the same job (also when sent concurrently); key order in the body does not matter', async () => {
    const before = await historySize();
    const first = await submit({ prompt: 'a boat', width: 64, height: 64, steps: 2 }, 'key-1');
    assert.equal(first.statusCode, 202, first.body);
    const repeats = await Promise.all([
      submit({ prompt: 'a boat', width: 64, height: 64, steps: 2 }, 'key-1'),
      submit({ steps: 2, height: 64, width: 64, prompt: 'a boat' }, 'key-1'),
    ]);
    for (const r of repeats) {
      assert.equal(r.statusCode, 202, r.body);
      assert.equal(r.json().id, first.json().id);
    }
    assert.equal(await historySize(), before + 1);
    const another = await submit({ prompt: 'a boat', width: 64, height: 64, steps: 2 }, 'key-2');
    assert.notEqual(another.json().id, first.json().id);
    assert.equal(await historySize(), before + 2);
  });

  it('the same key with a different body is refused with 422 naming the header, and queues nothing', async () => {
    await submit({ prompt: 'a cat', width: 64, height: 64, steps: 2 }, 'key-3');
    const before = await historySize();
    const reused = await submit({ prompt: 'a dog', width: 64, height: 64, steps: 2 }, 'key-3');
    assert.equal(reused.statusCode, 422, reused.body);
    const body = reused.json() as Record<string, unknown>;
    assert.deepEqual({ error: body.error, field: body.field, rule: body.rule }, { error: 'idempotency_key_reused', field: 'Idempotency-Key', rule: 'sameBody' });
    assert.match(String(body.message), /Idempotency-Key/);
    assert.equal(await historySize(), before);
  });

  it('a malformed key is refused with 400 naming the header', async () => {
    for (const key of ['', 'x'.repeat(129), 'spaces are not allowed']) {
      const response = await submit({ prompt: 'a cat' }, key);
      assert.equal(response.statusCode, 400, key);
      assert.equal(response.json().field, 'Idempotency-Key');
    }
  });

  it('a retry returns the job it created; repeating it, also concurrently, returns that job', async () => {
    const { id } = (await submit({ prompt: 'to cancel', width: 64, height: 64, steps: 200 })).json();
    const cancel = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/cancel`, headers: postHeaders });
    assert.equal(cancel.statusCode, 204, cancel.body);
    for (let i = 0; i < 100 && (await studio.queue.get(id, 'local')).status !== 'cancelled'; i++) await new Promise((r) => setTimeout(r, 50));
    const retries = await Promise.all(Array.from({ length: 4 }, () => app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: postHeaders })));
    const ids = new Set(retries.map((r) => (assert.equal(r.statusCode, 202, r.body), r.json().id as string)));
    assert.equal(ids.size, 1);
    const again = await app.inject({ method: 'POST', url: `/api/v1/jobs/${id}/retry`, headers: postHeaders });
    assert.equal(again.json().id, [...ids][0]);
  });
});
