/**
 * `fooocus users` and `fooocus tokens` edit the config file (hashes only, owner-only permissions, refused when
 * locked), and `fooocus serve` then really authenticates with them: a user signs in with the password and sees
 * only their own jobs, an admin sees everyone's, a created token works as a Bearer token.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePasswordHash, verifyPassword } from '../../src/server/auth/password-hash.ts';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

function fooocus(cwd: string, args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, input, encoding: 'utf8', env: { ...process.env, HOME: cwd, FOOOCUS_CONFIG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface ConfigJson {
  server: { auth: { users: { name: string; role: string; passwordHash: string }[]; tokens: { name: string; owner: string; sha256: string }[] } };
}

describe('fooocus users and tokens', { timeout: 300_000 }, () => {
  let dir: string;
  const file = (): string => path.join(dir, 'fooocus.config.json');
  const config = async (): Promise<ConfigJson> => JSON.parse(await readFile(file(), 'utf8')) as ConfigJson;
  let bobToken = '';

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-users-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('users add stores a scrypt hash of the password read from stdin, in a 0600 file', async () => {
    const added = fooocus(dir, ['users', 'add', 'alice', '--admin'], 'correct horse battery staple\n');
    assert.equal(added.code, 0, added.err);
    const [alice] = (await config()).server.auth.users;
    assert.equal(alice?.name, 'alice');
    assert.equal(alice?.role, 'admin');
    assert.ok(await verifyPassword('correct horse battery staple', parsePasswordHash(alice!.passwordHash)!));
    assert.ok(!(await readFile(file(), 'utf8')).includes('correct horse'), 'the password itself is not stored');
    assert.equal((await stat(file())).mode & 0o777, 0o600);
    assert.equal(fooocus(dir, ['users', 'add', 'bob'], 'another long password\n').code, 0);
  });

  test('refusals: short password, existing user, bad name, token for an unknown owner; nothing is written', async () => {
    const before = await readFile(file(), 'utf8');
    const cases: [string[], string, RegExp][] = [
      [['users', 'add', 'carol'], 'short\n', /at least 12 characters/],
      [['users', 'add', 'alice'], 'yet another password\n', /"alice" exists already/],
      [['users', 'add', '../root'], 'yet another password\n', /user name "\.\.\/root" must be/],
      [['tokens', 'create', 'ci', '--owner', 'mallory'], '', /--owner "mallory" is not a user/],
      [['tokens', 'revoke', 'nope'], '', /no token "nope"/],
      [['users', 'remove', 'nobody'], '', /no user "nobody"/],
    ];
    for (const [args, input, message] of cases) {
      const r = fooocus(dir, args, input);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message);
    }
    assert.equal(await readFile(file(), 'utf8'), before);
  });

  test('tokens create prints the token once and stores only its SHA-256; list shows names, never hashes', async () => {
    const created = fooocus(dir, ['tokens', 'create', 'bob-script', '--owner', 'bob']);
    assert.equal(created.code, 0, created.err);
    bobToken = created.out.trim();
    assert.match(bobToken, /^fts_[A-Za-z0-9_-]{43}$/);
    const [entry] = (await config()).server.auth.tokens;
    assert.deepEqual(entry, { name: 'bob-script', owner: 'bob', sha256: createHash('sha256').update(bobToken).digest('hex') });
    assert.ok(!(await readFile(file(), 'utf8')).includes(bobToken));
    const users = fooocus(dir, ['users', 'list']);
    assert.match(users.out, /^alice\tadmin\t0 token\(s\)$/m);
    assert.match(users.out, /^bob\tuser\t1 token\(s\)$/m);
    assert.ok(!users.out.includes('scrypt$'));
    assert.match(fooocus(dir, ['tokens', 'list']).out, /^bob-script\tbob$/m);
  });

  test('the server signs users in with these passwords and tokens; each sees only their own jobs, the admin all', async () => {
    const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--port', '0'], { cwd: dir, env: { ...process.env, HOME: dir, FOOOCUS_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let output = '';
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 120_000);
        child.stdout.on('data', (d: Buffer) => {
          output += d.toString();
          const match = /running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
          if (match !== null) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      const host = new URL(url).host;
      const anonymous = await fetch(`${url}/api/v1/history`, { headers: { host } });
      assert.equal(anonymous.status, 401, 'with users configured, the API needs sign-in');

      const bob = { host, authorization: `Bearer ${bobToken}` };
      const submit = await fetch(`${url}/api/v1/generate`, { method: 'POST', headers: { ...bob, origin: url, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'bob only', width: 64, height: 64, steps: 1 }) });
      assert.equal(submit.status, 202, await submit.clone().text());
      const { id } = (await submit.json()) as { id: string };

      const signIn = async (name: string, password: string): Promise<Response> =>
        fetch(`${url}/api/v1/session`, { method: 'POST', headers: { host, origin: url, 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
      assert.equal((await signIn('alice', 'wrong password here')).status, 401);
      const alice = await signIn('alice', 'correct horse battery staple');
      assert.equal(alice.status, 200, await alice.clone().text());
      const cookie = alice.headers.get('set-cookie') ?? '';
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Strict/i);
      const aliceHeaders = { host, cookie: cookie.split(';')[0]! };
      assert.equal((await fetch(`${url}/api/v1/jobs/${id}`, { headers: aliceHeaders })).status, 200, 'the admin sees bob’s job');

      const bobSession = await signIn('bob', 'another long password');
      const bobCookie = { host, cookie: (bobSession.headers.get('set-cookie') ?? '').split(';')[0]! };
      const bobHistory = (await (await fetch(`${url}/api/v1/history`, { headers: bobCookie })).json()) as { items: { id: string }[] };
      assert.deepEqual(bobHistory.items.map((j) => j.id), [id]);
      fooocus(dir, ['users', 'add', 'carol'], 'carols long password\n');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  test('removing a user revokes their tokens; a locked config is never edited', async () => {
    const removed = fooocus(dir, ['users', 'remove', 'bob']);
    assert.equal(removed.code, 0, removed.err);
    assert.match(removed.out, /revoked their tokens \(bob-script\)/);
    assert.deepEqual((await config()).server.auth.tokens, []);
    assert.equal(fooocus(dir, ['config', 'lock']).code, 0);
    const before = await readFile(file(), 'utf8');
    const locked = fooocus(dir, ['users', 'add', 'dave'], 'daves long password\n');
    assert.equal(locked.code, 2);
    assert.match(locked.err, /is locked .*fooocus config lock/);
    assert.equal(await readFile(file(), 'utf8'), before);
  });
});
