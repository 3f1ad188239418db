import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { CatalogEntry } from '../../../src/app/models/catalog.ts';
import { convertModel } from '../../../src/app/models/convert-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { pullModel } from '../../../src/app/models/pull-model.ts';
import { MissingPinnedModelError, verifyModelPins } from '../../../src/app/studio/model-pins.ts';
import { buildTinyUpscaler, writeTorchFile } from '../../fixtures/torch-files.ts';

const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-pins-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshDir = (label: string) => mkdtempSync(path.join(root, `${label}-${counter++}-`));

describe('verifyModelPins with a converted catalog entry', () => {
  it('pulls a PyTorch entry pinned by its converted name, and the worker ends with the studio\'s SHA-256', async () => {
    const source = await writeTorchFile(freshDir('upstream'), 'fooocus_upscaler_s409985e5.bin', buildTinyUpscaler());
    const entry: CatalogEntry = {
      id: 'tiny-upscaler',
      kind: 'upscalers',
      family: 'esrgan',
      fileName: 'fooocus_upscaler_s409985e5.bin',
      convertTo: 'fooocus_upscaler_s409985e5.safetensors',
      size: statSync(source).size,
      sha256: createHash('sha256').update(readFileSync(source)).digest('hex'),
      urls: ['https://mirror.example/fooocus_upscaler_s409985e5.bin'],
      licence: 'test',
      hashSource: 'test fixture',
    };
    const studio = await openModelStore(freshDir('studio'));
    const converted = await convertModel(studio, source);
    const pins = [{ kind: 'upscalers', name: converted.name, sha256: converted.sha256 }];
    const worker = await openModelStore(freshDir('worker'));
    await assert.rejects(verifyModelPins(worker, pins), MissingPinnedModelError);
    const pull = { entries: [entry], fetch: (e: CatalogEntry) => pullModel(worker, e, { download: (request) => copyFile(source, request.destination) }).then(() => undefined) };
    await verifyModelPins(worker, pins, pull);
    assert.equal((await worker.list())[0]?.sha256, converted.sha256);
  });
});
