import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodePng, encodePng, parseGenerationMetadata, readImageMetadata } from '../../src/engine/index.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { writeTinyRrdb } from '../fixtures/upscalers.ts';
import { runCli as run, savedPath } from './cli-run.ts';

function writeInput(file: string, width: number, height: number): void {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = 128 + 90 * Math.sin(i * 0.013);
  writeFileSync(file, encodePng(rgb, width, height));
}

async function readSaved(file: string) {
  const bytes = new Uint8Array(readFileSync(file));
  const meta = await readImageMetadata(bytes);
  return { image: decodePng(bytes), params: parseGenerationMetadata(meta.parameters!, meta.fooocus_scheme) };
}

function progressLabels(out: string): string[] {
  return out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; label?: string }).flatMap((e) => (e.event === 'progress' && e.label ? [e.label] : []));
}

function filesUnder(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String).filter((f) => f.includes('.')) : [];
}

describe('fooocus upscale and generate --vary / --upscale (tiny SD 1.5 checkpoint, tiny RRDBNet x4)', () => {
  let dir: string;
  let models: string;
  let bare: string;
  let model: string;
  let input: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-upscale-'));
    models = path.join(dir, 'models');
    bare = path.join(dir, 'bare-models');
    mkdirSync(models, { mode: 0o755 });
    mkdirSync(bare, { mode: 0o755 });
    const checkpoint = await writeTinyCheckpoint(dir, 'sd15');
    const store = await openModelStore(models);
    model = (await importModel(store, checkpoint, { kind: 'checkpoints' })).name;
    const upscaler = await writeTinyRrdb(dir, { dialect: 'fooocus', blocks: 1, features: 8, growth: 4, upsamples: 2 }, 'tiny-x4.safetensors');
    await importModel(store, upscaler.file, { kind: 'upscalers' });
    await importModel(await openModelStore(bare), checkpoint, { kind: 'checkpoints' });
    input = path.join(dir, 'input.png');
    writeInput(input, 64, 48);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('upscale --mode fast: the upscaler image at twice the size, with upscaling progress', async () => {
    const out = path.join(dir, 'fast');
    const larger = path.join(dir, 'larger.png');
    writeInput(larger, 320, 256);
    const r = await run(['upscale', larger, '--mode', 'fast', '--models', models, '--model', model, '--out', out, '--json', '--seed', '1']);
    assert.equal(r.code, 0, r.err);
    assert.ok(progressLabels(r.out).includes('[1/1] upscaling with tiny-x4.safetensors'), r.out);
    const { image, params } = await readSaved(savedPath(r.out));
    assert.deepEqual([image.width, image.height], [640, 512]);
    assert.deepEqual([params.width, params.height], [640, 512]);
  });

  it('upscale --mode fast under the native size returns the upscaler image resized to the native shape ceil, as Fooocus', async () => {
    const r = await run(['upscale', input, '--mode', 'fast', '--models', models, '--model', model, '--out', path.join(dir, 'fast-small'), '--json']);
    assert.equal(r.code, 0, r.err);
    assert.ok(!progressLabels(r.out).includes('[1/1] sampling'), 'no diffusion');
    const { image } = await readSaved(savedPath(r.out));
    assert.deepEqual([image.width, image.height], [576, 448]);
  });

  it('upscale --mode 2x: upscaler, then image-to-image at 0.382 at the native shape ceil', async () => {
    const out = path.join(dir, 'two');
    // Two steps keep the test quick (explicit steps win, as Fooocus's overwrite step); the mode's 18 / 36 are unit-tested.
    const r = await run(['upscale', input, '--models', models, '--model', model, '--out', out, '--json', '--seed', '2', '--prompt', 'a lake', '--steps', '2']);
    assert.equal(r.code, 0, r.err);
    const labels = progressLabels(r.out);
    assert.ok(labels.includes('[1/1] upscaling with tiny-x4.safetensors') && labels.includes('[1/1] sampling'), labels.join(', '));
    const { image, params } = await readSaved(savedPath(r.out));
    // 64x48 x 2 is under SD 1.5's 512 ceil: the 256x192 upscale is resized to ceil 512, which is 576x448.
    assert.deepEqual([image.width, image.height], [576, 448]);
    assert.equal(params.steps, 2);
    assert.equal(params.denoise, 0.382);
    assert.equal(params.prompt, 'a lake');
  });

  it('generate --vary subtle: denoise 0.5 at the resized size, the steps given', async () => {
    const out = path.join(dir, 'vary');
    const r = await run(['generate', 'a lake', '--input', input, '--vary', 'subtle', '--models', models, '--model', model, '--out', out, '--json', '--steps', '2']);
    assert.equal(r.code, 0, r.err);
    const { image, params } = await readSaved(savedPath(r.out));
    assert.deepEqual([image.width, image.height], [576, 448]);
    assert.deepEqual([params.denoise, params.steps], [0.5, 2]);
    assert.ok(!progressLabels(r.out).some((l) => l.includes('upscaling')), 'vary runs no upscaler');
  });

  const refusals: [string, () => string[], RegExp][] = [
    ['no upscaler installed', () => ['upscale', input, '--models', bare], /--upscaler: .*needs an upscaler model and none is installed: run `npm run fooocus -- models pull fooocus-upscaler-s409985e5`/],
    ['a custom factor out of range', () => ['upscale', input, '--factor', '9', '--models', models], /--factor: .*must be a number in 1\.\.4, got 9/],
    ['an upscaler not in the store', () => ['upscale', input, '--upscaler', 'other.safetensors', '--models', models], /--upscaler: upscaler "other\.safetensors" is not in the model store; installed: tiny-x4\.safetensors/],
    ['--vary without --input', () => ['generate', 'a lake', '--vary', 'subtle', '--models', models], /--vary works on an input image: give --input IMG/],
    ['an unknown vary', () => ['generate', 'a lake', '--input', input, '--vary', 'medium', '--models', models], /--vary must be subtle or strong, got "medium"/],
    ['--denoise with --vary', () => ['generate', 'a lake', '--input', input, '--vary', 'strong', '--denoise', '0.3', '--models', models], /--denoise does not apply to --vary or --upscale/],
    ['an unknown mode', () => ['upscale', input, '--mode', '3x', '--models', models], /--mode must be one of 1\.5x, 2x, fast, custom, got "3x"/],
    ['an unknown --upscale', () => ['generate', 'a lake', '--input', input, '--upscale', '3x', '--models', models], /--upscale must be one of 1\.5x, 2x, fast, fast-2x, custom, got "3x"/],
    ['--vary with --upscale', () => ['generate', 'a lake', '--input', input, '--vary', 'subtle', '--upscale', '2x', '--models', models], /--vary cannot be combined with --upscale/],
  ];
  for (const [what, argv, message] of refusals) {
    it(`refuses ${what}, writing nothing`, async () => {
      const out = path.join(dir, `refused-${what.replace(/\W+/g, '-')}`);
      const r = await run([...argv(), '--model', model, '--out', out]);
      assert.equal(r.code, 2, r.err + r.out);
      assert.match(r.err, message);
      assert.deepEqual(filesUnder(out), []);
    });
  }

  it('refuses an upscaler file with the wrong layout as it enters the store (models import), naming the file; nothing is written', async () => {
    const odd = path.join(dir, 'odd-models');
    mkdirSync(odd, { mode: 0o755 });
    // A checkpoint's tensors are no upscaler.
    const checkpoint = await writeTinyCheckpoint(dir, 'sd15');
    const r = await run(['models', 'import', checkpoint, '--kind', 'upscalers', '--name', 'not-an-upscaler.safetensors', '--models', odd]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /tiny-sd15-.*\.safetensors: not a supported upscaler \(RRDBNet\/ESRGAN or SRVGGNetCompact\)/);
    assert.deepEqual(filesUnder(odd), []);
  });
});
