import { strict as assert } from 'node:assert';
import { readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { ConfigError } from '../../../src/app/config/config-errors.ts';
import { AppConfigSchema, createDefaultConfig, listConfigKeys } from '../../../src/app/config/config-schema.ts';
import { ENV_OVERRIDES, FLAG_OVERRIDES } from '../../../src/app/config/config-overrides.ts';
import { findDuplicateJsonKey } from '../../../src/app/config/duplicate-json-keys.ts';
import { loadConfig } from '../../../src/app/config/load-config.ts';
import { DEFAULT_QUOTAS, DEFAULT_RATE_LIMIT } from '../../../src/server/server-options.ts';
import { createTempDir, TEST_TOKEN, TEST_USER, TOKEN_HASH, writeConfig } from './config-fixture.ts';

/** Asserts a ConfigError whose message contains `text`, and returns it for further checks. */
async function rejectsConfig(promise: Promise<unknown>, text: string | RegExp): Promise<ConfigError> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof ConfigError, `expected ConfigError, got ${String(caught)}`);
  if (typeof text === 'string') assert.ok(caught.message.includes(text), `message ${JSON.stringify(caught.message)} lacks ${JSON.stringify(text)}`);
  else assert.match(caught.message, text);
  return caught;
}

describe('config schema', () => {
  it('every key has a description and a default, and the defaults are a valid configuration', () => {
    for (const { key, schema } of listConfigKeys()) {
      assert.equal(typeof schema.description, 'string', `${key} has no description`);
      assert.notEqual(schema.default, undefined, `${key} has no default`);
    }
    assert.ok(Value.Check(AppConfigSchema, createDefaultConfig()));
  });

  it('every env variable and flag names a real key', () => {
    const keys = new Set(listConfigKeys().map((k) => k.key));
    for (const spec of [...Object.values(ENV_OVERRIDES), ...Object.values(FLAG_OVERRIDES)]) assert.ok(keys.has(spec.key), spec.key);
  });
});

describe('findDuplicateJsonKey', () => {
  it('finds duplicates at any depth and is not fooled by braces, commas or quotes inside strings', () => {
    assert.equal(findDuplicateJsonKey('{"a": 1, "b": {"c": "}{,\\"c\\"", "d": [{"c": 1}, {"c": 2}]}}'), null);
    assert.equal(findDuplicateJsonKey('{"a": {"x": [1, {"k": 1, "k": 2}]}}'), 'a.x[1].k');
    assert.equal(findDuplicateJsonKey('{"pins": {"hf.co": [], "hf.co": []}}'), 'pins["hf.co"]');
    assert.equal(findDuplicateJsonKey('{"a": 1, "\\u0061": 2}'), 'a', 'escaped spellings of the same key');
  });
});

describe('loadConfig', () => {
  it('loads the defaults when there is no file, resolving paths against the working directory', async () => {
    const cwd = createTempDir();
    const loaded = await loadConfig({ cwd, env: {} });
    assert.equal(loaded.file, null);
    assert.equal(loaded.lock, 'no-file');
    assert.equal(loaded.config.server.host, '127.0.0.1');
    assert.equal(loaded.config.server.port, 7865);
    assert.equal(loaded.config.runtime.memory, 'auto');
    assert.deepEqual(loaded.config.server.auth.tokens, []);
    assert.equal(loaded.config.paths.models, path.join(cwd, 'models'));
    assert.equal(loaded.config.security.allowInsecurePermissions, false);
    assert.ok(loaded.config.downloads.allowedHosts.includes('huggingface.co'));
    assert.ok(Object.values(loaded.sources).every((s) => s === 'default'));
    assert.deepEqual(loaded.warnings, []);
  });

  it('reads fooocus.config.json from the working directory; relative paths resolve against the file', async () => {
    const cwd = createTempDir();
    const dir = createTempDir('elsewhere');
    const file = writeConfig(dir, {
      server: { port: 8080, auth: { users: [TEST_USER], tokens: [TEST_TOKEN] }, host: '0.0.0.0' },
      paths: { models: 'my-models' },
      runtime: { executionProvider: 'cuda', threads: 4, memory: 'per-phase' },
      downloads: { pins: { 'huggingface.co': ['sha256/' + 'A'.repeat(43) + '='] } },
      generation: { defaultModel: 'juggernaut.safetensors' },
    });
    const loaded = await loadConfig({ cwd, file, env: {} });
    assert.equal(loaded.file, file);
    assert.equal(loaded.config.server.port, 8080);
    assert.equal(loaded.config.server.host, '0.0.0.0');
    assert.equal(loaded.config.runtime.executionProvider, 'cuda');
    assert.equal(loaded.config.runtime.memory, 'per-phase');
    assert.equal(loaded.config.paths.models, path.join(dir, 'my-models'));
    assert.equal(loaded.config.paths.outputs, path.join(dir, 'outputs'), 'defaults sit next to the file');
    assert.equal(loaded.sources['server.port'], `file:${file}`);
    assert.equal(loaded.sources['server.rateLimit.submitsPerMinute'], 'default');

    const implicit = writeConfig(cwd, { server: { port: 9000 } });
    const found = await loadConfig({ cwd, env: {} });
    assert.equal(found.file, implicit);
    assert.equal(found.config.server.port, 9000);
  });

  it('refuses an unknown key, naming its path and the likely intended key', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { prot: 80 } });
    const err = await rejectsConfig(loadConfig({ cwd, env: {} }), 'server.prot: unknown key (did you mean "port"?)');
    assert.equal(err.key, 'server.prot');
    assert.equal(err.file, file);
  });

  it('refuses a wrong type, naming the key, what was expected and what was found', async () => {
    const cwd = createTempDir();
    writeConfig(cwd, { server: { port: '80' } });
    const err = await rejectsConfig(loadConfig({ cwd, env: {} }), 'server.port: expected integer from 1 to 65535, got "80"');
    assert.equal(err.key, 'server.port');
  });

  it('refuses unknown keys at any depth, and bad items inside arrays and records', async () => {
    const cases: [unknown, string][] = [
      [{ server: { rateLimit: { submitsPerMinute: 5, burst: 10 } } }, 'server.rateLimit.burst: unknown key'],
      [{ colour: 'blue' }, 'colour: unknown key'],
      [{ downloads: { allowedHosts: ['https://evil.example'] } }, 'downloads.allowedHosts[0]: expected a lowercase host name'],
      [{ downloads: { pins: { 'hf.co': ['short'] } } }, 'downloads.pins["hf.co"][0]: expected a base64 SPKI SHA-256 pin'],
      [{ runtime: { executionProvider: 'tpu' } }, 'runtime.executionProvider: expected "cpu" or "cuda" or "dml" or "coreml", got "tpu"'],
      [{ runtime: { memory: 'low' } }, 'runtime.memory: expected "auto" or "resident" or "per-phase", got "low"'],
      [{ generation: { defaultModel: 3 } }, 'generation.defaultModel: expected null or non-empty string, got 3'],
      [[1, 2], '(top level): expected object, got array of 2 items'],
    ];
    for (const [content, message] of cases) {
      const cwd = createTempDir();
      writeConfig(cwd, content);
      await rejectsConfig(loadConfig({ cwd, env: {} }), message);
    }
  });

  it('refuses duplicate keys, invalid JSON, invalid UTF-8 and files over 1 MiB; accepts a BOM', async () => {
    const dup = createTempDir();
    writeConfig(dup, '{"server": {"host": "127.0.0.1", "port": 1, "host": "0.0.0.0"}}');
    await rejectsConfig(loadConfig({ cwd: dup, env: {} }), 'server.host: key appears more than once');

    const bad = createTempDir();
    writeConfig(bad, '{"server": {');
    await rejectsConfig(loadConfig({ cwd: bad, env: {} }), 'not valid JSON');

    const latin1 = createTempDir();
    writeFileSync(writeConfig(latin1, ''), Buffer.from('{"\xe9":1}', 'latin1'));
    await rejectsConfig(loadConfig({ cwd: latin1, env: {} }), 'not valid UTF-8');

    const big = createTempDir();
    writeConfig(big, `{"generation": {"defaultModel": "${'x'.repeat(1024 * 1024)}"}}`);
    await rejectsConfig(loadConfig({ cwd: big, env: {} }), 'larger than 1048576 bytes');

    const bom = createTempDir();
    writeConfig(bom, '\ufeff{"server": {"port": 7000}}');
    assert.equal((await loadConfig({ cwd: bom, env: {} })).config.server.port, 7000);
  });

  it('refuses an explicit config file that does not exist', async () => {
    const cwd = createTempDir();
    await rejectsConfig(loadConfig({ cwd, file: 'missing.json', env: {} }), 'config file not found');
  });

  it('applies typed environment overrides and flags over the file, recording each source', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000, host: '127.0.0.2' }, paths: { models: 'file-models' } });
    const loaded = await loadConfig({
      cwd,
      env: {
        FOOOCUS_SERVER_PORT: '8080',
        FOOOCUS_PATHS_OUTPUTS: 'env-outputs',
        FOOOCUS_DOWNLOADS_ALLOWED_HOSTS: 'huggingface.co, *.hf.co',
        FOOOCUS_GENERATION_DEFAULT_MODEL: '',
        FOOOCUS_RUNTIME_THREADS: '8',
        PATH: '/usr/bin',
      },
      flags: { port: '9090', models: 'flag-models', host: undefined },
    });
    assert.equal(loaded.config.server.port, 9090);
    assert.equal(loaded.sources['server.port'], 'flag:--port');
    assert.equal(loaded.config.server.host, '127.0.0.2');
    assert.equal(loaded.sources['server.host'], `file:${file}`);
    assert.equal(loaded.config.runtime.threads, 8);
    assert.equal(loaded.sources['runtime.threads'], 'env:FOOOCUS_RUNTIME_THREADS');
    assert.deepEqual(loaded.config.downloads.allowedHosts, ['huggingface.co', '*.hf.co']);
    assert.equal(loaded.config.generation.defaultModel, null);
    assert.equal(loaded.config.paths.models, path.join(cwd, 'flag-models'));
    assert.equal(loaded.config.paths.outputs, path.join(cwd, 'env-outputs'));
    assert.equal(loaded.sources['paths.outputs'], 'env:FOOOCUS_PATHS_OUTPUTS');
  });

  it('refuses an env value of the wrong type, naming the variable', async () => {
    const cwd = createTempDir();
    const err = await rejectsConfig(
      loadConfig({ cwd, env: { FOOOCUS_SERVER_PORT: 'abc' } }),
      'FOOOCUS_SERVER_PORT (server.port): expected integer from 1 to 65535, got "abc"',
    );
    assert.equal(err.source, 'env:FOOOCUS_SERVER_PORT');
    await rejectsConfig(loadConfig({ cwd, env: { FOOOCUS_SECURITY_ALLOW_INSECURE_PERMISSIONS: 'yes please' } }), 'expected true or false');
    await rejectsConfig(loadConfig({ cwd, flags: { port: '70000' }, env: {} }), '--port (server.port): expected integer from 1 to 65535, got 70000');
  });

  it('runtime.precision defaults to fp32, takes int8 or fp16 from the file, env or --precision, and refuses anything else by name', async () => {
    const cwd = createTempDir();
    assert.equal((await loadConfig({ cwd, env: {} })).config.runtime.precision, 'fp32');
    const flagged = await loadConfig({ cwd, env: {}, flags: { precision: 'int8' } });
    assert.equal(flagged.config.runtime.precision, 'int8');
    assert.equal(flagged.sources['runtime.precision'], 'flag:--precision');
    assert.equal((await loadConfig({ cwd, env: { FOOOCUS_RUNTIME_PRECISION: 'int8' } })).config.runtime.precision, 'int8');
    assert.equal((await loadConfig({ cwd, env: { FOOOCUS_RUNTIME_PRECISION: 'fp16' } })).config.runtime.precision, 'fp16');
    await rejectsConfig(loadConfig({ cwd, env: {}, flags: { precision: 'int4' } }), '--precision (runtime.precision): expected "fp32" or "int8" or "fp16", got "int4"');
    await rejectsConfig(loadConfig({ cwd, env: { FOOOCUS_RUNTIME_PRECISION: 'bf16' } }), 'FOOOCUS_RUNTIME_PRECISION (runtime.precision): expected "fp32" or "int8" or "fp16", got "bf16"');
    writeConfig(cwd, { runtime: { precision: 'INT8' } });
    const err = await rejectsConfig(loadConfig({ cwd, env: {} }), 'runtime.precision: expected "fp32" or "int8" or "fp16", got "INT8"');
    assert.equal(err.key, 'runtime.precision');
  });

  it('refuses unknown FOOOCUS_ variables and unknown flags, naming them', async () => {
    const cwd = createTempDir();
    await rejectsConfig(loadConfig({ cwd, env: { FOOOCUS_SERVER_PROT: '80', FOOOCUS_DEBUG: '1', HOME: '/root' } }), 'FOOOCUS_DEBUG, FOOOCUS_SERVER_PROT');
    await rejectsConfig(loadConfig({ cwd, env: {}, flags: { verbose: true } }), '--verbose: not a configuration flag');
  });

  it('reads the file named by FOOOCUS_CONFIG', async () => {
    const cwd = createTempDir();
    const file = writeConfig(createTempDir(), { server: { port: 1234 } }, 'custom.json');
    const loaded = await loadConfig({ cwd, env: { FOOOCUS_CONFIG: file } });
    assert.equal(loaded.file, file);
    assert.equal(loaded.config.server.port, 1234);
  });

  it('refuses to listen beyond loopback without API tokens', async () => {
    const cwd = createTempDir();
    const err = await rejectsConfig(loadConfig({ cwd, env: { FOOOCUS_SERVER_HOST: '0.0.0.0' } }), 'server.auth: no users and no tokens, but server.host is "0.0.0.0"');
    assert.equal(err.source, 'env:FOOOCUS_SERVER_HOST');
    for (const host of ['localhost', '::1', '127.0.0.5']) {
      assert.equal((await loadConfig({ cwd, env: {}, flags: { host } })).config.server.host, host);
    }
  });

  it('refuses "~" in paths instead of creating a directory named "~"', async () => {
    const cwd = createTempDir();
    writeConfig(cwd, { paths: { models: '~/models' } });
    await rejectsConfig(loadConfig({ cwd, env: {} }), 'paths.models');
  });

  it('never writes the config file or anything beside it', async () => {
    const cwd = createTempDir();
    const file = writeConfig(cwd, { server: { port: 8000 } });
    const before = statSync(file);
    const listing = readdirSync(cwd);
    await loadConfig({ cwd, env: {} });
    await assert.rejects(loadConfig({ cwd, env: { FOOOCUS_SERVER_PORT: 'x' } }));
    const afterLoad = statSync(file);
    assert.equal(afterLoad.mtimeMs, before.mtimeMs);
    assert.equal(afterLoad.mode, before.mode);
    assert.deepEqual(readdirSync(cwd), listing);
  });
});

describe('server settings in the config', () => {
  it('every field names its key: roles, hashes the server could not verify, owners, duplicates, quotas, limits, hosts', async () => {
    const hashWith = (n: number, salt = 'c2FsdA'.padEnd(22, 'A') + '=='): string => TEST_USER.passwordHash.replace(/^scrypt\$\d+\$8\$1\$[^$]+/, `scrypt$${n}$8$1$${salt}`);
    const cases: [unknown, string, string][] = [
      [{ server: { auth: { users: [{ ...TEST_USER, role: 'root' }] } } }, 'server.auth.users[0].role', 'expected "user" or "admin", got "root"'],
      [{ server: { auth: { users: [{ ...TEST_USER, passwordHash: 'hunter2' }] } } }, 'server.auth.users[0].passwordHash', 'expected a scrypt password hash'],
      [{ server: { auth: { users: [{ ...TEST_USER, passwordHash: hashWith(1000) }] } } }, 'server.auth.users[0].passwordHash', 'N must be a power of two from 1024 to 1048576'],
      [{ server: { auth: { users: [{ ...TEST_USER, passwordHash: hashWith(2 ** 24) }] } } }, 'server.auth.users[0].passwordHash', 'N must be a power of two'],
      [{ server: { auth: { users: [{ ...TEST_USER, passwordHash: hashWith(2 ** 15, 'c2FsdA==') }] } } }, 'server.auth.users[0].passwordHash', 'the salt must have at least 16 bytes'],
      [{ server: { auth: { users: [{ ...TEST_USER, name: '../etc' }] } } }, 'server.auth.users[0].name', 'expected a name of letters'],
      [{ server: { auth: { users: [TEST_USER, TEST_USER] } } }, 'server.auth.users[1].name', '"alice" is listed twice (also server.auth.users[0])'],
      [{ server: { auth: { tokens: [{ name: 'ci', owner: 'alice', sha256: 'secret' }] } } }, 'server.auth.tokens[0].sha256', 'expected a SHA-256 as 64 lowercase hex digits, got "secret"'],
      [{ server: { auth: { users: [TEST_USER], tokens: [{ ...TEST_TOKEN, owner: 'mallory' }] } } }, 'server.auth.tokens[0].owner', '"mallory" is not one of server.auth.users; add the user first (`npm run fooocus -- users add mallory`)'],
      [{ server: { auth: { tokens: [TEST_TOKEN] } } }, 'server.auth.tokens[0].owner', '"alice" is not one of server.auth.users'],
      [{ server: { auth: { users: [TEST_USER], tokens: [TEST_TOKEN, { ...TEST_TOKEN, name: 'ci2' }] } } }, 'server.auth.tokens[1].sha256', 'the same token as server.auth.tokens[0]'],
      [{ server: { quotas: { maxSteps: 0 } } }, 'server.quotas.maxSteps', 'expected integer from 1 to 1000, got 0'],
      [{ server: { quotas: { maxImages: 33 } } }, 'server.quotas.maxImages', 'expected integer from 1 to 32, got 33'],
      [{ server: { quotas: { maxPixels: 5000 * 5000 } } }, 'server.quotas.maxPixels', 'expected integer from 4096 to 16777216'],
      [{ server: { quotas: { maxUploadBytes: 1.5 } } }, 'server.quotas.maxUploadBytes', 'expected integer'],
      [{ server: { quotas: { maxQueuedJobs: 3 } } }, 'server.quotas.maxQueuedJobs', 'unknown key'],
      [{ server: { rateLimit: { readsPerMinute: -1 } } }, 'server.rateLimit.readsPerMinute', 'expected integer from 1 to 1000000, got -1'],
      [{ server: { rateLimit: { submitsPerMinute: 0 } } }, 'server.rateLimit.submitsPerMinute', 'expected integer from 1 to 100000, got 0'],
      [{ server: { secureCookies: 'yes' } }, 'server.secureCookies', 'expected true or false, got "yes"'],
      [{ server: { allowedHosts: ['https://studio.example.com'] } }, 'server.allowedHosts[0]', 'expected a lowercase host name or address with an optional :port'],
      // Retired forms: refused with the way over, not reinterpreted.
      [{ server: { rateLimit: { perMinute: 60 } } }, 'server.rateLimit.perMinute', 'renamed server.rateLimit.submitsPerMinute'],
      [{ server: { auth: { tokens: [TOKEN_HASH] } } }, 'server.auth.tokens[0]', 'a bare SHA-256 is the old token form'],
      [{ server: { quotas: { maxUploadPixels: 4096 * 4096 } } }, 'server.quotas.maxUploadPixels', 'removed: an upload is now held to what a job can use, server.quotas.maxPixels'],
      [{ uploads: { maxPerOwner: 0 } }, 'uploads.maxPerOwner', 'expected integer from 1 to 100000, got 0'],
      [{ uploads: { maxBytesPerOwner: 1000 } }, 'uploads.maxBytesPerOwner', 'expected integer from 1048576 to 1099511627776, got 1000'],
      [{ uploads: { expireAfterMinutes: 43201 } }, 'uploads.expireAfterMinutes', 'expected integer from 1 to 43200, got 43201'],
    ];
    for (const [content, key, detail] of cases) {
      const cwd = createTempDir();
      const file = writeConfig(cwd, content);
      const err = await rejectsConfig(loadConfig({ cwd, env: {} }), `${key}: ${detail}`);
      assert.equal(err.key, key, detail);
      assert.equal(err.file, file);
    }
  });

  it('takes users, owned tokens, limits, quotas, hosts and secure cookies; the defaults are the server’s own', async () => {
    const cwd = createTempDir();
    writeConfig(cwd, {
      server: {
        host: '0.0.0.0',
        allowedHosts: ['192.168.1.20:7865', 'studio.example.com', '[fd00::1]:7865'],
        auth: { users: [TEST_USER, { ...TEST_USER, name: 'bob', role: 'user' }], tokens: [{ ...TEST_TOKEN, owner: 'bob' }] },
        rateLimit: { submitsPerMinute: 5 },
        quotas: { maxSteps: 12, maxUploadBytes: 4096 },
        secureCookies: true,
      },
    });
    const { config } = await loadConfig({ cwd, env: {} });
    assert.deepEqual(config.server.rateLimit, { readsPerMinute: DEFAULT_RATE_LIMIT.readsPerMinute, submitsPerMinute: 5 });
    assert.deepEqual(config.server.quotas, { ...DEFAULT_QUOTAS, maxSteps: 12, maxUploadBytes: 4096 });
    assert.equal(config.server.secureCookies, true);
    assert.deepEqual(config.server.auth.tokens, [{ ...TEST_TOKEN, owner: 'bob' }]);
    assert.deepEqual(createDefaultConfig().server.quotas, DEFAULT_QUOTAS);
    assert.deepEqual(createDefaultConfig().server.rateLimit, DEFAULT_RATE_LIMIT);
  });

  it('reads the server settings from FOOOCUS_* variables; retired variables say what replaced them', async () => {
    const cwd = createTempDir();
    const { config, sources } = await loadConfig({
      cwd,
      env: {
        FOOOCUS_SERVER_RATE_LIMIT_SUBMITS_PER_MINUTE: '7',
        FOOOCUS_SERVER_RATE_LIMIT_READS_PER_MINUTE: '70',
        FOOOCUS_SERVER_ALLOWED_HOSTS: 'studio.example.com, 10.0.0.2:7865',
        FOOOCUS_SERVER_SECURE_COOKIES: 'true',
      },
    });
    assert.deepEqual(config.server.rateLimit, { readsPerMinute: 70, submitsPerMinute: 7 });
    assert.deepEqual(config.server.allowedHosts, ['studio.example.com', '10.0.0.2:7865']);
    assert.equal(config.server.secureCookies, true);
    assert.equal(sources['server.secureCookies'], 'env:FOOOCUS_SERVER_SECURE_COOKIES');
    await rejectsConfig(loadConfig({ cwd, env: { FOOOCUS_SERVER_RATE_LIMIT_PER_MINUTE: '60' } }), 'FOOOCUS_SERVER_RATE_LIMIT_PER_MINUTE: renamed FOOOCUS_SERVER_RATE_LIMIT_SUBMITS_PER_MINUTE');
    await rejectsConfig(loadConfig({ cwd, env: { FOOOCUS_SERVER_AUTH_TOKENS: TOKEN_HASH } }), 'FOOOCUS_SERVER_AUTH_TOKENS: removed');
  });

  it('listens beyond loopback with users alone, or tokens alone, but never with neither', async () => {
    const cwd = createTempDir();
    writeConfig(cwd, { server: { host: '0.0.0.0', auth: { users: [TEST_USER] } } });
    assert.equal((await loadConfig({ cwd, env: {} })).config.server.host, '0.0.0.0');
    writeConfig(cwd, { server: { host: '0.0.0.0', auth: { users: [], tokens: [] } } });
    const err = await rejectsConfig(loadConfig({ cwd, env: {} }), 'server.auth: no users and no tokens, but server.host is "0.0.0.0"');
    assert.equal(err.key, 'server.auth.users');
  });
});
