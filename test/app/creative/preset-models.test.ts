/** Preset model names (catalog ids or file names) mapped to model-store files, and what the store lacks. */
import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PresetModelsMissingError } from '../../../src/app/creative/creative-errors.ts';
import { findMissingPresetModels, indexCatalogFileNames, resolvePresetModels, toStoreFileName } from '../../../src/app/creative/preset-models.ts';
import { loadPresets, type Preset } from '../../../src/app/creative/presets.ts';
import { loadStyleLibrary } from '../../../src/app/creative/style-library.ts';
import { readVerifiedCatalog, type Catalog, type CatalogEntry } from '../../../src/app/models/catalog.ts';

const entry = (id: string, kind: CatalogEntry['kind'], fileName: string): CatalogEntry => ({
  id,
  kind,
  family: 'sdxl',
  fileName,
  size: 1,
  sha256: '0'.repeat(64),
  urls: [`https://example.com/${fileName}`],
  licence: 'test',
  hashSource: 'test',
});

const catalog: Catalog = {
  version: 1,
  keyId: 'test',
  entries: [
    entry('sdxl-base-1.0', 'checkpoints', 'sd_xl_base_1.0.safetensors'),
    entry('sdxl-refiner-1.0', 'checkpoints', 'sd_xl_refiner_1.0.safetensors'),
    entry('detail-lora', 'loras', 'detail_v2.safetensors'),
  ],
};
const files = indexCatalogFileNames(catalog);

const preset: Preset = {
  label: 'Test',
  model: 'sdxl-base-1.0',
  refiner: 'sdxl-refiner-1.0',
  refinerSwitch: 0.8,
  loras: [
    { name: 'detail-lora', weight: 0.5 },
    { name: 'own.safetensors', weight: 1 },
  ],
  cfg: 4,
  sharpness: 2,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  styles: [],
  performance: 'Speed',
  aspectRatio: '1152*896',
  imageCount: 2,
  downloads: ['sdxl-base-1.0', 'sdxl-refiner-1.0', 'detail-lora'],
};

describe('preset models', () => {
  it('maps catalog ids to the file their entry installs, and keeps file names as they are', () => {
    assert.deepEqual(resolvePresetModels(preset, files), {
      model: 'sd_xl_base_1.0.safetensors',
      refiner: 'sd_xl_refiner_1.0.safetensors',
      loras: [
        { name: 'detail_v2.safetensors', weight: 0.5 },
        { name: 'own.safetensors', weight: 1 },
      ],
    });
    assert.equal(toStoreFileName('my-model.safetensors', 'checkpoints', files), 'my-model.safetensors');
  });

  it('maps an id only to an entry of the same kind', () => {
    assert.equal(toStoreFileName('detail-lora', 'checkpoints', files), 'detail-lora');
    assert.equal(toStoreFileName('sdxl-base-1.0', 'loras', files), 'sdxl-base-1.0');
  });

  it('without a catalog every name is a file name', () => {
    assert.equal(resolvePresetModels(preset, indexCatalogFileNames(null)).model, 'sdxl-base-1.0');
  });

  it('names each model the store lacks, with its catalog id when it has one', () => {
    const installed = new Set(['checkpoints/sd_xl_base_1.0.safetensors', 'loras/detail_v2.safetensors']);
    assert.deepEqual(findMissingPresetModels(preset, files, installed), [
      { field: 'refiner', kind: 'checkpoints', fileName: 'sd_xl_refiner_1.0.safetensors', catalogId: 'sdxl-refiner-1.0' },
      { field: 'loras', kind: 'loras', fileName: 'own.safetensors', catalogId: null },
    ]);
    const all = new Set([...installed, 'checkpoints/sd_xl_refiner_1.0.safetensors', 'loras/own.safetensors']);
    assert.deepEqual(findMissingPresetModels(preset, files, all), []);
  });

  it('the error names the files and the command that pulls the preset', () => {
    const missing = findMissingPresetModels({ ...preset, loras: [] }, files, new Set());
    const err = new PresetModelsMissingError('realistic', missing);
    assert.equal(
      err.message,
      'preset "realistic" needs checkpoint sd_xl_base_1.0.safetensors (catalog id sdxl-base-1.0), checkpoint sd_xl_refiner_1.0.safetensors ' +
        '(catalog id sdxl-refiner-1.0), not in the model store: run `npm run fooocus -- models pull --preset realistic`',
    );
    const own = new PresetModelsMissingError('mine', findMissingPresetModels({ ...preset, model: 'own.safetensors', refiner: null, loras: [] }, files, new Set()));
    assert.match(own.message, /checkpoint own\.safetensors, not in the model store: .*npm run fooocus -- models import <file>/);
  });

  it('every built-in preset names models the shipped catalog installs', async () => {
    const root = path.resolve(import.meta.dirname, '..', '..', '..');
    const { catalog: shipped } = await readVerifiedCatalog(path.join(root, 'catalog', 'catalog.json'));
    const shippedFiles = indexCatalogFileNames(shipped);
    const { styles } = await loadStyleLibrary({ builtinDir: path.join(root, 'data', 'styles') });
    const presets = await loadPresets(path.join(root, 'data', 'presets'), { styleNames: new Set(styles.keys()) });
    for (const [name, p] of presets) {
      for (const m of findMissingPresetModels(p, shippedFiles, new Set())) assert.notEqual(m.catalogId, null, `${name}: ${m.fileName} is a catalog id`);
      const models = resolvePresetModels(p, shippedFiles);
      assert.match(models.model, /\.safetensors$/, `${name} resolves to a file`);
    }
  });
});
