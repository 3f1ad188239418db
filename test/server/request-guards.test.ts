/** Host allowlist (DNS rebinding), Origin and Fetch Metadata (CSRF), JSON-only bodies, security headers. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createFixture, HOST, jsonHeaders, ORIGIN, type Fixture } from './server-fixture.ts';

const generate = { method: 'POST' as const, url: '/api/v1/generate' };
const PAYLOAD = JSON.stringify({ prompt: 'a cat' });

describe('request guards', () => {
  let f: Fixture;
  before(async () => {
    f = await createFixture();
  });
  after(() => f.close());

  for (const host of ['evil.example:7865', 'attacker.test', '127.0.0.1:80', '127.0.0.1:7866', 'localhost', '127.0.0.1:7865.evil.example', '']) {
    it(`refuses Host "${host}" with 421 before reaching the port`, async () => {
      const calls = f.studio.calls.length;
      const response = await f.app.inject({ url: '/api/v1/models', headers: { host } });
      assert.equal(response.statusCode, 421);
      assert.deepEqual(response.json(), {
        error: 'misdirected_request',
        field: 'host',
        rule: 'allowedHosts',
        message: 'the Host header names a host this server does not answer for',
      });
      assert.equal(f.studio.calls.length, calls);
    });
  }

  it('refuses a wrong Host on a state-changing request too, and logs client and reason', async () => {
    const response = await f.app.inject({ ...generate, headers: jsonHeaders({ host: 'rebound.example:7865', origin: 'http://rebound.example:7865' }), payload: PAYLOAD });
    assert.equal(response.statusCode, 421);
    assert.equal(f.studio.jobs.size, 0);
    const entry = f.logs.find((line) => line.msg === 'request refused' && line.reason === 'misdirected_request');
    assert.ok(entry);
    assert.equal(entry.client, '127.0.0.1');
  });

  it('accepts the allowed hosts case-insensitively', async () => {
    for (const host of [HOST, 'LOCALHOST:7865']) {
      assert.equal((await f.app.inject({ url: '/api/v1/models', headers: { host } })).statusCode, 200, host);
    }
  });

  for (const origin of ['http://evil.example', 'https://evil.example:7865', 'null', 'http://127.0.0.1:7866', 'http://127.0.0.1:7865.evil.example', 'file://', `${ORIGIN}/path`]) {
    it(`refuses a cross-origin POST from "${origin}" with 403`, async () => {
      const response = await f.app.inject({ ...generate, headers: jsonHeaders({ origin }), payload: PAYLOAD });
      assert.equal(response.statusCode, 403);
      assert.equal(response.json().error, 'forbidden_origin');
      assert.equal(response.json().field, 'origin');
      assert.equal(f.studio.jobs.size, 0);
    });
  }

  it('refuses cross-origin DELETE and cancel', async () => {
    const job = f.studio.addJob('local', { status: 'done' });
    const del = await f.app.inject({ method: 'DELETE', url: `/api/v1/history/${job.id}`, headers: { host: HOST, origin: 'http://evil.example' } });
    const cancel = await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: { host: HOST, origin: 'http://evil.example' } });
    assert.equal(del.statusCode, 403);
    assert.equal(cancel.statusCode, 403);
    assert.ok(f.studio.jobs.has(job.id));
    f.studio.jobs.delete(job.id);
  });

  it('refuses a cross-site request by Fetch Metadata even without an Origin', async () => {
    const headers: Record<string, string> = { ...jsonHeaders(), 'sec-fetch-site': 'cross-site' };
    delete headers.origin;
    const response = await f.app.inject({ ...generate, headers, payload: PAYLOAD });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().field, 'sec-fetch-site');
  });

  it('accepts same-origin POSTs and POSTs without Origin (non-browser clients)', async () => {
    const same = await f.app.inject({ ...generate, headers: jsonHeaders({ 'sec-fetch-site': 'same-origin' }), payload: PAYLOAD });
    assert.equal(same.statusCode, 202);
    const headers: Record<string, string> = jsonHeaders();
    delete headers.origin;
    assert.equal((await f.app.inject({ ...generate, headers, payload: PAYLOAD })).statusCode, 202);
    f.studio.jobs.clear();
  });

  const FORM_BODIES: [string, string][] = [
    ['application/x-www-form-urlencoded', 'prompt=a+cat'],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="prompt"\r\n\r\na cat\r\n--x--\r\n'],
    ['text/plain', PAYLOAD],
    ['text/plain; charset=utf-8', PAYLOAD],
    ['application/json-patch+json', PAYLOAD],
    ['text/html', '<b>x</b>'],
    ['image/png', PAYLOAD],
  ];
  for (const [type, payload] of FORM_BODIES) {
    it(`refuses a ${type} body on a JSON route with 415`, async () => {
      const response = await f.app.inject({ ...generate, headers: jsonHeaders({ 'content-type': type }), payload });
      assert.equal(response.statusCode, 415);
      assert.equal(response.json().field, 'content-type');
      assert.equal(f.studio.jobs.size, 0);
    });
  }

  it('refuses a text/plain form post to a body-less action route', async () => {
    const job = f.studio.addJob('local');
    const response = await f.app.inject({ method: 'POST', url: `/api/v1/jobs/${job.id}/cancel`, headers: { host: HOST, 'content-type': 'text/plain' }, payload: '' });
    assert.equal(response.statusCode, 415);
    assert.equal(f.studio.jobs.get(job.id)?.status, 'queued');
    f.studio.jobs.delete(job.id);
  });

  it('refuses a JSON body without a Content-Type', async () => {
    const response = await f.app.inject({ ...generate, headers: { host: HOST }, payload: Buffer.from(PAYLOAD) });
    assert.equal(response.statusCode, 415);
  });

  it('sends a strict CSP without inline scripts and nosniff on every response, errors included', async () => {
    for (const [url, status] of [['/api/v1/models', 200], ['/api/docs', 200], ['/nope', 404], ['/api/v1/jobs/x', 404]] as const) {
      const response = await f.app.inject({ url, headers: { host: HOST } });
      assert.equal(response.statusCode, status, url);
      assert.equal(
        response.headers['content-security-policy'],
        "default-src 'self';script-src 'self';object-src 'none';base-uri 'none';frame-ancestors 'none';img-src 'self' data: blob:;style-src 'self'",
      );
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
      assert.equal(response.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(response.headers['referrer-policy'], 'no-referrer');
      assert.doesNotMatch(String(response.headers['content-security-policy']), /unsafe-inline|unsafe-eval/);
    }
  });

  it('answers a URL with invalid percent-encoding in the same JSON shape, with the security headers, not echoing it', async () => {
    const response = await f.app.inject({ url: '/api/v1/jobs/%C0%AE<script>', headers: { host: HOST } });
    assert.equal(response.statusCode, 400);
    assert.deepEqual(response.json(), { error: 'invalid_request', field: 'url', rule: 'encoding', message: 'the URL is not valid percent-encoding' });
    assert.equal(response.headers['x-content-type-options'], 'nosniff');
    assert.match(String(response.headers['content-security-policy']), /^default-src 'self';script-src 'self';/);
  });

  it('sends no CORS headers, so other origins cannot read responses', async () => {
    const response = await f.app.inject({ url: '/api/v1/history', headers: { host: HOST, origin: 'http://evil.example' } });
    assert.equal(response.headers['access-control-allow-origin'], undefined);
  });
});
