import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CatalogEntry } from '../../../src/app/models/catalog.ts';
import { ModelChangedError } from '../../../src/app/models/model-errors.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { pullModel, type DownloadRequest } from '../../../src/app/models/pull-model.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';

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
