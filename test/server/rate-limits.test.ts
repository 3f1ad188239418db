/** Per-client rate limits: exact under concurrency, 429 with Retry-After, counted per user or per IP. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createFixture, HOST, jsonHeaders } from './server-fixture.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('rate limits', () => {
  it('lets exactly N of 50 concurrent submissions through and answers the rest 429 with Retry-After', async () => {
    const f = await createFixture({ rateLimit: { submitsPerMinute: 7, readsPerMinute: 1000 } });
    try {
      const responses = await Promise.all(
        Array.from({ length: 50 }, () => f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } })),
      );
      const accepted = responses.filter((r) => r.statusCode === 202);
      const limited = responses.filter((r) => r.statusCode === 429);
      assert.equal(accepted.length, 7);
      assert.equal(limited.length, 43);
      assert.equal(f.studio.jobs.size, 7);
      for (const response of limited) {
        const retryAfter = Number(response.headers['retry-after']);
        assert.ok(retryAfter >= 1 && retryAfter <= 60, String(retryAfter));
        assert.equal(response.json().error, 'rate_limited');
        assert.equal(response.json().limit, 7);
        assert.equal(response.json().rule, 'submitsPerMinute');
      }
      assert.ok(f.logs.some((line) => line.msg === 'request refused' && line.reason === 'rate_limited' && line.client === '127.0.0.1'));
    } finally {
      await f.close();
    }
  });

  it('lets exactly N of 50 concurrent reads through', async () => {
    const f = await createFixture({ rateLimit: { readsPerMinute: 13, submitsPerMinute: 5 } });
    try {
      const responses = await Promise.all(Array.from({ length: 50 }, () => f.app.inject({ url: '/api/v1/styles', headers: { host: HOST } })));
      assert.equal(responses.filter((r) => r.statusCode === 200).length, 13);
      assert.equal(responses.filter((r) => r.statusCode === 429).length, 37);
    } finally {
      await f.close();
    }
  });

  it('counts invalid requests too, so floods of bad bodies are limited', async () => {
    const f = await createFixture({ rateLimit: { submitsPerMinute: 3, readsPerMinute: 1000 } });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) {
        codes.push((await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { nope: 1 } })).statusCode);
      }
      assert.deepEqual(codes, [400, 400, 400, 429, 429]);
    } finally {
      await f.close();
    }
  });

  it('keys by client IP without auth and by user with auth', async () => {
    const ip = await createFixture({ rateLimit: { readsPerMinute: 2, submitsPerMinute: 2 } });
    try {
      const from = (remoteAddress: string) => ip.app.inject({ url: '/api/v1/styles', headers: { host: HOST }, remoteAddress });
      assert.deepEqual([(await from('10.0.0.1')).statusCode, (await from('10.0.0.1')).statusCode, (await from('10.0.0.1')).statusCode], [200, 200, 429]);
      assert.equal((await from('10.0.0.2')).statusCode, 200);
    } finally {
      await ip.close();
    }
    const auth = {
      users: [],
      tokens: [
        { name: 'a', tokenHash: sha256('token-a-0123456789abcdef'), owner: 'alice' },
        { name: 'b', tokenHash: sha256('token-b-0123456789abcdef'), owner: 'bob' },
      ],
    };
    const users = await createFixture({ auth, rateLimit: { readsPerMinute: 2, submitsPerMinute: 2 } });
    try {
      const as = (token: string, remoteAddress: string) =>
        users.app.inject({ url: '/api/v1/styles', headers: { host: HOST, authorization: `Bearer ${token}` }, remoteAddress });
      assert.equal((await as('token-a-0123456789abcdef', '10.0.0.1')).statusCode, 200);
      assert.equal((await as('token-a-0123456789abcdef', '10.0.0.2')).statusCode, 200);
      assert.equal((await as('token-a-0123456789abcdef', '10.0.0.3')).statusCode, 429, 'same user from another IP');
      assert.equal((await as('token-b-0123456789abcdef', '10.0.0.1')).statusCode, 200, 'another user from the same IP');
    } finally {
      await users.close();
    }
  });

  it('limits guessing of Bearer tokens from one IP', async () => {
    const auth = { users: [], tokens: [{ name: 'a', tokenHash: sha256('token-a-0123456789abcdef'), owner: 'alice' }] };
    const f = await createFixture({ auth, rateLimit: { readsPerMinute: 3, submitsPerMinute: 3 } });
    try {
      const codes = [];
      for (let i = 0; i < 5; i++) {
        codes.push((await f.app.inject({ url: '/api/v1/styles', headers: { host: HOST, authorization: `Bearer guess-${i}-0123456789abcdef` } })).statusCode);
      }
      assert.deepEqual(codes, [401, 401, 401, 429, 429]);
    } finally {
      await f.close();
    }
  });

  it('defaults to 300 reads and 20 submissions a minute', async () => {
    const f = await createFixture();
    try {
      const responses = await Promise.all(
        Array.from({ length: 25 }, () => f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } })),
      );
      assert.equal(responses.filter((r) => r.statusCode === 202).length, 20);
    } finally {
      await f.close();
    }
  });
});

describe('FixedWindowLimiter', () => {
  it('opens a new window when the old one ends and reports the seconds left', async () => {
    const { FixedWindowLimiter } = await import('../../src/server/fixed-window-limiter.ts');
    let now = 0;
    const limiter = new FixedWindowLimiter(2, 60_000, 10, () => now);
    assert.deepEqual([limiter.take('a').allowed, limiter.take('a').allowed, limiter.take('a').allowed], [true, true, false]);
    now = 59_001;
    assert.equal(limiter.take('a').retryAfterSeconds, 1);
    now = 60_000;
    assert.equal(limiter.take('a').allowed, true);
  });

  it('keeps at most maxKeys windows', async () => {
    const { FixedWindowLimiter } = await import('../../src/server/fixed-window-limiter.ts');
    const limiter = new FixedWindowLimiter(1, 60_000, 3, () => 0);
    for (const key of ['a', 'b', 'c', 'd']) limiter.take(key);
    assert.equal(limiter.take('d').allowed, false, 'the newest key keeps its count');
    assert.equal(limiter.take('a').allowed, true, 'the oldest key was dropped');
  });
});
