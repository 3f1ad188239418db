/**
 * The configuration reaches the server: users and tokens written by the credential store (as `fooocus users` and
 * `fooocus tokens` write them), quotas, rate limits, Host names and the Secure cookie flag, loaded from a real
 * config file and turned into server options by buildServerSettings, exactly as `fooocus serve` does.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addUser, createToken } from '../../src/app/auth/credential-store.ts';
import type { AppConfig } from '../../src/app/config/config-schema.ts';
import { loadConfig } from '../../src/app/config/load-config.ts';
import { buildServerLogger, buildServerSettings } from '../../src/cli/server-settings.ts';
import { createTempDir, writeConfig } from '../app/config/config-fixture.ts';
import { createFixture, HOST, jsonHeaders, type Fixture } from '../server/server-fixture.ts';

async function loadFrom(content: unknown, setUp?: (file: string) => Promise<void>): Promise<AppConfig> {
  const cwd = createTempDir('settings');
  const file = writeConfig(cwd, content);
  await setUp?.(file);
  return (await loadConfig({ cwd, env: {} })).config;
}

function cookieOf(response: { headers: Record<string, unknown> }): string {
  return String(response.headers['set-cookie']).split(';', 1)[0] ?? '';
}

describe('the server log of fooocus serve', () => {
  it('holds every 5xx with its cause, and no refusals', async () => {
    const lines: string[] = [];
    const f = await createFixture({ logger: buildServerLogger((line) => void lines.push(line)) });
    try {
      f.studio.failWith = new Error('the disk is on fire');
      assert.equal((await f.app.inject({ url: '/api/v1/models', headers: { host: HOST } })).statusCode, 500);
      f.studio.failWith = null;
      assert.equal((await f.app.inject({ url: '/api/v1/nope', headers: { host: HOST } })).statusCode, 404);
    } finally {
      await f.close();
    }
    assert.equal(lines.length, 1, lines.join(''));
    assert.match(lines[0]!, /request failed/);
    assert.match(lines[0]!, /the disk is on fire/);
  });
});

describe('config to server: users and tokens', () => {
  let f: Fixture;
  let carolToken = '';
  before(async () => {
    const config = await loadFrom({}, async (file) => {
      await addUser(file, { name: 'root', role: 'admin', password: 'admin password 1' });
      await addUser(file, { name: 'bob', role: 'user', password: 'bobs password 1' });
      await addUser(file, { name: 'carol', role: 'user', password: 'carols password 1' });
      carolToken = await createToken(file, { name: 'carol-ci', owner: 'carol' });
    });
    f = await createFixture(buildServerSettings(config));
  });
  after(() => f.close());

  const signIn = (name: string, password: string) =>
    f.app.inject({ method: 'POST', url: '/api/v1/session', headers: jsonHeaders(), payload: { name, password } });
  const submit = (headers: Record<string, string>, prompt: string) =>
    f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: { ...jsonHeaders(), ...headers }, payload: { prompt } });
  const historyIds = async (headers: Record<string, string>): Promise<string[]> =>
    ((await f.app.inject({ url: '/api/v1/history', headers: { host: HOST, ...headers } })).json() as { items: { id: string }[] }).items.map((j) => j.id).sort();

  it('signs a configured user in with the password; a wrong one and no credentials are refused', async () => {
    assert.equal((await signIn('bob', 'bobs password 2')).statusCode, 401);
    assert.equal((await f.app.inject({ url: '/api/v1/history', headers: { host: HOST } })).statusCode, 401);
    const bob = await signIn('bob', 'bobs password 1');
    assert.equal(bob.statusCode, 200, bob.body);
    assert.deepEqual(bob.json(), { name: 'bob', role: 'user', authRequired: true });
    assert.match(String(bob.headers['set-cookie']), /HttpOnly/);
  });

  it('shows each user only their own jobs and the admin everyone’s; a created token acts as its owner', async () => {
    const bob = { cookie: cookieOf(await signIn('bob', 'bobs password 1')) };
    const carol = { authorization: `Bearer ${carolToken}` };
    const root = { cookie: cookieOf(await signIn('root', 'admin password 1')) };
    const bobJob = (await submit(bob, 'bob job')).json().id as string;
    const carolJob = await submit(carol, 'carol job');
    assert.equal(carolJob.statusCode, 202, carolJob.body);
    const carolId = carolJob.json().id as string;
    assert.equal(f.studio.jobs.get(carolId)?.owner, 'carol');

    assert.deepEqual(await historyIds(bob), [bobJob]);
    assert.deepEqual(await historyIds(carol), [carolId]);
    assert.deepEqual(await historyIds(root), [bobJob, carolId].sort());
    assert.equal((await f.app.inject({ url: `/api/v1/jobs/${carolId}`, headers: { host: HOST, ...bob } })).statusCode, 404);
    assert.equal((await f.app.inject({ url: `/api/v1/jobs/${carolId}`, headers: { host: HOST, ...root } })).statusCode, 200);
    assert.equal((await f.app.inject({ url: '/api/v1/history', headers: { host: HOST, authorization: `Bearer ${carolToken}x` } })).statusCode, 401);
  });
});

describe('config to server: quotas, limits, hosts, cookies', () => {
  it('a lowered quota is the server’s quota: 400 naming the field and the limit', async () => {
    const config = await loadFrom({ server: { quotas: { maxSteps: 4, maxImages: 2, maxPromptChars: 10 } } });
    const f = await createFixture(buildServerSettings(config));
    try {
      const cases: [Record<string, unknown>, string, number][] = [
        [{ prompt: 'a', steps: 5 }, 'steps', 4],
        [{ prompt: 'a', imageCount: 3 }, 'imageCount', 2],
        [{ prompt: 'x'.repeat(11) }, 'prompt', 10],
      ];
      for (const [payload, field, limit] of cases) {
        const response = await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload });
        assert.equal(response.statusCode, 400, response.body);
        assert.equal(response.json().field, field);
        assert.equal(response.json().limit, limit);
      }
      assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a', steps: 4 } })).statusCode, 202);
    } finally {
      await f.close();
    }
  });

  it('the read and submit rate limits come from the config', async () => {
    const config = await loadFrom({ server: { rateLimit: { readsPerMinute: 3, submitsPerMinute: 1 } } });
    const f = await createFixture(buildServerSettings(config));
    try {
      const reads = [];
      for (let i = 0; i < 4; i++) reads.push((await f.app.inject({ url: '/api/v1/history', headers: { host: HOST } })).statusCode);
      assert.deepEqual(reads, [200, 200, 200, 429]);
      const submits = [];
      for (let i = 0; i < 2; i++) submits.push((await f.app.inject({ method: 'POST', url: '/api/v1/generate', headers: jsonHeaders(), payload: { prompt: 'a' } })).statusCode);
      assert.deepEqual(submits, [202, 429]);
    } finally {
      await f.close();
    }
  });

  it('server.allowedHosts replaces the loopback names; secureCookies marks the cookie Secure', async () => {
    const config = await loadFrom({ server: { allowedHosts: ['studio.example.com'], secureCookies: true } }, async (file) => {
      await addUser(file, { name: 'ann', role: 'user', password: 'anns password 12' });
    });
    const f = await createFixture(buildServerSettings(config));
    try {
      const behindProxy = { host: 'studio.example.com', origin: 'https://studio.example.com', 'content-type': 'application/json' };
      const signIn = await f.app.inject({ method: 'POST', url: '/api/v1/session', headers: behindProxy, payload: { name: 'ann', password: 'anns password 12' } });
      assert.equal(signIn.statusCode, 200, signIn.body);
      assert.match(String(signIn.headers['set-cookie']), /; Secure/);
      assert.equal((await f.app.inject({ url: '/healthz', headers: { host: HOST } })).statusCode, 421, 'the loopback name is no longer answered');
      const crossSite = { ...behindProxy, origin: 'https://evil.example' };
      assert.equal((await f.app.inject({ method: 'POST', url: '/api/v1/session', headers: crossSite, payload: { name: 'ann', password: 'anns password 12' } })).statusCode, 403);
    } finally {
      await f.close();
    }
  });

  it('no users and no tokens is no auth; the defaults are the server’s defaults', async () => {
    const settings = buildServerSettings(await loadFrom({}));
    assert.equal(settings.auth, null);
    assert.equal(settings.allowedHosts, undefined);
    assert.equal(settings.secureCookies, false);
  });
});
