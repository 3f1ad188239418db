/** Sign-in, session cookies, Bearer tokens, per-user isolation and admin scope. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createFixture, HOST, jsonHeaders, type Fixture } from './server-fixture.ts';
import { hashPassword, parsePasswordHash, verifyPassword } from '../../src/app/auth/password-hash.ts';
import { resolveServerOptions, ServerConfigError, type AuthOptions } from '../../src/server/server-options.ts';

const COST = { N: 1024, r: 8, p: 1 };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const ALICE_TOKEN = 'alice-token-0123456789abcdef';
const ADMIN_TOKEN = 'admin-token-0123456789abcdef';
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');

async function authOptions(): Promise<AuthOptions> {
  return {
    users: [
      { name: 'alice', passwordHash: await hashPassword('correct horse', COST), role: 'user' },
      { name: 'bob', passwordHash: await hashPassword('battery staple', COST), role: 'user' },
      { name: 'root', passwordHash: await hashPassword('admin pass', COST), role: 'admin' },
    ],
    tokens: [
      { name: 'alice-cli', tokenHash: sha256(ALICE_TOKEN), owner: 'alice' },
      { name: 'admin-cli', tokenHash: sha256(ADMIN_TOKEN), owner: 'root' },
    ],
  };
}

async function login(f: Fixture, name: string, password: string) {
  return f.app.inject({ method: 'POST', url: '/api/v1/session', headers: jsonHeaders(), payload: { name, password } });
}

function cookieOf(response: { headers: Record<string, unknown> }): string {
  const header = String(response.headers['set-cookie']);
  return header.split(';', 1)[0] ?? '';
}

describe('auth', () => {
  let f: Fixture;
  let secure: Fixture;
  before(async () => {
    f = await createFixture({ auth: await authOptions() });
    secure = await createFixture({ auth: await authOptions(), secureCookies: true });
  });
  after(async () => {
    await f.close();
    await secure.close();
  });

  it('refuses API requests without credentials with 401 and keeps probes and login public', async () => {
    for (const url of ['/api/v1/models', '/api/v1/history', '/api/v1/jobs/abc', '/api/v1/images/abc']) {
      const response = await f.app.inject({ url, headers: { host: HOST } });
      assert.equal(response.statusCode, 401, url);
      assert.equal(response.json().error, 'unauthorized');
      assert.equal(response.headers['www-authenticate'], 'Bearer');
    }
    assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } })).statusCode, 401);
    assert.equal(f.studio.calls.length, 0);
    assert.equal((await f.app.inject({ url: '/healthz', headers: { host: HOST } })).statusCode, 200);
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    for (const [name, password] of [['alice', 'wrong'], ['mallory', 'correct horse'], ['alice', 'correct horse ']]) {
      const response = await login(f, name ?? '', password ?? '');
      assert.equal(response.statusCode, 401);
      assert.deepEqual(response.json(), { error: 'invalid_credentials', message: 'wrong name or password', field: 'password', rule: 'matches' });
      assert.equal(response.headers['set-cookie'], undefined);
    }
  });

  it('signs in with an HttpOnly, SameSite=Strict cookie that grants access until sign-out', async () => {
    const response = await login(f, 'alice', 'correct horse');
    assert.equal(response.statusCode, 200);
    assert.deepEqual(response.json(), { name: 'alice', role: 'user', authRequired: true });
    const setCookie = String(response.headers['set-cookie']);
    assert.match(setCookie, /^fooocus_session=[A-Za-z0-9_-]{43};/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.match(setCookie, /Path=\//);
    assert.doesNotMatch(setCookie, /Secure/);
    const cookie = cookieOf(response);
    const me = await f.app.inject({ url: '/api/v1/session', headers: { host: HOST, cookie } });
    assert.deepEqual(me.json(), { name: 'alice', role: 'user', authRequired: true });
    const out = await f.app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { host: HOST, cookie } });
    assert.equal(out.statusCode, 204);
    assert.equal((await f.app.inject({ url: '/api/v1/models', headers: { host: HOST, cookie } })).statusCode, 401);
  });

  it('marks the cookie Secure when secureCookies is set', async () => {
    const response = await login(secure, 'bob', 'battery staple');
    assert.match(String(response.headers['set-cookie']), /; Secure/);
  });

  it('refuses a forged session cookie', async () => {
    const response = await f.app.inject({ url: '/api/v1/models', headers: { host: HOST, cookie: 'fooocus_session=' + 'A'.repeat(43) } });
    assert.equal(response.statusCode, 401);
  });

  it('accepts a Bearer token stored only as its hash, and refuses wrong or malformed ones', async () => {
    assert.equal((await f.app.inject({ url: '/api/v1/models', headers: { host: HOST, authorization: `Bearer ${ALICE_TOKEN}` } })).statusCode, 200);
    for (const authorization of [`Bearer ${ALICE_TOKEN}x`, `Bearer ${sha256(ALICE_TOKEN)}`, ALICE_TOKEN, `Basic ${ALICE_TOKEN}`, 'Bearer ', `bearer  ${ALICE_TOKEN}`]) {
      const response = await f.app.inject({ url: '/api/v1/models', headers: { host: HOST, authorization } });
      assert.equal(response.statusCode, 401, authorization);
      assert.match(String(response.headers['www-authenticate']), /^Bearer/);
    }
  });

  it('isolates users: one never sees, cancels, deletes, streams or downloads another one’s jobs and images', async () => {
    const alice = { host: HOST, authorization: `Bearer ${ALICE_TOKEN}` };
    const bobCookie = cookieOf(await login(f, 'bob', 'battery staple'));
    const bob = { host: HOST, cookie: bobCookie };
    const submitted = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...alice, 'content-type': 'application/json' }, payload: { prompt: 'alice secret prompt' } });
    assert.equal(submitted.statusCode, 202);
    const id = submitted.json().id as string;
    assert.equal(f.studio.jobs.get(id)?.owner, 'alice');
    await writeFile(path.join(f.outputsDir, 'alice.png'), PNG);
    f.studio.addImage('alice', 'aliceimage', 'alice.png');

    assert.equal((await f.app.inject({ url: `/api/v1/jobs/${id}`, headers: alice })).statusCode, 200);
    assert.equal((await f.app.inject({ url: '/api/v1/images/aliceimage', headers: alice })).statusCode, 200);
    for (const [method, url] of [
      ['GET', `/api/v1/jobs/${id}`],
      ['GET', `/api/v1/jobs/${id}/events`],
      ['POST', `/api/v1/jobs/${id}/cancel`],
      ['POST', `/api/v1/jobs/${id}/retry`],
      ['POST', `/api/v1/jobs/${id}/skip`],
      ['DELETE', `/api/v1/history/${id}`],
      ['GET', '/api/v1/images/aliceimage'],
    ] as const) {
      const response = await f.app.inject({ method, url, headers: bob });
      assert.equal(response.statusCode, 404, `${method} ${url}`);
      assert.doesNotMatch(response.body, /alice/);
    }
    const history = await f.app.inject({ url: '/api/v1/history', headers: bob });
    assert.deepEqual(history.json().items, []);
    assert.equal(f.studio.jobs.get(id)?.status, 'queued');
  });

  it('gives an admin every owner’s jobs (scope *) but submits under the admin’s own name', async () => {
    const admin = { host: HOST, authorization: `Bearer ${ADMIN_TOKEN}` };
    const history = await f.app.inject({ url: '/api/v1/history', headers: admin });
    assert.ok(history.json().items.some((job: { owner: string }) => job.owner === 'alice'));
    assert.equal(f.studio.calls.at(-1)?.owner, '*');
    const submitted = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...admin, 'content-type': 'application/json' }, payload: { prompt: 'x' } });
    assert.equal(f.studio.jobs.get(submitted.json().id)?.owner, 'root');
    const adminCookie = cookieOf(await login(f, 'root', 'admin pass'));
    const me = await f.app.inject({ url: '/api/v1/session', headers: { host: HOST, cookie: adminCookie } });
    assert.equal(me.json().role, 'admin');
  });

  it('keeps the login route behind the Origin check (login CSRF)', async () => {
    const response = await f.app.inject({ method: 'POST', url: '/api/v1/session', headers: jsonHeaders({ origin: 'http://evil.example' }), payload: { name: 'alice', password: 'correct horse' } });
    assert.equal(response.statusCode, 403);
  });
});

describe('auth off', () => {
  it('answers the session route as local and refuses sign-in', async () => {
    const f = await createFixture();
    try {
      const me = await f.app.inject({ url: '/api/v1/session', headers: { host: HOST } });
      assert.deepEqual(me.json(), { name: 'local', role: 'user', authRequired: false });
      assert.equal((await login(f, 'alice', 'x')).statusCode, 404);
    } finally {
      await f.close();
    }
  });
});

describe('password hashes and auth options', () => {
  it('verifies scrypt hashes and refuses malformed or too costly ones', async () => {
    const stored = await hashPassword('pässword', COST);
    assert.match(stored, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    const parsed = parsePasswordHash(stored);
    assert.ok(parsed);
    assert.equal(await verifyPassword('pässword', parsed), true);
    assert.equal(await verifyPassword('pässword'.normalize('NFD'), parsed), true);
    assert.equal(await verifyPassword('password', parsed), false);
    const [, , , , salt, hash] = stored.split('$');
    for (const bad of [
      'plain',
      `bcrypt$1024$8$1$${salt}$${hash}`,
      `scrypt$1000$8$1$${salt}$${hash}`,
      `scrypt$${2 ** 24}$8$1$${salt}$${hash}`,
      `scrypt$1024$64$1$${salt}$${hash}`,
      `scrypt$1024$8$1$$${hash}`,
      `scrypt$1024$8$1$${salt}$short`,
      `scrypt$1024$8$1$${salt}$${hash}$extra`,
    ]) {
      assert.equal(parsePasswordHash(bad), null, bad);
    }
  });

  it('refuses a user named * (the admin scope), duplicate users, bad hashes and empty auth', async () => {
    const hash = await hashPassword('x', COST);
    const base = { host: '127.0.0.1', outputsDir: '/tmp' };
    const bad: AuthOptions[] = [
      { users: [{ name: '*', passwordHash: hash, role: 'user' }], tokens: [] },
      { users: [{ name: 'a', passwordHash: hash, role: 'user' }, { name: 'a', passwordHash: hash, role: 'admin' }], tokens: [] },
      { users: [{ name: 'a', passwordHash: 'md5$x', role: 'user' }], tokens: [] },
      { users: [], tokens: [{ name: 't', tokenHash: 'not-hex', owner: 'a' }] },
      { users: [], tokens: [{ name: 't', tokenHash: sha256('x'), owner: '*' }] },
      { users: [], tokens: [] },
    ];
    for (const auth of bad) assert.throws(() => resolveServerOptions({ ...base, auth }), ServerConfigError);
    for (const host of ['http://evil.example', 'evil.example/x', 'evil.example:port']) {
      assert.throws(() => resolveServerOptions({ ...base, auth: null, allowedHosts: [host] }), ServerConfigError, host);
    }
    // Without a port: what browsers send for the scheme's default port (a TLS proxy on 443).
    assert.deepEqual(resolveServerOptions({ ...base, auth: null, allowedHosts: ['Studio.example.com'] }).allowedHosts, ['studio.example.com']);
    assert.throws(() => resolveServerOptions({ ...base, auth: null, rateLimit: { readsPerMinute: 0 } }), ServerConfigError);
  });
});
