/**
 * `fooocus users` and `fooocus tokens` edit the config file (hashes only, owner-only permissions, refused when
 * locked or unsafe, nothing written on any refusal), and `fooocus serve` then really authenticates with them: a
 * user signs in with the password and sees only their own jobs, an admin sees everyone's, a created token works
 * as a Bearer token, and the config's quotas are the server's.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parsePasswordHash, verifyPassword } from '../../src/app/auth/password-hash.ts';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

function fooocus(cwd: string, args: string[], input = ''): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd, input, encoding: 'utf8', env: { ...process.env, HOME: cwd, FOOOCUS_CONFIG: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface ConfigJson {
  server: {
    auth: { users: { name: string; role: string; passwordHash: string }[]; tokens: { name: string; owner: string; sha256: string }[] };
    quotas?: Record<string, number>;
  };
}

async function passwordOf(file: string, name: string): Promise<ReturnType<typeof parsePasswordHash>> {
  const config = JSON.parse(await readFile(file, 'utf8')) as ConfigJson;
  return parsePasswordHash(config.server.auth.users.find((u) => u.name === name)!.passwordHash);
}

/** The directory's entries: an edit leaves no temporary file behind, whether it succeeded or was refused. */
async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
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
    assert.equal(fooocus(dir, ['users', 'add', 'bob'], 'another long password\r\nignored second line\n').code, 0);
    assert.ok(await verifyPassword('another long password', (await passwordOf(file(), 'bob'))!), 'CRLF stripped, first line only');
    assert.deepEqual(await listing(dir), ['fooocus.config.json']);
  });

  test('refusals name the problem and write nothing: short or missing password, a password flag, taken or bad names, unknown owners', async () => {
    const before = await readFile(file(), 'utf8');
    const cases: [string[], string, RegExp][] = [
      [['users', 'add', 'carol'], 'short\n', /at least 12 characters \(it has 5\)/],
      [['users', 'add', 'carol'], '', /no password on standard input/],
      [['users', 'add', 'carol', '--password', 'a long password here'], '', /Unknown option '--password'/],
      [['users', 'add', 'alice'], 'yet another password\n', /"alice" exists already; `npm run fooocus -- users password alice`/],
      [['users', 'add', '../root'], 'yet another password\n', /user name "\.\.\/root" must be/],
      [['users', 'add'], '', /the user name is missing/],
      [['users', 'password', 'nobody'], 'yet another password\n', /no user "nobody"/],
      [['users', 'promote', 'bob'], '', /unknown action "promote"/],
      [['tokens', 'create', 'ci', '--owner', 'mallory'], '', /--owner "mallory" is not a user/],
      [['tokens', 'create', 'ci'], '', /--owner <user> is missing/],
      [['tokens', 'create', 'ci', '--owner', 'bob', '--admin'], '', /a token has its owner’s role/],
      [['tokens', 'revoke', 'nope'], '', /no token "nope"/],
      [['users', 'remove', 'nobody'], '', /no user "nobody"/],
    ];
    for (const [args, input, message] of cases) {
      const r = fooocus(dir, args, input);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, message, args.join(' '));
      assert.ok(!r.err.includes('a long password here'), 'a password given as a flag is not echoed');
    }
    assert.equal(await readFile(file(), 'utf8'), before);
    assert.deepEqual(await listing(dir), ['fooocus.config.json']);
  });

  test('tokens create prints the token once and stores only its SHA-256; list shows names, never hashes', async () => {
    const created = fooocus(dir, ['tokens', 'create', 'bob-script', '--owner', 'bob']);
    assert.equal(created.code, 0, created.err);
    bobToken = created.out.trim();
    assert.match(bobToken, /^fts_[A-Za-z0-9_-]{43}$/);
    const [entry] = (await config()).server.auth.tokens;
    assert.deepEqual(entry, { name: 'bob-script', owner: 'bob', sha256: createHash('sha256').update(bobToken).digest('hex') });
    assert.ok(!(await readFile(file(), 'utf8')).includes(bobToken));
    assert.ok(!created.err.includes(bobToken), 'the token goes to stdout only');
    assert.equal(fooocus(dir, ['tokens', 'create', 'bob-script', '--owner', 'alice']).code, 2, 'names are unique');
    const users = fooocus(dir, ['users', 'list']);
    assert.match(users.out, /^alice\tadmin\t0 token\(s\)$/m);
    assert.match(users.out, /^bob\tuser\t1 token\(s\)$/m);
    assert.ok(!users.out.includes('scrypt$'));
    const tokens = fooocus(dir, ['tokens', 'list']);
    assert.match(tokens.out, /^bob-script\tbob$/m);
    assert.ok(!tokens.out.includes(entry!.sha256));
  });

  test('users password sets a new hash and keeps the role and the tokens', async () => {
    const changed = fooocus(dir, ['users', 'password', 'bob'], 'bobs new long password\n');
    assert.equal(changed.code, 0, changed.err);
    const hash = (await passwordOf(file(), 'bob'))!;
    assert.ok(await verifyPassword('bobs new long password', hash));
    assert.ok(!(await verifyPassword('another long password', hash)));
    assert.equal((await config()).server.auth.tokens.length, 1);
  });

  test('the server signs users in with these passwords and tokens; each sees only their own jobs, the admin all; config quotas apply', async () => {
    const edited = await config();
    edited.server.quotas = { maxSteps: 4 };
    await writeFile(file(), JSON.stringify(edited, null, 2));
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

      const generate = (headers: Record<string, string>, body: object): Promise<Response> =>
        fetch(`${url}/api/v1/generate`, { method: 'POST', headers: { host, origin: url, 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
      const bob = { authorization: `Bearer ${bobToken}` };
      const overQuota = await generate(bob, { prompt: 'too many steps', width: 64, height: 64, steps: 5 });
      assert.equal(overQuota.status, 400);
      assert.equal(((await overQuota.json()) as { field: string }).field, 'steps');
      const submit = await generate(bob, { prompt: 'bob only', width: 64, height: 64, steps: 1 });
      assert.equal(submit.status, 202, await submit.clone().text());
      const { id } = (await submit.json()) as { id: string };

      const signIn = async (name: string, password: string): Promise<Response> =>
        fetch(`${url}/api/v1/session`, { method: 'POST', headers: { host, origin: url, 'content-type': 'application/json' }, body: JSON.stringify({ name, password }) });
      assert.equal((await signIn('alice', 'wrong password here')).status, 401);
      assert.equal((await signIn('bob', 'another long password')).status, 401, 'the old password no longer works');
      const alice = await signIn('alice', 'correct horse battery staple');
      assert.equal(alice.status, 200, await alice.clone().text());
      const cookie = alice.headers.get('set-cookie') ?? '';
      assert.match(cookie, /HttpOnly/i);
      assert.match(cookie, /SameSite=Strict/i);
      const aliceHeaders = { cookie: cookie.split(';')[0]! };
      const aliceJob = ((await (await generate(aliceHeaders, { prompt: 'alice only', width: 64, height: 64, steps: 1 })).json()) as { id: string }).id;
      assert.equal((await fetch(`${url}/api/v1/jobs/${id}`, { headers: { host, ...aliceHeaders } })).status, 200, 'the admin sees bob’s job');

      const bobSession = await signIn('bob', 'bobs new long password');
      assert.equal(bobSession.status, 200);
      const bobCookie = { host, cookie: (bobSession.headers.get('set-cookie') ?? '').split(';')[0]! };
      const history = async (headers: Record<string, string>): Promise<string[]> =>
        ((await (await fetch(`${url}/api/v1/history`, { headers })).json()) as { items: { id: string }[] }).items.map((j) => j.id).sort();
      assert.deepEqual(await history(bobCookie), [id]);
      assert.deepEqual(await history({ host, ...aliceHeaders }), [id, aliceJob].sort());
      assert.equal((await fetch(`${url}/api/v1/jobs/${aliceJob}`, { headers: bobCookie })).status, 404, 'bob does not see the admin’s job');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });

  test('removing a user revokes their tokens; a locked config is never edited and says how to change it', async () => {
    const removed = fooocus(dir, ['users', 'remove', 'bob']);
    assert.equal(removed.code, 0, removed.err);
    assert.match(removed.out, /revoked their tokens \(bob-script\)/);
    assert.deepEqual((await config()).server.auth.tokens, []);
    assert.equal(fooocus(dir, ['config', 'lock']).code, 0);
    const before = await readFile(file(), 'utf8');
    const entries = await listing(dir);
    for (const [args, input] of [[['users', 'add', 'dave'], 'daves long password\n'], [['tokens', 'create', 'ci', '--owner', 'alice'], ''], [['users', 'remove', 'alice'], '']] as const) {
      const locked = fooocus(dir, [...args], input);
      assert.equal(locked.code, 2, args.join(' '));
      assert.match(locked.err, /is locked .*delete the lock, run this command again, review the file .*`npm run fooocus -- config lock`/);
      assert.equal(locked.out, '', 'no token printed');
    }
    assert.equal(await readFile(file(), 'utf8'), before);
    assert.deepEqual(await listing(dir), entries);
  });
});

describe('fooocus users on other configs', { timeout: 120_000 }, () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-users-edge-'));
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  test('adds the first user to a config that listens beyond loopback (which does not load without one)', async () => {
    const cwd = path.join(dir, 'network');
    await mkdir(cwd);
    const file = path.join(cwd, 'fooocus.config.json');
    await writeFile(file, JSON.stringify({ server: { host: '0.0.0.0' } }), { mode: 0o600 });
    assert.match(fooocus(cwd, ['config', 'show']).err, /no users and no tokens/);
    const added = fooocus(cwd, ['users', 'add', 'admin', '--admin'], 'a long admin password\n');
    assert.equal(added.code, 0, added.err);
    assert.equal(fooocus(cwd, ['config', 'show']).code, 0);
    const removed = fooocus(cwd, ['users', 'remove', 'admin']);
    assert.equal(removed.code, 0, 'removing access is always possible; serve then refuses to start');
    assert.match(fooocus(cwd, ['config', 'show']).err, /no users and no tokens/);
  });

  test('edits a symlinked config in place, keeping the link; refuses a group-writable config; honours --config', async () => {
    const real = path.join(dir, 'real');
    const linked = path.join(dir, 'linked');
    await mkdir(real);
    await mkdir(linked);
    await writeFile(path.join(real, 'fooocus.config.json'), '{}', { mode: 0o600 });
    await symlink(path.join(real, 'fooocus.config.json'), path.join(linked, 'fooocus.config.json'));
    assert.equal(fooocus(linked, ['users', 'add', 'ann'], 'anns long password\n').code, 0);
    assert.ok((await lstat(path.join(linked, 'fooocus.config.json'))).isSymbolicLink());
    assert.equal(await readlink(path.join(linked, 'fooocus.config.json')), path.join(real, 'fooocus.config.json'));
    assert.match(await readFile(path.join(real, 'fooocus.config.json'), 'utf8'), /"ann"/);

    const open = path.join(dir, 'open.json');
    await writeFile(open, '{}');
    await chmod(open, 0o664);
    const refused = fooocus(dir, ['users', 'add', 'ann', '--config', open], 'anns long password\n');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /writable by group/);
    assert.equal(await readFile(open, 'utf8'), '{}');
    assert.equal((await stat(open)).mode & 0o777, 0o664);
  });
});
