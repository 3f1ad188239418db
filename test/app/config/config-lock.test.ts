import { strict as assert } from 'node:assert';
import { appendFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, ConfigLockMismatchError } from '../../../src/app/config/config-errors.ts';
import { lockConfig, verifyConfigLock } from '../../../src/app/config/config-lock.ts';
import { loadConfig } from '../../../src/app/config/load-config.ts';
import { createTempDir, writeConfig } from './config-fixture.ts';

function isLockError(problem: ConfigLockMismatchError['problem'], text: string): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof ConfigLockMismatchError, `expected ConfigLockMismatchError, got ${String(err)}`);
    assert.equal(err.problem, problem);
    assert.ok(err.message.includes(text), err.message);
    return true;
  };
}

describe('config lock', () => {
  it('writes a sha256sum line with mode 0600 and leaves no temp file; an unchanged config passes', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000 } });
    const state = await lockConfig(file);
    const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
    assert.equal(state.sha256, digest);
    assert.equal(state.previous, null);
    assert.equal(readFileSync(`${file}.lock`, 'utf8'), `${digest}  fooocus.config.json\n`);
    assert.equal(statSync(`${file}.lock`).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(cwd).sort(), ['fooocus.config.json', 'fooocus.config.json.lock']);
    assert.equal(await verifyConfigLock(file), 'locked');
    const loaded = await loadConfig({ cwd, env: {} });
    assert.equal(loaded.lock, 'locked');
    assert.equal(loaded.config.server.port, 8000);
  });

  it('refuses a config that changed after it was locked, and tells how to accept the change', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000 } });
    await lockConfig(file);
    writeFileSync(file, JSON.stringify({ server: { port: 8000, host: '0.0.0.0' } }));
    const hint = 'config file changed since it was locked';
    await assert.rejects(verifyConfigLock(file), isLockError('changed', hint));
    await assert.rejects(loadConfig({ cwd, env: {} }), isLockError('changed', 'run `npm run fooocus -- config lock` again'));
    appendFileSync(file, ' ');
    await assert.rejects(loadConfig({ cwd, env: {} }), isLockError('changed', hint), 'even a whitespace change');
    const relocked = await lockConfig(file);
    assert.notEqual(relocked.previous, relocked.sha256);
    assert.equal(await verifyConfigLock(file), 'locked');
  });

  it('refuses a lock whose config is gone, rather than falling back to defaults', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, {});
    await lockConfig(file);
    rmSync(file);
    await assert.rejects(verifyConfigLock(file), isLockError('config-missing', 'lock file exists but its config'));
    await assert.rejects(loadConfig({ cwd, env: {} }), isLockError('config-missing', 'restore the config'));
    await assert.rejects(loadConfig({ cwd, file, env: {} }), isLockError('config-missing', 'restore the config'));
  });

  it('refuses a malformed lock or one naming another file', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, {});
    writeFileSync(`${file}.lock`, 'not a hash\n', { mode: 0o600 });
    await assert.rejects(verifyConfigLock(file), isLockError('invalid-lock', 'expected one line'));
    writeFileSync(`${file}.lock`, `${'0'.repeat(64)}  other.json\n`);
    await assert.rejects(loadConfig({ cwd, env: {} }), isLockError('invalid-lock', 'it locks "other.json"'));
  });

  it('does not lock an invalid config, and writes nothing when it refuses', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { prot: 1 } });
    await assert.rejects(lockConfig(file), (err: unknown) => err instanceof ConfigError && err.key === 'server.prot');
    assert.equal(existsSync(`${file}.lock`), false);
    assert.deepEqual(readdirSync(cwd), [path.basename(file)]);
  });

  it('reports an unlocked config as such', async () => {
    const file = writeConfig(createTempDir(), {});
    assert.equal(await verifyConfigLock(file), 'unlocked');
  });
});
