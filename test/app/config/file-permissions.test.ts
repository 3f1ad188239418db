import { strict as assert } from 'node:assert';
import { chmodSync, chownSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { InsecurePermissionsError } from '../../../src/app/config/config-errors.ts';
import { checkConfiguredDirectories, checkSecurePermissions, quoteForShell } from '../../../src/app/config/file-permissions.ts';
import { loadConfig } from '../../../src/app/config/load-config.ts';
import { createTempDir, writeConfig } from './config-fixture.ts';

/** A uid that owns nothing here, so files we create count as "owned by another user" when we pretend to be it. */
const STRANGER_UID = 4242;

async function rejectsInsecure(promise: Promise<unknown>, file: string, mode: number, hint: string | RegExp): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof InsecurePermissionsError, `expected InsecurePermissionsError, got ${String(err)}`);
    assert.equal(err.path, file);
    assert.equal(err.mode, mode);
    if (typeof hint === 'string') assert.ok(err.message.includes(hint), err.message);
    else assert.match(err.message, hint);
    return true;
  });
}

describe('checkSecurePermissions', () => {
  it('refuses a world-writable config file with the chmod that fixes it, and loadConfig refuses it too', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000 } });
    chmodSync(file, 0o666);
    const hint = `writable by group and others (mode 0666), so another account could change what Fooocus loads; fix with: chmod go-w ${file}`;
    await rejectsInsecure(checkSecurePermissions(file, { kind: 'config' }), file, 0o666, hint);
    await rejectsInsecure(loadConfig({ cwd, env: {} }), file, 0o666, `fix with: chmod go-w ${file}`);
    assert.equal(statSync(file).mode & 0o777, 0o666, 'nothing was changed behind the user');
  });

  it('refuses a group-writable models directory', async () => {
    const models = path.join(createTempDir(), 'models');
    mkdirSync(models);
    chmodSync(models, 0o775);
    await rejectsInsecure(checkSecurePermissions(models, { kind: 'models' }), models, 0o775, `models directory is writable by group (mode 0775)`);
    chmodSync(models, 0o755);
    assert.equal(await checkSecurePermissions(models, { kind: 'models' }), null);
  });

  it('refuses a group-writable outputs directory; a missing directory is fine (it will be created with your umask)', async () => {
    const outputs = path.join(createTempDir(), 'outputs');
    assert.equal(await checkSecurePermissions(outputs, { kind: 'outputs' }), null);
    mkdirSync(outputs);
    chmodSync(outputs, 0o775);
    await rejectsInsecure(checkSecurePermissions(outputs, { kind: 'outputs' }), outputs, 0o775, 'outputs directory is writable by group');
    chmodSync(outputs, 0o702);
    await rejectsInsecure(checkSecurePermissions(outputs, { kind: 'outputs' }), outputs, 0o702, 'writable by others');
  });

  it('refuses a file owned by another non-root user, with the chown that fixes it', async () => {
    const file = writeConfig(createTempDir(), {});
    const owner = statSync(file).uid;
    if (owner === 0) chownSync(file, 65534, 65534); // running as root: give it to nobody, and stay root
    const me = owner === 0 ? 0 : STRANGER_UID;
    await rejectsInsecure(checkSecurePermissions(file, { kind: 'config', uid: me }), file, 0o644, `sudo chown ${me} ${file}`);
  });

  it('accepts root-owned files', async () => {
    const file = writeConfig(createTempDir(), {});
    if (statSync(file).uid !== 0) return; // only root can make one; the rule is also covered by the refusal above
    assert.equal(await checkSecurePermissions(file, { kind: 'config', uid: STRANGER_UID }), null);
  });

  it('turns the refusal into a loud warning when insecure permissions are allowed', async () => {
    const models = path.join(createTempDir(), 'models');
    mkdirSync(models);
    chmodSync(models, 0o777);
    const warning = await checkSecurePermissions(models, { kind: 'models', allowInsecure: true });
    assert.match(warning ?? '', /^WARNING: .*writable by group and others.*chmod go-w .*explicitly allowed/);
  });

  it('checks the configured directories; security.allowInsecurePermissions in the file turns refusal into a warning', async () => {
    const cwd = createTempDir();
    const models = path.join(cwd, 'models');
    mkdirSync(models);
    chmodSync(models, 0o770);
    writeConfig(cwd, { paths: { outputs: 'not-yet' } });
    const strict = await loadConfig({ cwd, env: {} });
    await rejectsInsecure(checkConfiguredDirectories(strict.config), models, 0o770, `chmod go-w ${models}`);
    writeConfig(cwd, { paths: { outputs: 'not-yet' }, security: { allowInsecurePermissions: true } });
    const relaxed = await loadConfig({ cwd, env: {} });
    const warnings = await checkConfiguredDirectories(relaxed.config);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^WARNING: .*models directory is writable by group \(mode 0770\)/);
  });

  it('lets the --insecure-permissions flag excuse the config file, but not the file itself', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { security: { allowInsecurePermissions: true } });
    chmodSync(file, 0o664);
    await rejectsInsecure(loadConfig({ cwd, env: {} }), file, 0o664, 'chmod go-w');
    const loaded = await loadConfig({ cwd, env: {}, flags: { 'insecure-permissions': true } });
    assert.equal(loaded.warnings.length, 1);
    assert.match(loaded.warnings[0]!, /^WARNING: .*fooocus\.config\.json: config file is writable by group/);
    assert.equal(loaded.sources['security.allowInsecurePermissions'], 'flag:--insecure-permissions');
    const viaEnv = await loadConfig({ cwd, env: { FOOOCUS_SECURITY_ALLOW_INSECURE_PERMISSIONS: 'true' } });
    assert.equal(viaEnv.warnings.length, 1);
  });

  it('skips the check on Windows with a note', async () => {
    const file = writeConfig(createTempDir(), {});
    chmodSync(file, 0o666);
    const note = await checkSecurePermissions(file, { kind: 'config', platform: 'win32' });
    assert.match(note ?? '', /skipped on Windows/);
  });

  it('quotes paths in the printed fix so they can be pasted into a shell', () => {
    assert.equal(quoteForShell('/srv/fooocus/models'), '/srv/fooocus/models');
    assert.equal(quoteForShell("/home/o'neil/my models"), `'/home/o'\\''neil/my models'`);
  });
});
