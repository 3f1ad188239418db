/**
 * `fooocus generate --input IMG --enhance "detect=person;..."`: the input enhanced alone at its own size, progress
 * that says what each tab did, pixels away from the found region unchanged; bad values refused naming --enhance
 * and the tab's field.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { planVaryUpscaleSize } from '../../src/app/generation/vary-upscale-step.ts';
import { readImageMetadata } from '../../src/engine/index.ts';
import { parseGenerationMetadata } from '../../src/engine/output/generation-metadata.ts';
import { decodePng, encodePng } from '../../src/engine/output/png.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { redSquarePicture, writeTinyForegroundModel } from '../fixtures/foreground-models.ts';
import { runCli as run, savedPath } from './cli-run.ts';

const W = 120;
const H = 96;

describe('fooocus generate --enhance', () => {
  let dir: string;
  let models: string;
  let model: string;
  const picture = redSquarePicture(W, H, { x0: 48, x1: 72, y0: 36, y1: 60 });
  const file = (name: string) => path.join(dir, name);
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-enhance-'));
    models = file('models');
    mkdirSync(models, { mode: 0o755 });
    const store = await openModelStore(models);
    model = (await importModel(store, await writeTinyCheckpoint(dir, 'sd15'), { kind: 'checkpoints' })).name;
    await importModel(store, await writeTinyForegroundModel(file('files')), { kind: 'detection' });
    writeFileSync(file('input.png'), encodePng(picture.rgb, W, H));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = (out: string) => ['generate', 'a toy', '--models', models, '--model', model, '--steps', '2', '--seed', '5', '--input', file('input.png'), '--out', out];

  it('enhances the input alone at its size and says what each tab did', async () => {
    const r = await run([...base(file('out')), '--enhance', 'detect=person;prompt=a red robot;strength=0.7', '--enhance', 'detect=person;erode=40']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Enhance 1\/2: repainting \\"person\\" \(1 region\)/);
    assert.match(r.out, /Enhance 2\/2: no \\"person\\" found, tab skipped/);
    const image = decodePng(new Uint8Array(readFileSync(savedPath(r.out))));
    assert.deepEqual([image.width, image.height], [W, H]);
    // The corners are far from the red square (and its soft mask): unchanged.
    for (const [x, y] of [[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]] as const) {
      const p = (y * W + x) * 3;
      assert.deepEqual([...image.rgb.subarray(p, p + 3)], [...picture.rgb.subarray(p, p + 3)]);
    }
    assert.notDeepEqual(image.rgb, picture.rgb);
  });

  it('refuses bad tabs naming --enhance and the field, before anything runs', async () => {
    const range = await run([...base(file('bad1')), '--enhance', 'detect=person', '--enhance', 'detect=person;strength=3']);
    assert.equal(range.code, 2);
    assert.match(range.err, /--enhance: enhance\.tabs\[1\]\.strength must be a number in 0\.01\.\.1/);
    const syntax = await run([...base(file('bad2')), '--enhance', 'prompt=x']);
    assert.equal(syntax.code, 2);
    assert.match(syntax.err, /detect=PROMPT is required/);
    const face = await run([...base(file('bad3')), '--enhance', 'detect=face']);
    assert.equal(face.code, 2);
    assert.match(face.err, /GroundingDINO and SAM/);
  });

  it('runs --enhance-vary after the tabs when --enhance-order says so, and records both', async () => {
    const r = await run([...base(file('vary')), '--enhance', 'detect=person;erode=40', '--enhance-vary', 'subtle', '--enhance-order', 'after']);
    assert.equal(r.code, 0, r.err);
    const bytes = new Uint8Array(readFileSync(savedPath(r.out)));
    const image = decodePng(bytes);
    const size = planVaryUpscaleSize({ mode: 'vary-subtle' }, { width: W, height: H }, 'sd15');
    assert.deepEqual([image.width, image.height], [size.width, size.height], 'the Vary ran');
    const text = await readImageMetadata(bytes);
    const record = parseGenerationMetadata(text.parameters!, text.fooocus_scheme).inputImage?.enhance;
    assert.deepEqual([record?.varyUpscale, record?.varyUpscaleOrder], [{ mode: 'vary-subtle' }, 'after']);
  });

  it('refuses --enhance-vary and --enhance-order that do not fit, naming the option', async () => {
    const cases: [string[], RegExp][] = [
      [['--enhance', 'detect=person', '--enhance-vary', 'wild'], /--enhance-vary must be one of subtle, strong, 1\.5x, 2x, fast, got "wild"/],
      [['--enhance', 'detect=person', '--enhance-vary', 'subtle', '--enhance-order', 'during'], /--enhance-order must be before or after/],
      [['--enhance', 'detect=person', '--enhance-order', 'after'], /--enhance-order needs --enhance-vary/],
      [['--enhance-vary', 'strong'], /--enhance-vary needs at least one --enhance tab/],
    ];
    for (const [extra, pattern] of cases) {
      const r = await run([...base(file('bad-vary')), ...extra]);
      assert.equal(r.code, 2, extra.join(' '));
      assert.match(r.err, pattern);
    }
  });
});
