/**
 * The Describe use case over a real model store: the tagger's files enter the store only through their checks, are
 * verified by hash before loading, and the loaded tagger is kept until a file changes.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TagListFormatError, UnsafeOnnxModelError, type RgbImage } from '../../../src/engine/index.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { ImageDescribers } from '../../../src/app/describe/describe-image.ts';
import { createDescriberRegistry, DescriberNotInstalledError, WD14_TAGGER_ENTRY } from '../../../src/app/describe/describer-registry.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore, type ModelStore } from '../../../src/app/models/model-store.ts';
import { ModelChangedError } from '../../../src/app/models/model-errors.ts';
import { buildTinyTagger, writeTinyTagger } from '../../fixtures/wd14-taggers.ts';

const RED: RgbImage = { width: 2, height: 2, rgb: Uint8Array.from([255, 0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0]) };

describe('image describers over the model store', () => {
  let dir: string;
  let store: ModelStore;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-describers-'));
    mkdirSync(path.join(dir, 'models'), { mode: 0o755 });
    store = await openModelStore(path.join(dir, 'models'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to import a tagger graph with a custom operator or a broken tag list, and stores nothing', async () => {
    const bad = buildTinyTagger();
    bad.graph.nodes = bad.graph.nodes.map((n) => (n.opType === 'Sigmoid' ? { ...n, domain: 'com.example', opType: 'Hook' } : n));
    const source = path.join(dir, 'wd-v1-4-moat-tagger-v2.onnx');
    writeFileSync(source, encodeOnnxModel(bad));
    await assert.rejects(importModel(store, source, { kind: 'clip_vision' }), (err: unknown) => err instanceof UnsafeOnnxModelError && /wd-v1-4-moat-tagger-v2\.onnx: node/.test(err.message));
    const list = path.join(dir, 'wd-v1-4-moat-tagger-v2.csv');
    writeFileSync(list, 'tag_id,name,category,count\n1,a,7,1\n');
    await assert.rejects(importModel(store, list, { kind: 'clip_vision' }), (err: unknown) => err instanceof TagListFormatError && err.rule === 'category');
    assert.deepEqual(await store.list(), []);
    assert.equal(existsSync(path.join(store.dir, 'clip_vision', 'wd-v1-4-moat-tagger-v2.onnx')), false);
    // A .onnx is still refused in kinds that keep .safetensors only.
    await assert.rejects(importModel(store, source, { kind: 'loras' }), /only \.safetensors files can be imported as loras/);
  });

  it('names the missing files, then describes, reuses the loaded tagger and refuses a changed file', async () => {
    let loads = 0;
    const registry = { anime: { ...WD14_TAGGER_ENTRY, load: (paths: readonly string[], runtime: object) => (loads++, WD14_TAGGER_ENTRY.load(paths, runtime)) } };
    const describers = new ImageDescribers(store, registry, { threads: 1 });
    try {
      await assert.rejects(describers.describe('anime', RED), (err: unknown) => err instanceof DescriberNotInstalledError && err.field === 'type' && /needs clip_vision\/wd-v1-4-moat-tagger-v2\.onnx, clip_vision\/wd-v1-4-moat-tagger-v2\.csv/.test(err.message));
      await assert.rejects(describers.describe('photo', RED), /the Photograph describer \(type "photo"\) is not part of this build/);
      const files = writeTinyTagger(path.join(dir));
      await importModel(store, files.model, { kind: 'clip_vision' });
      await importModel(store, files.tags, { kind: 'clip_vision' });
      const first = await describers.describe('anime', RED);
      assert.equal(first.type, 'anime');
      assert.equal(first.text, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background');
      await describers.describe('anime', RED);
      assert.equal(loads, 1);
      // Edited in place: the store's size and hash check refuses it before the tagger sees it.
      writeFileSync(path.join(store.dir, 'clip_vision', 'wd-v1-4-moat-tagger-v2.csv'), 'tag_id,name,category,count\n');
      await assert.rejects(describers.describe('anime', RED), ModelChangedError);
    } finally {
      await describers.release();
    }
    assert.ok(createDescriberRegistry().anime !== undefined);
  });
});
