import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { main } from '../../../src/cli/cli.ts';
import { createContext } from '../../../src/cli/command.ts';
import { runConfig } from '../../../src/cli/commands/config.ts';
import { createTempDir, TEST_TOKEN, TEST_USER, TOKEN_HASH, writeConfig } from './config-fixture.ts';

/** Runs `fooocus config ...` with an explicit environment and working directory. */
async function run(cwd: string, env: NodeJS.ProcessEnv, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  const ctx = createContext(argv, { stdout, stderr, signal: new AbortController().signal });
  const code = await runConfig(ctx, env, cwd);
  return { code, out, err };
}

describe('fooocus config', () => {
  it('show lists every key with its value and source, and redacts token hashes', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000, auth: { users: [TEST_USER], tokens: [TEST_TOKEN] } } });
    const r = await run(cwd, { FOOOCUS_PATHS_OUTPUTS: '/srv/out' }, 'show', '--host', '0.0.0.0');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^Config file: ${file} \\(not locked\\)$`, 'm'));
    assert.match(r.out, /^server\.port +8000 +file:.*fooocus\.config\.json$/m);
    assert.match(r.out, /^server\.host +0\.0\.0\.0 +flag:--host$/m);
    assert.match(r.out, /^paths\.outputs +\/srv\/out +env:FOOOCUS_PATHS_OUTPUTS$/m);
    assert.match(r.out, /^server\.rateLimit\.submitsPerMinute +20 +default$/m);
    assert.match(r.out, /^server\.auth\.tokens +ci -> alice +file:/m);
    assert.match(r.out, /^server\.auth\.users +alice \(admin\) +file:/m);
    assert.ok(!r.out.includes(TOKEN_HASH), 'token hash leaked');
    assert.ok(!r.out.includes(TEST_USER.passwordHash), 'password hash leaked');

    const json = await run(cwd, {}, 'show', '--json');
    assert.equal(json.code, 0, json.err);
    assert.ok(!json.out.includes(TOKEN_HASH), 'token hash leaked into JSON');
    assert.ok(!json.out.includes(TEST_USER.passwordHash), 'password hash leaked into JSON');
    const parsed = JSON.parse(json.out);
    assert.deepEqual(parsed.config.server.auth.tokens, [{ name: 'ci', owner: 'alice', sha256: '<redacted>' }]);
    assert.deepEqual(parsed.config.server.auth.users, [{ name: 'alice', role: 'admin', passwordHash: '<redacted>' }]);
    assert.equal(parsed.config.server.port, 8000);
    assert.equal(parsed.sources['server.port'], `file:${file}`);
    assert.equal(parsed.file, file);
  });

  it('exits 2 with one error line for a bad key, bad permissions or a changed lock', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { prot: 8000 } });
    const bad = await run(cwd, {}, 'show');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^error: [^\n]*server\.prot: unknown key[^\n]*\n$/);

    writeConfig(cwd, { server: { port: 8000 } });
    chmodSync(file, 0o666);
    const insecure = await run(cwd, {}, 'show');
    assert.equal(insecure.code, 2);
    assert.match(insecure.err, /^error: [^\n]*chmod go-w [^\n]*\n$/);

    chmodSync(file, 0o644);
    const env = await run(cwd, { FOOOCUS_SERVER_PORT: 'abc' }, 'show');
    assert.equal(env.code, 2);
    assert.match(env.err, /^error: FOOOCUS_SERVER_PORT \(server\.port\): expected integer[^\n]*\n$/);
  });

  it('lock records the hash, after which show reports it locked and a change is refused', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000 } });
    const locked = await run(cwd, {}, 'lock');
    assert.equal(locked.code, 0, locked.err);
    assert.match(locked.out, /^locked .*fooocus\.config\.json: SHA-256 [0-9a-f]{64} recorded in .*fooocus\.config\.json\.lock\n$/);
    assert.equal(statSync(`${file}.lock`).mode & 0o777, 0o600);
    assert.match((await run(cwd, {}, 'show')).out, /\(locked, hash matches\)/);

    writeConfig(cwd, { server: { port: 8001 } });
    const changed = await run(cwd, {}, 'show');
    assert.equal(changed.code, 2);
    assert.match(changed.err, /^error: [^\n]*changed since it was locked[^\n]*npm run fooocus -- config lock[^\n]*\n$/);
  });

  it('lock without a config file is a usage error and writes nothing', async () => {
    const cwd = createTempDir();
    await assert.rejects(run(cwd, {}, 'lock'), /no config file to lock/);
    assert.equal(existsSync(`${cwd}/fooocus.config.json.lock`), false);
  });

  it('is registered as a top-level command', async () => {
    const stdout = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    const code = await main(['config', '--help'], { stdout, stderr: new PassThrough(), signal: new AbortController().signal });
    assert.equal(code, 0);
    assert.match(out, /npm run fooocus -- config show/);
  });
});
