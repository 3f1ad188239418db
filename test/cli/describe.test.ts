import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { encodePng } from '../../src/engine/index.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { writeTinyTagger } from '../fixtures/wd14-taggers.ts';
import { runCli as run } from './cli-run.ts';

describe('fooocus describe (tiny WD14 tagger)', () => {
  let dir: string;
  let models: string;
  let bare: string;
  let red: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-describe-'));
    models = path.join(dir, 'models');
    bare = path.join(dir, 'bare-models');
    mkdirSync(models, { mode: 0o755 });
    mkdirSync(bare, { mode: 0o755 });
    const files = writeTinyTagger(dir);
    const store = await openModelStore(models);
    await importModel(store, files.model, { kind: 'clip_vision' });
    await importModel(store, files.tags, { kind: 'clip_vision' });
    red = path.join(dir, 'red.png');
    const rgb = new Uint8Array(64 * 64 * 3);
    for (let i = 0; i < rgb.length; i += 3) rgb[i] = 255;
    writeFileSync(red, encodePng(rgb, 64, 64));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the tags of an image as a prompt, and the tags with scores with --json', async () => {
    const text = await run(['describe', red, '--type', 'anime', '--models', models]);
    assert.equal(text.code, 0, text.err);
    assert.equal(text.out, 'hatsune miku \\(vocaloid\\), 1girl, red theme, simple background\n');
    const json = await run(['describe', red, '--type=anime', '--json', '--models', models]);
    assert.equal(json.code, 0, json.err);
    const result = JSON.parse(json.out) as { type: string; text: string; tags: { name: string; score: number; category: string }[] };
    assert.equal(result.type, 'anime');
    assert.deepEqual(result.tags.map((t) => t.name), ['hatsune_miku_(vocaloid)', '1girl', 'red_theme', 'simple_background']);
    assert.ok(result.tags.every((t) => t.score > 0.35 && t.score < 1));
    assert.match(json.err, /Art\/Anime: (prepare|run|decode)/);
  });

  it('generate --describe-first: the describing step shows as its message, then the image is made from the tags', async () => {
    const store = await openModelStore(models);
    const model = (await importModel(store, await writeTinyCheckpoint(dir, 'sd15'), { kind: 'checkpoints' })).name;
    const r = await run(['generate', '', '--input', red, '--describe-first', 'anime', '--models', models, '--model', model, '--steps', '1', '--seed', '3', '--out', path.join(dir, 'out')]);
    assert.equal(r.code, 0, r.err);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; label?: string; phase?: string; type?: string });
    const describing = events.filter((e) => e.phase === 'describe');
    assert.ok(describing.length > 0, r.out);
    assert.ok(describing.every((e) => e.event === 'progress' && e.label === '[1/1] describing the input image (Art/Anime)' && e.type === 'anime'), r.out);
    assert.ok(events.findIndex((e) => e.phase === 'describe') < events.findIndex((e) => e.phase === 'sample'), 'described before sampling');
  });

  it('exits 2 naming the missing files and the import command when the describer is not installed', async () => {
    const missing = await run(['describe', red, '--type', 'anime', '--models', bare]);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /the Art\/Anime describer \(type "anime"\) is not installed: it needs clip_vision\/wd-v1-4-moat-tagger-v2\.onnx, clip_vision\/wd-v1-4-moat-tagger-v2\.csv; add them with npm run fooocus -- models import wd-v1-4-moat-tagger-v2\.onnx --kind clip_vision/);
    const photo = await run(['describe', red, '--models', models]);
    assert.equal(photo.code, 2);
    assert.match(photo.err, /the Photograph describer \(type "photo"\)/);
  });

  it('exits 2 on a bad type, a missing image and an image that is not one', async () => {
    const badType = await run(['describe', red, '--type', 'manga', '--models', models]);
    assert.equal(badType.code, 2);
    assert.match(badType.err, /--type must be one of photo, anime, got "manga"/);
    const none = await run(['describe', path.join(dir, 'nope.png'), '--type', 'anime', '--models', models]);
    assert.equal(none.code, 2);
    assert.match(none.err, /nope\.png: no such file/);
    const text = path.join(dir, 'notes.png');
    writeFileSync(text, 'not an image');
    const garbage = await run(['describe', text, '--type', 'anime', '--models', models]);
    assert.equal(garbage.code, 2, garbage.err);
    assert.match(garbage.err, /notes\.png/);
  });
});
