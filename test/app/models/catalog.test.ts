import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CatalogDowngradeError, CatalogSignatureError, InvalidCatalogError } from '../../../src/app/models/catalog-errors.ts';
import { TRUSTED_CATALOG_KEYS } from '../../../src/app/models/catalog-keys.ts';
import {
  computeCatalogKeyId,
  generateCatalogKeyPair,
  importCatalogPrivateKey,
  importCatalogPublicKey,
  signCatalogBytes,
  type CatalogKey,
} from '../../../src/app/models/catalog-signature.ts';
import { loadCatalog, readVerifiedCatalog, verifyCatalog, type Catalog, type CatalogEntry } from '../../../src/app/models/catalog.ts';
import { PERFORMANCE_MODES } from '../../../src/app/creative/performance-modes.ts';
import { loadPresets } from '../../../src/app/creative/presets.ts';
import { loadStyleLibrary } from '../../../src/app/creative/style-library.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-catalog-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));
const shippedCatalog = path.resolve(import.meta.dirname, '..', '..', '..', 'catalog', 'catalog.json');

const TEST_ENTRY: CatalogEntry = {
  id: 'tiny-sd15',
  kind: 'checkpoints',
  family: 'sd15',
  fileName: 'tiny.safetensors',
  size: 10,
  sha256: 'ab'.repeat(32),
  urls: ['https://example.com/tiny.safetensors'],
  licence: 'MIT',
  hashSource: 'test fixture',
};

function signer() {
  const pair = generateCatalogKeyPair();
  const key: CatalogKey = { keyId: pair.keyId, publicKey: pair.publicKeyRaw };
  const privateKey = importCatalogPrivateKey(pair.privateKeyPem, 'test key');
  /** Writes catalog.json and its .sig into a fresh directory. */
  function publish(catalog: Partial<Catalog> & { version: number }, dir = freshDir('pub')): string {
    const file = path.join(dir, 'catalog.json');
    const bytes = Buffer.from(JSON.stringify({ keyId: pair.keyId, entries: [TEST_ENTRY], ...catalog }, null, 2));
    writeFileSync(file, bytes);
    writeFileSync(`${file}.sig`, signCatalogBytes(bytes, privateKey));
    return file;
  }
  return { pair, key, publish };
}

describe('catalog signature', () => {
  it('accepts a validly signed catalog', async () => {
    const s = signer();
    const verified = await readVerifiedCatalog(s.publish({ version: 3 }), [s.key]);
    assert.equal(verified.catalog.version, 3);
    assert.equal(verified.keyId, s.pair.keyId);
    assert.deepEqual(verified.catalog.entries, [TEST_ENTRY]);
  });

  it('refuses a catalog with one byte changed, before parsing it', async () => {
    const s = signer();
    const file = s.publish({ version: 1 });
    const bytes = readFileSync(file);
    // Turn the catalog into invalid JSON too: a parse-first design would report InvalidCatalogError instead.
    bytes[0] = 0x5b;
    writeFileSync(file, bytes);
    await assert.rejects(readVerifiedCatalog(file, [s.key]), CatalogSignatureError);
    const sizeTamper = readFileSync(file);
    sizeTamper[0] = 0x7b;
    const text = sizeTamper.toString().replace('"size": 10', '"size": 11');
    writeFileSync(file, text);
    await assert.rejects(readVerifiedCatalog(file, [s.key]), CatalogSignatureError);
  });

  it('refuses a catalog signed with another key, and one whose keyId names another key', async () => {
    const s = signer();
    const other = signer();
    await assert.rejects(readVerifiedCatalog(other.publish({ version: 1 }), [s.key]), /does not verify with any trusted key/);
    const mislabelled = s.publish({ version: 1, keyId: other.pair.keyId });
    await assert.rejects(readVerifiedCatalog(mislabelled, [s.key, other.key]), /names key .* but it is signed by/);
  });

  it('refuses a missing or malformed signature file and a key list entry with a wrong id', async () => {
    const s = signer();
    const file = s.publish({ version: 1 });
    writeFileSync(`${file}.sig`, 'not base64 at all');
    await assert.rejects(readVerifiedCatalog(file, [s.key]), CatalogSignatureError);
    rmSync(`${file}.sig`);
    await assert.rejects(readVerifiedCatalog(file, [s.key]), /no signature file/);
    assert.throws(() => verifyCatalog({ bytes: new Uint8Array(), signature: '', file, keys: [{ ...s.key, keyId: 'ed25519-0000000000000000' }] }), CatalogSignatureError);
  });

  it('refuses signed content that breaks the schema (http URL, unknown key, path in fileName)', async () => {
    const s = signer();
    for (const entry of [
      { ...TEST_ENTRY, urls: ['http://example.com/a.safetensors'] },
      { ...TEST_ENTRY, mirror: true },
      { ...TEST_ENTRY, fileName: '../escape.safetensors' },
      { ...TEST_ENTRY, fileName: 'model.ckpt' },
    ]) {
      await assert.rejects(readVerifiedCatalog(s.publish({ version: 1, entries: [entry as CatalogEntry] }), [s.key]), InvalidCatalogError);
    }
  });

  it('accepts a PyTorch entry only with convertTo, for a convertible kind, and counts its converted name as its target', async () => {
    const s = signer();
    const pickle: CatalogEntry = { ...TEST_ENTRY, id: 'tiny-upscaler', kind: 'upscalers', fileName: 'tiny.bin', convertTo: 'tiny.safetensors' };
    assert.deepEqual((await readVerifiedCatalog(s.publish({ version: 1, entries: [pickle] }), [s.key])).catalog.entries, [pickle]);
    for (const entry of [
      { ...pickle, convertTo: undefined },
      { ...pickle, kind: 'checkpoints' },
      { ...pickle, fileName: 'tiny.safetensors' },
      { ...pickle, convertTo: 'tiny.onnx' },
    ]) {
      await assert.rejects(readVerifiedCatalog(s.publish({ version: 1, entries: [JSON.parse(JSON.stringify(entry)) as CatalogEntry] }), [s.key]), InvalidCatalogError);
    }
    const clash = { ...TEST_ENTRY, kind: 'upscalers' as const, fileName: 'tiny.safetensors' };
    await assert.rejects(readVerifiedCatalog(s.publish({ version: 1, entries: [pickle, clash] }), [s.key]), /two entries write upscalers\/tiny\.safetensors/);
  });

  it('accepts a PEM public key as well as raw base64', async () => {
    const s = signer();
    const pem = { keyId: s.pair.keyId, publicKey: s.pair.publicKeyPem };
    assert.equal((await readVerifiedCatalog(s.publish({ version: 1 }), [pem])).keyId, s.pair.keyId);
  });
});

describe('catalog rollback protection', () => {
  it('refuses a lower version after a higher one was seen, and the same version with other bytes', async () => {
    const s = signer();
    const stateFile = path.join(freshDir('models'), '.catalog-state.json');
    const v2 = s.publish({ version: 2 });
    const v1 = s.publish({ version: 1 });
    assert.equal((await loadCatalog(v2, { stateFile, extraKeys: [s.key] })).version, 2);
    await assert.rejects(loadCatalog(v1, { stateFile, extraKeys: [s.key] }), (err: Error) => {
      assert.ok(err instanceof CatalogDowngradeError);
      assert.match(err.message, /version 1 is older than version 2/);
      return true;
    });
    assert.equal((await loadCatalog(v2, { stateFile, extraKeys: [s.key] })).version, 2, 'the same catalog again is fine');
    const forked = s.publish({ version: 2, entries: [] });
    await assert.rejects(loadCatalog(forked, { stateFile, extraKeys: [s.key] }), /already seen with different content/);
    assert.equal((await loadCatalog(s.publish({ version: 5 }), { stateFile, extraKeys: [s.key] })).version, 5);
    assert.equal(JSON.parse(readFileSync(stateFile, 'utf8')).highestVersion, 5);
  });

  it('does not record anything for a refused catalog', async () => {
    const s = signer();
    const stateFile = path.join(freshDir('models'), '.catalog-state.json');
    await assert.rejects(loadCatalog(s.publish({ version: 9 }), { stateFile }), CatalogSignatureError);
    assert.equal(existsSync(stateFile), false);
  });
});

describe('shipped catalog', () => {
  it('pinned key ids match their keys', () => {
    for (const k of TRUSTED_CATALOG_KEYS) assert.equal(computeCatalogKeyId(importCatalogPublicKey(k.publicKey, k.keyId)), k.keyId);
  });

  it('catalog/catalog.json verifies with the pinned keys and cites a source for every hash', async () => {
    const { catalog } = await readVerifiedCatalog(shippedCatalog);
    for (const e of catalog.entries) {
      assert.match(e.hashSource, /https:\/\//, `${e.id} cites where its hash was published`);
      assert.ok(e.urls.every((u) => u.startsWith('https://')));
    }
  });

  it("lists Fooocus's upscaler, inpaint head and v2.6 patch, each converted to .safetensors after the pinned download", async () => {
    const { catalog } = await readVerifiedCatalog(shippedCatalog);
    const expected = [
      ['fooocus-upscaler-s409985e5', 'upscalers', 'fooocus_upscaler_s409985e5.bin', 'fooocus_upscaler_s409985e5.safetensors'],
      ['fooocus-inpaint-head', 'inpaint', 'fooocus_inpaint_head.pth', 'fooocus_inpaint_head.safetensors'],
      ['fooocus-inpaint-v26', 'inpaint', 'inpaint_v26.fooocus.patch', 'inpaint_v26.fooocus.safetensors'],
    ];
    for (const [id, kind, fileName, convertTo] of expected) {
      const entry = catalog.entries.find((e) => e.id === id);
      assert.deepEqual([entry?.kind, entry?.fileName, entry?.convertTo], [kind, fileName, convertTo], id);
    }
  });

  it('is signed by the current project key, which the pinned list names, and not by a removed one', async () => {
    const verified = await readVerifiedCatalog(shippedCatalog);
    assert.equal(verified.keyId, 'ed25519-2c32acc5e5030a89');
    assert.ok(verified.catalog.version >= 3);
    assert.deepEqual(TRUSTED_CATALOG_KEYS.map((k) => k.keyId).filter((id) => ['ed25519-66741aaea1b5db8e', 'ed25519-b7d177a173ed37cf'].includes(id)), []);
  });

  it('has an entry for every performance LoRA, installing the file the mode looks for', async () => {
    const { catalog } = await readVerifiedCatalog(shippedCatalog);
    for (const mode of PERFORMANCE_MODES) {
      if (mode.lora === undefined) continue;
      const entry = catalog.entries.find((e) => e.id === mode.lora!.catalogId);
      assert.ok(entry, `${mode.name}: ${mode.lora.catalogId} is in the catalog`);
      assert.equal(entry.kind, 'loras');
      assert.equal(entry.fileName, mode.lora.file);
    }
  });

  it('has an entry for every download of every built-in preset', async () => {
    const { catalog } = await readVerifiedCatalog(shippedCatalog);
    const data = path.resolve(import.meta.dirname, '..', '..', '..', 'data');
    const { styles } = await loadStyleLibrary({ builtinDir: path.join(data, 'styles') });
    const presets = await loadPresets(path.join(data, 'presets'), { styleNames: new Set(styles.keys()), catalogIds: new Set(catalog.entries.map((e) => e.id)) });
    assert.ok(presets.size > 0);
  });
});
