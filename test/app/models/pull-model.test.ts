import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CatalogEntry } from '../../../src/app/models/catalog.ts';
import { ModelChangedError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { pullModel, type DownloadRequest } from '../../../src/app/models/pull-model.ts';
import { InpaintModelError, TorchFileError, UpscalerLayoutError } from '../../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { buildTinyInpaintPatch, writeTorchFile } from '../../fixtures/torch-files.ts';
import { PickleEmitter, writeTorchZip, type TestValue } from '../../fixtures/torch-save-writer.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-pull-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));

async function tinyEntry(): Promise<{ entry: CatalogEntry; file: string }> {
  const file = await writeTinyCheckpoint(freshDir('upstream'), 'sdxl');
  const sha256 = createHash('sha256').update(readFileSync(file)).digest('hex');
  const entry: CatalogEntry = {
    id: 'tiny-sdxl',
    kind: 'checkpoints',
    family: 'sdxl',
    fileName: 'tiny-sdxl.safetensors',
    size: statSync(file).size,
    sha256,
    urls: ['https://mirror-a.example/tiny.safetensors', 'https://mirror-b.example/tiny.safetensors'],
    licence: 'MIT',
    hashSource: 'test fixture',
  };
  return { entry, file };
}

describe('pullModel', () => {
  it('calls the downloader with the expected hash and size and records { catalog, url } as the source', async () => {
    const { entry, file } = await tinyEntry();
    const models = freshDir('models');
    const store = await openModelStore(models);
    const requests: DownloadRequest[] = [];
    const pulled = await pullModel(store, entry, {
      download: async (request) => {
        requests.push(request);
        if (request.url.includes('mirror-a')) throw new Error('mirror a is down');
        await copyFile(file, request.destination);
      },
    });
    assert.deepEqual(
      requests.map((r) => [r.url, r.expectedSha256, r.expectedSize, path.dirname(r.destination)]),
      entry.urls.map((u) => [u, entry.sha256, entry.size, path.join(store.dir, 'checkpoints')]),
    );
    assert.equal(pulled.url, entry.urls[1]);
    const manifest = JSON.parse(readFileSync(path.join(models, 'trust.json'), 'utf8'));
    const recorded = manifest.models['checkpoints/tiny-sdxl.safetensors'];
    assert.deepEqual(recorded.source, { catalog: 'tiny-sdxl', url: entry.urls[1] });
    assert.equal(recorded.sha256, entry.sha256);
    assert.equal(recorded.family, 'sdxl');
    let hashed = 0;
    const reopened = await openModelStore(models, { hashFile: async () => (hashed++, 'x') });
    assert.equal(await reopened.resolve('checkpoints', 'tiny-sdxl.safetensors'), pulled.path);
    assert.equal(hashed, 0, 'the pull seeded the hash cache');
    assert.deepEqual(readdirSync(path.join(models, 'checkpoints')), ['tiny-sdxl.safetensors'], 'no temp file left');
  });

  it('refuses bytes the downloader let through that do not match the entry, and records nothing', async () => {
    const { entry } = await tinyEntry();
    const models = freshDir('models');
    const store = await openModelStore(models);
    const careless = async (request: DownloadRequest) => writeFile(request.destination, Buffer.alloc(entry.size, 1));
    await assert.rejects(pullModel(store, entry, { download: careless }), ModelChangedError);
    assert.deepEqual(readdirSync(path.join(models, 'checkpoints')), []);
    assert.deepEqual(readdirSync(models), ['checkpoints']);
  });

  it('does not download again when the verified file is already there', async () => {
    const { entry, file } = await tinyEntry();
    const store = await openModelStore(freshDir('models'));
    let calls = 0;
    const download = async (request: DownloadRequest) => {
      calls++;
      await copyFile(file, request.destination);
    };
    await pullModel(store, entry, { download });
    const again = await pullModel(store, entry, { download });
    assert.equal(calls, 1);
    assert.equal(again.downloaded, false);
  });
});

describe('pullModel: layout of the kind', () => {
  it('refuses a verified download whose tensors are no upscaler, naming the published file; nothing stays in the store', async () => {
    const { entry: checkpoint, file } = await tinyEntry();
    const entry: CatalogEntry = { ...checkpoint, id: 'odd-upscaler', kind: 'upscalers', fileName: 'odd_x4.safetensors' };
    const models = freshDir('models');
    const store = await openModelStore(models);
    await assert.rejects(pullModel(store, entry, { download: (request) => copyFile(file, request.destination) }), (err: Error) => {
      assert.ok(err instanceof UpscalerLayoutError);
      assert.match(err.message, /^odd_x4\.safetensors: not a supported upscaler/);
      return true;
    });
    assert.deepEqual(readdirSync(path.join(models, 'upscalers')), [], 'no temp file and no upscaler');
    assert.equal(existsSync(path.join(models, 'trust.json')), false);
  });

  it('refuses a PyTorch inpaint patch made for SD 1.5 after its verified download, naming the published file; nothing stays', async () => {
    const u8: TestValue = { tensor: { dtype: 'U8', shape: [320, 768], bytes: new Uint8Array(320 * 768) } };
    const scalar: TestValue = { tensor: { dtype: 'F16', shape: [], bytes: new Uint8Array(2) } };
    const file = await writeTorchFile(freshDir('upstream'), 'sd15.patch', { dict: [['diffusion_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight', { tuple: [u8, scalar, scalar] }]] });
    const entry: CatalogEntry = {
      id: 'sd15-inpaint-patch',
      kind: 'inpaint',
      family: 'sdxl',
      fileName: 'inpaint_sd15.fooocus.patch',
      convertTo: 'inpaint_sd15.fooocus.safetensors',
      size: statSync(file).size,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
      urls: ['https://mirror.example/inpaint_sd15.fooocus.patch'],
      licence: 'test',
      hashSource: 'test fixture',
    };
    const models = freshDir('models');
    const store = await openModelStore(models);
    await assert.rejects(pullModel(store, entry, { download: (request) => copyFile(file, request.destination) }), (err: Error) => {
      assert.ok(err instanceof InpaintModelError);
      assert.match(err.message, /^inpaint_sd15\.fooocus\.patch: a patch for SD 1\.5 \(cross-attention width 768/);
      return true;
    });
    assert.deepEqual(readdirSync(path.join(models, 'inpaint')), [], 'neither the pickle, a temp file nor a converted file');
    assert.equal(existsSync(path.join(models, 'trust.json')), false);
  });
});

describe('pullModel of a PyTorch entry', () => {
  async function pickleEntry(): Promise<{ entry: CatalogEntry; file: string }> {
    const file = await writeTorchFile(freshDir('upstream'), 'inpaint_v26.fooocus.patch', buildTinyInpaintPatch());
    const entry: CatalogEntry = {
      id: 'tiny-inpaint-patch',
      kind: 'inpaint',
      family: 'sdxl',
      fileName: 'inpaint_v26.fooocus.patch',
      convertTo: 'inpaint_v26.fooocus.safetensors',
      size: statSync(file).size,
      sha256: createHash('sha256').update(readFileSync(file)).digest('hex'),
      urls: ['https://mirror.example/inpaint_v26.fooocus.patch'],
      licence: 'test',
      hashSource: 'test fixture',
    };
    return { entry, file };
  }

  it('converts after the verified download: only the .safetensors is stored, recorded as converted from the published SHA-256', async () => {
    const { entry, file } = await pickleEntry();
    const models = freshDir('models');
    const store = await openModelStore(models);
    const pulled = await pullModel(store, entry, { download: (request) => copyFile(file, request.destination) });
    assert.equal(pulled.path, path.join(store.dir, 'inpaint', 'inpaint_v26.fooocus.safetensors'));
    assert.deepEqual(readdirSync(path.join(models, 'inpaint')), ['inpaint_v26.fooocus.safetensors'], 'neither the pickle nor a temp file is kept');
    const recorded = JSON.parse(readFileSync(path.join(models, 'trust.json'), 'utf8')).models['inpaint/inpaint_v26.fooocus.safetensors'];
    assert.deepEqual(recorded.source, { catalog: 'tiny-inpaint-patch', url: entry.urls[0] });
    assert.deepEqual(recorded.convertedFrom, { sha256: entry.sha256, fileName: 'inpaint_v26.fooocus.patch' });
    assert.equal(recorded.sha256, pulled.convertedSha256);
    assert.equal(await store.resolve('inpaint', 'inpaint_v26.fooocus.safetensors'), pulled.path);
    // Pulling again finds it by the published hash and does not download.
    const again = await pullModel(store, entry, { download: () => Promise.reject(new Error('must not download')) });
    assert.equal(again.downloaded, false);
  });

  it('refuses a download that does not match the published hash, before reading it as a pickle', async () => {
    const { entry } = await pickleEntry();
    const models = freshDir('models');
    const store = await openModelStore(models);
    const evil = writeTorchZip(new PickleEmitter().header().global('os', 'system').str('id').op(0x85, 0x52).stop(), new Map());
    const swapped = { ...entry, size: evil.length };
    await assert.rejects(pullModel(store, swapped, { download: (request) => writeFile(request.destination, evil) }), ModelChangedError);
    assert.deepEqual(readdirSync(path.join(models, 'inpaint')), []);
    // Even a pickle that matches its entry is refused by the reader when it names a global outside the allowlist.
    const pinned = { ...swapped, sha256: createHash('sha256').update(evil).digest('hex') };
    await assert.rejects(pullModel(store, pinned, { download: (request) => writeFile(request.destination, evil) }), (err: Error) => err instanceof TorchFileError && err.message.includes('os.system'));
    assert.deepEqual(readdirSync(path.join(models, 'inpaint')), []);
    assert.equal(existsSync(path.join(models, 'trust.json')), false);
  });
});
