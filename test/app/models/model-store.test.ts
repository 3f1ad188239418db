import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, readFile, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { sha256File } from '../../../src/engine/index.ts';
import type { FileHasher } from '../../../src/app/models/hash-cache.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import {
  InvalidTrustManifestError,
  ModelChangedError,
  ModelNotFoundError,
  UnsafeModelPathError,
  UntrustedModelError,
} from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-model-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;

function freshDir(label: string): string {
  return mkdtempSync(path.join(root, `${label}-${counter++}-`));
}

/** The real hasher, counting full-file hashes per path. */
function countingHasher(): { hashFile: FileHasher; count: (file?: string) => number } {
  const calls: string[] = [];
  return {
    hashFile: (file, options) => {
      calls.push(file);
      return sha256File(file, options);
    },
    count: (file) => (file === undefined ? calls.length : calls.filter((f) => f === file).length),
  };
}

/** A store with one imported tiny SD1.5 checkpoint. */
async function storeWithCheckpoint() {
  const models = freshDir('models');
  const source = await writeTinyCheckpoint(freshDir('src'), 'sd15');
  const hasher = countingHasher();
  const store = await openModelStore(models, { hashFile: hasher.hashFile });
  const imported = await importModel(store, source, { kind: 'checkpoints', name: 'tiny.safetensors' });
  return { models, source, store, hasher, imported };
}

function sha256Of(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Waits long enough for the kernel's coarse timestamp clock to tick, so a later write gets a new ctime. */
function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 30));
}

describe('model store: resolve', () => {
  it('import then resolve returns the verified absolute path', async () => {
    const { models, store, source, imported } = await storeWithCheckpoint();
    const resolved = await store.resolve('checkpoints', 'tiny.safetensors');
    assert.equal(resolved, path.join(store.dir, 'checkpoints', 'tiny.safetensors'));
    assert.ok(path.isAbsolute(resolved));
    assert.equal(sha256Of(resolved), sha256Of(source));
    assert.equal(imported.family, 'sd15');
    const manifest = JSON.parse(readFileSync(path.join(models, 'trust.json'), 'utf8'));
    const entry = manifest.models['checkpoints/tiny.safetensors'];
    assert.equal(entry.sha256, sha256Of(source));
    assert.equal(entry.size, (await stat(source)).size);
    assert.equal(entry.source, 'local-import');
    assert.equal(entry.family, 'sd15');
    assert.match(entry.verifiedAt, /^\d{4}-\d{2}-\d{2}T/);
  });

  it('refuses a swapped file (different bytes, same name) before parsing it: ModelChangedError, not InvalidSafetensorsError', async () => {
    const { store } = await storeWithCheckpoint();
    const file = path.join(store.dir, 'checkpoints', 'tiny.safetensors');
    await writeFile(file, 'this is not a safetensors file at all');
    await assert.rejects(store.resolve('checkpoints', 'tiny.safetensors'), (err: Error) => {
      assert.ok(err instanceof ModelChangedError, `${err.name}: ${err.message}`);
      assert.match(err.message, /refusing to load a file that changed since it was verified/);
      assert.match(err.message, /expected \d+ bytes/);
      return true;
    });
  });

  it('refuses a same-size file with one byte changed, naming expected and found SHA-256', async () => {
    const { store, source } = await storeWithCheckpoint();
    const file = path.join(store.dir, 'checkpoints', 'tiny.safetensors');
    const bytes = await readFile(file);
    // Break the header's opening brace too: had the file been parsed, it would fail as InvalidSafetensorsError.
    bytes[8] = 0x20;
    await tick();
    await writeFile(file, bytes);
    await assert.rejects(store.resolve('checkpoints', 'tiny.safetensors'), (err: Error) => {
      assert.ok(err instanceof ModelChangedError, `${err.name}: ${err.message}`);
      assert.ok(err.message.includes(sha256Of(source)), 'names the expected hash');
      assert.ok(err.message.includes(sha256Of(file)), 'names the found hash');
      return true;
    });
  });

  it('refuses a file that is not in the manifest and says how to import it', async () => {
    const models = freshDir('models');
    await writeTinyCheckpoint(path.join(models, 'checkpoints'), 'sdxl');
    const [name] = readdirSync(path.join(models, 'checkpoints'));
    const store = await openModelStore(models);
    await assert.rejects(store.resolve('checkpoints', name!), (err: Error) => {
      assert.ok(err instanceof UntrustedModelError);
      assert.match(err.message, /npm run fooocus -- models import .* --kind checkpoints/);
      return true;
    });
    assert.equal(existsSync(path.join(models, 'trust.json')), false, 'loading never writes the manifest');
  });

  it('reports a missing model and a listed-but-missing model as ModelNotFoundError', async () => {
    const { store } = await storeWithCheckpoint();
    await assert.rejects(store.resolve('checkpoints', 'nope.safetensors'), ModelNotFoundError);
    rmSync(path.join(store.dir, 'checkpoints', 'tiny.safetensors'));
    await assert.rejects(store.resolve('checkpoints', 'tiny.safetensors'), /listed in trust.json but missing/);
  });

  it('refuses names that climb out of the store and symlinks that point outside it', async () => {
    const { store, source } = await storeWithCheckpoint();
    await assert.rejects(store.resolve('checkpoints', '../trust.json'), UnsafeModelPathError);
    await assert.rejects(store.resolve('checkpoints', '/etc/passwd'), UnsafeModelPathError);
    await symlink(source, path.join(store.dir, 'checkpoints', 'outside.safetensors'));
    await assert.rejects(store.resolve('checkpoints', 'outside.safetensors'), /symlink pointing outside/);
  });
});

describe('model store: hash cache', () => {
  it('a second resolve of an unchanged file does not hash again (import seeds the cache)', async () => {
    const { store, hasher } = await storeWithCheckpoint();
    const before = hasher.count();
    await store.resolve('checkpoints', 'tiny.safetensors');
    await store.resolve('checkpoints', 'tiny.safetensors');
    assert.equal(hasher.count(), before);
    // A new store object (a restart) reads the cache file.
    const again = countingHasher();
    const reopened = await openModelStore(store.dir, { hashFile: again.hashFile });
    await reopened.resolve('checkpoints', 'tiny.safetensors');
    assert.equal(again.count(), 0);
    assert.ok(existsSync(path.join(store.dir, '.trust-cache.json')));
  });

  it('touching mtime forces a full re-hash', async () => {
    const { store, hasher } = await storeWithCheckpoint();
    const file = path.join(store.dir, 'checkpoints', 'tiny.safetensors');
    await store.resolve('checkpoints', 'tiny.safetensors');
    const before = hasher.count(file);
    const later = new Date(Date.now() + 60_000);
    await utimes(file, later, later);
    await store.resolve('checkpoints', 'tiny.safetensors');
    assert.equal(hasher.count(file), before + 1);
    await store.resolve('checkpoints', 'tiny.safetensors');
    assert.equal(hasher.count(file), before + 1, 'the new stamp is cached');
  });

  it('a same-size one-byte swap with mtime restored is still caught, because ctime changed', async () => {
    const { store, hasher } = await storeWithCheckpoint();
    const file = path.join(store.dir, 'checkpoints', 'tiny.safetensors');
    // A whole-second mtime, so utimes can restore it to the nanosecond.
    const mtime = 1_700_000_000;
    await utimes(file, mtime, mtime);
    await store.resolve('checkpoints', 'tiny.safetensors');
    const original = await stat(file, { bigint: true });
    const bytes = await readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await tick();
    await writeFile(file, bytes);
    await utimes(file, mtime, mtime);
    const swapped = await stat(file, { bigint: true });
    assert.equal(swapped.mtimeNs, original.mtimeNs, 'mtime restored exactly');
    assert.equal(swapped.size, original.size, 'same size');
    assert.notEqual(swapped.ctimeNs, original.ctimeNs, 'ctime moved');
    const before = hasher.count(file);
    await assert.rejects(store.resolve('checkpoints', 'tiny.safetensors'), ModelChangedError);
    assert.equal(hasher.count(file), before + 1, 're-hashed rather than served from the cache');
  });
});

describe('model store: trust.json validation', () => {
  async function storeWithManifest(manifest: unknown): Promise<string> {
    const models = freshDir('models');
    await mkdir(path.join(models, 'checkpoints'), { recursive: true });
    await writeFile(path.join(models, 'trust.json'), JSON.stringify(manifest));
    return models;
  }
  const entry = { kind: 'checkpoints', size: 1, sha256: 'a'.repeat(64), source: 'local-import', verifiedAt: '2025-01-01T00:00:00.000Z' };

  it('refuses an unknown key at the top level and inside an entry', async () => {
    for (const manifest of [
      { version: 1, models: {}, extra: true },
      { version: 1, models: { 'checkpoints/a.safetensors': { ...entry, trusted: 'always' } } },
    ]) {
      const store = await openModelStore(await storeWithManifest(manifest));
      await assert.rejects(store.resolve('checkpoints', 'a.safetensors'), InvalidTrustManifestError);
    }
  });

  it('refuses ../ and absolute paths and entries filed under another kind', async () => {
    for (const key of ['checkpoints/../../etc/passwd', '../outside.safetensors', '/abs.safetensors', 'loras/a.safetensors', 'checkpoints\\a.safetensors']) {
      const store = await openModelStore(await storeWithManifest({ version: 1, models: { [key]: entry } }));
      await assert.rejects(store.list(), InvalidTrustManifestError, key);
    }
  });

  it('refuses a non-https URL source', async () => {
    const manifest = { version: 1, models: { 'checkpoints/a.safetensors': { ...entry, source: { url: 'http://example.com/a' } } } };
    const store = await openModelStore(await storeWithManifest(manifest));
    await assert.rejects(store.list(), InvalidTrustManifestError);
  });
});
