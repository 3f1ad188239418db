/**
 * Sign-in has its own limits: submits and reads do not use them up, wrong passwords earn an exponential wait per
 * address and per name, and the health probes are never rate-limited.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hashPassword } from '../../src/app/auth/password-hash.ts';
import { SignInBackoff, SignInThrottle } from '../../src/server/sign-in-throttle.ts';
import { createFixture, HOST, jsonHeaders, type Fixture } from './server-fixture.ts';

const COST = { N: 1024, r: 8, p: 1 };

async function signInFixture(rateLimit = { submitsPerMinute: 20, readsPerMinute: 1000 }): Promise<Fixture> {
  const users = [
    { name: 'alice', passwordHash: await hashPassword('correct horse', COST), role: 'user' as const },
    { name: 'bob', passwordHash: await hashPassword('battery staple', COST), role: 'user' as const },
  ];
  return createFixture({ auth: { users, tokens: [] }, rateLimit });
}

const signIn = (f: Fixture, name: string, password: string, remoteAddress = '10.0.0.1') =>
  f.app.inject({ method: 'POST', url: '/api/v1/session', headers: jsonHeaders(), payload: { name, password }, remoteAddress });

describe('sign-in limits', () => {
  it('a user who used up the submit bucket can still sign in with the right password', async () => {
    const f = await signInFixture({ submitsPerMinute: 20, readsPerMinute: 1000 });
    try {
      const cookie = String((await signIn(f, 'alice', 'correct horse')).headers['set-cookie']).split(';')[0]!;
      const submits = [];
      for (let i = 0; i < 21; i++) {
        submits.push((await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders({ cookie }), payload: { prompt: 'a' }, remoteAddress: '10.0.0.1' })).statusCode);
      }
      assert.deepEqual([submits.filter((c) => c === 202).length, submits.at(-1)], [20, 429]);
      const again = await signIn(f, 'alice', 'correct horse');
      assert.equal(again.statusCode, 200, again.body);
    } finally {
      await f.close();
    }
  });

  it('wrong passwords earn a wait per name (from any address) and per address (for any name); 429 with Retry-After', async () => {
    const f = await signInFixture();
    try {
      const wrong = [];
      for (let i = 0; i < 5; i++) wrong.push((await signIn(f, 'alice', `guess ${i}`)).statusCode);
      assert.deepEqual(wrong, [401, 401, 401, 401, 401], 'the first 5 wrong passwords for a name are answered');
      const blocked = await signIn(f, 'alice', 'correct horse', '10.0.0.1');
      assert.equal(blocked.statusCode, 429, 'even the right password waits after wrong ones');
      assert.ok(Number(blocked.headers['retry-after']) >= 1);
      const fromElsewhere = await signIn(f, 'alice', 'guess 4', '10.9.9.9');
      assert.deepEqual([fromElsewhere.statusCode, fromElsewhere.json().rule], [429, 'wrongPasswordsPerName']);
      const otherUser = await signIn(f, 'bob', 'battery staple', '10.0.0.1');
      assert.equal(otherUser.statusCode, 200, 'another user from the same address is not affected yet');
      for (let i = 0; i < 10; i++) await signIn(f, `nobody-${i}`, 'guess', '10.0.0.3');
      const sameAddress = await signIn(f, 'bob', 'battery staple', '10.0.0.3');
      assert.deepEqual([sameAddress.statusCode, sameAddress.json().rule], [429, 'wrongPasswordsPerAddress'], 'after 10 wrong ones from one address, for any name');
    } finally {
      await f.close();
    }
  });

  it('concurrent guesses cannot all slip in before the first password check finishes', async () => {
    const f = await signInFixture();
    try {
      const codes = (await Promise.all(Array.from({ length: 10 }, (_, i) => signIn(f, 'alice', `guess ${i}`)))).map((r) => r.statusCode);
      assert.deepEqual([codes.filter((c) => c === 401).length, codes.filter((c) => c === 429).length], [5, 5]);
    } finally {
      await f.close();
    }
  });

  it('never rate-limits /healthz and /readyz, even when the read bucket is used up', async () => {
    const f = await createFixture({ rateLimit: { readsPerMinute: 2, submitsPerMinute: 2 } });
    try {
      for (let i = 0; i < 3; i++) await f.app.inject({ url: '/api/v1/styles', headers: { host: HOST } });
      assert.equal((await f.app.inject({ url: '/api/v1/styles', headers: { host: HOST } })).statusCode, 429);
      for (let i = 0; i < 50; i++) {
        assert.equal((await f.app.inject({ url: '/healthz', headers: { host: HOST } })).statusCode, 200);
        assert.equal((await f.app.inject({ url: '/readyz', headers: { host: HOST } })).statusCode, 200);
      }
      f.studio.isReady = false;
      const unready = await f.app.inject({ url: '/readyz', headers: { host: HOST } });
      assert.deepEqual([unready.statusCode, unready.json()], [503, { status: 'unavailable', reason: 'the default model is missing' }]);
    } finally {
      await f.close();
    }
  });
});

describe('sign-in throttle', () => {
  it('waits 1, 2, 4... seconds after the free failures, up to the cap; a right password clears the counts', () => {
    let now = 0;
    const throttle = new SignInThrottle({ freeFailuresPerName: 2, freeFailuresPerAddress: 100, baseDelayMs: 1000, maxDelayMs: 4000, now: () => now });
    const waitOf = (name: string): number | null => {
      try {
        throttle.begin('a', name);
        return null;
      } catch (err) {
        assert.ok(err instanceof SignInBackoff);
        return err.retryAfterSeconds;
      }
    };
    assert.equal(waitOf('x'), null);
    assert.equal(waitOf('x'), null);
    assert.equal(waitOf('x'), 1, 'after 2 failures: 1 s');
    now += 1000;
    assert.equal(waitOf('x'), null, 'the third attempt, after the wait');
    assert.equal(waitOf('x'), 2, 'after 3 failures: 2 s');
    now += 2000;
    assert.equal(waitOf('x'), null);
    assert.equal(waitOf('x'), 4);
    now += 4000;
    assert.equal(waitOf('x'), null);
    assert.equal(waitOf('x'), 4, 'capped');
    now += 4000;
    throttle.begin('a', 'x').succeeded();
    assert.equal(waitOf('x'), null, 'cleared by the right password');
    assert.equal(waitOf('x'), null);
  });

  it('forgets failures after a quiet period', () => {
    let now = 0;
    const throttle = new SignInThrottle({ freeFailuresPerName: 1, forgetAfterMs: 60_000, now: () => now });
    throttle.begin('a', 'x');
    assert.throws(() => throttle.begin('a', 'x'), SignInBackoff);
    now += 60_000;
    throttle.begin('a', 'x');
  });
});
