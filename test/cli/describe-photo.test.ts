import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodePng } from '../../src/engine/index.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { TINY_BLIP_VOCABULARY, writeStoreSizedBlip, writeTinyBlipVocabulary } from '../fixtures/blip-models.ts';
import { runCli as run } from './cli-run.ts';

describe('fooocus describe --type photo (small BLIP captioner)', () => {
  let dir: string;
  let models: string;
  let bare: string;
  let red: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-describe-photo-'));
    models = path.join(dir, 'models');
    bare = path.join(dir, 'bare-models');
    mkdirSync(models, { mode: 0o755 });
    mkdirSync(bare, { mode: 0o755 });
    const store = await openModelStore(models);
    await importModel(store, await writeStoreSizedBlip(dir), { kind: 'clip_vision' });
    await importModel(store, await writeTinyBlipVocabulary(dir, 'blip-image-captioning-base-vocab.txt'), { kind: 'clip_vision' });
    red = path.join(dir, 'red.png');
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb[i] = 255;
    writeFileSync(red, encodePng(rgb, 64, 64));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a caption made of vocabulary words, the same on every run', async () => {
    const first = await run(['describe', red, '--models', models]);
    assert.equal(first.code, 0, first.err);
    const words = first.out.trim().split(/[\s.,]+/).filter((w) => w !== '');
    assert.ok(words.length > 0, `caption: ${JSON.stringify(first.out)}`);
    assert.ok(words.every((w) => TINY_BLIP_VOCABULARY.some((v) => v === w || w.startsWith(v))), `caption: ${JSON.stringify(first.out)}`);
    assert.match(first.err, /Photograph: (prepare|run|decode)/);
    const again = await run(['describe', red, '--type', 'photo', '--models', models]);
    assert.equal(again.out, first.out);
  });

  it('exits 2 naming both missing files and the import command', async () => {
    const missing = await run(['describe', red, '--type', 'photo', '--models', bare]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /the Photograph describer \(type "photo"\) is not installed: it needs clip_vision\/blip-image-captioning-base\.safetensors, clip_vision\/blip-image-captioning-base-vocab\.txt; add them with .*models import blip-image-captioning-base\.safetensors --kind clip_vision/);
  });

  it('models import refuses a vocabulary file that is not one, naming it, and records nothing', async () => {
    const store = await openModelStore(bare);
    const bad = path.join(dir, 'blip-image-captioning-base-vocab.txt');
    writeFileSync(bad, '[UNK]\n\nthe\n');
    await assert.rejects(importModel(store, bad, { kind: 'clip_vision' }), /blip-image-captioning-base-vocab\.txt: not a WordPiece vocabulary .*line 2 is empty/);
    assert.deepEqual(await store.list(), []);
  });
});
