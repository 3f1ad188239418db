import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseGenerationMetadata, readImageMetadata } from '../../src/engine/index.ts';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { runCli as run } from './cli-run.ts';

describe('fooocus generate', () => {
  let dir: string;
  let models: string;
  let model: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-gen-'));
    models = path.join(dir, 'models');
    mkdirSync(models, { mode: 0o755 });
    const file = await writeTinyCheckpoint(dir, 'sd15');
    model = (await importModel(await openModelStore(models), file, { kind: 'checkpoints' })).name;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = () => ['generate', 'a photo of a cat', '--models', models, '--model', model, '--size', '64x64', '--steps', '3'];

  it('saves a PNG whose metadata reads back as the request, and reports JSON-lines progress', async () => {
    const out = path.join(dir, 'out1');
    const r = await run([...base(), '--seed', '42', '--out', out, '--negative', 'blurry', '--cfg', '5']);
    assert.equal(r.code, 0, r.err);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; label?: string; path?: string; done?: number });
    assert.ok(events.some((e) => e.event === 'progress' && e.label === '[1/1] sampling' && e.done === 3));
    const saved = events.find((e) => e.event === 'saved')!;
    const meta = await readImageMetadata(new Uint8Array(readFileSync(saved.path!)));
    const params = parseGenerationMetadata(meta.parameters!, meta.fooocus_scheme);
    assert.equal(params.prompt, 'a photo of a cat');
    assert.equal(params.negativePrompt, 'blurry');
    assert.equal(params.seed, '42');
    assert.equal(params.cfg, 5);
    assert.equal(params.steps, 3);
    assert.equal(params.sampler, 'dpmpp_2m_sde_gpu');
    assert.equal(params.width, 64);
  });

  it('runs with --memory per-phase and says which memory mode it used', async () => {
    const r = await run([...base(), '--seed', '42', '--out', path.join(dir, 'out-memory'), '--memory', 'per-phase']);
    assert.equal(r.code, 0, r.err);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; text?: string; phase?: string; mode?: string });
    const memory = events.filter((e) => e.phase === 'memory');
    assert.equal(memory.length, 1, r.out);
    assert.equal(memory[0]!.mode, 'per-phase');
    assert.match(memory[0]!.text ?? '', /^memory: per-phase \(as set\), the job's components take \d+\.\d GiB in fp32$/);
    assert.ok(events.some((e) => e.event === 'saved'));
  });

  it('writes AUTOMATIC1111 parameters text with --metadata a1111', async () => {
    const out = path.join(dir, 'out2');
    const r = await run([...base(), '--seed', '7', '--out', out, '--metadata', 'a1111', '--format', 'webp']);
    assert.equal(r.code, 0, r.err);
    const day = readdirSync(out)[0]!;
    const file = readdirSync(path.join(out, day))[0]!;
    assert.match(file, /_7\.webp$/);
    const meta = await readImageMetadata(new Uint8Array(readFileSync(path.join(out, day, file))));
    assert.match(meta.parameters!, /Steps: 3, Sampler: DPM\+\+ 2M SDE Karras, .*Seed: 7/);
  });

  it('cancels cleanly on interrupt and leaves no file behind', async () => {
    const out = path.join(dir, 'out3');
    const r = await run([...base(), '--steps', '12', '--out', out], (line, abort) => {
      const e = JSON.parse(line) as { label?: string; done?: number };
      // The first sampling event is always written (later ones are throttled); the sampler then stops before its next step.
      if (e.label === '[1/1] sampling' && e.done === 0) abort();
    });
    assert.equal(r.code, 130);
    assert.match(r.err, /cancelled; no image was written/);
    const files = existsSync(out) ? readdirSync(out, { recursive: true }).filter((f) => String(f).includes('.')) : [];
    assert.deepEqual(files, []);
  });

  const invalid: [string, string[], RegExp][] = [
    ['zero steps', ['--steps', '0'], /--steps: must be an integer in 1\.\.1000, got 0/],
    ['non-numeric steps', ['--steps', 'many'], /--steps must be a number, got "many"/],
    ['unknown sampler', ['--sampler', 'magic'], /--sampler: .*dpmpp_2m_sde/],
    ['unknown scheduler', ['--scheduler', 'fast'], /--scheduler: must be one of .*karras/],
    ['size off the latent grid', ['--size', '100x64'], /--size: width: must be a multiple of 8|--size: must be a multiple of 8/],
    ['malformed size', ['--size', 'big'], /--size: size must look like 1152x896/],
    ['cfg out of range', ['--cfg', '99'], /--cfg: must be a number in 1\.\.30, got 99/],
    ['negative seed', ['--seed=-3'], /--seed must be an integer in 0\.\.9223372036854775807/],
    ['bad format', ['--format', 'gif'], /--format must be png, jpeg or webp/],
    ['too many images', ['--n', '1000'], /--n: must be an integer in 1\.\.32/],
    ['fractional steps', ['--steps', '4.5'], /--steps: must be an integer in 1\.\.1000, got 4\.5/],
    ['CLIP skip out of range', ['--clip-skip', '99'], /--clip-skip: must be an integer in 1\.\.12, got 99/],
    ['denoise without an input image', ['--denoise', '2'], /--denoise applies to image-to-image/],
    ['too many threads', ['--threads', '100000'], /--threads: must be an integer in 1\.\.\d+ \(4 x \d+ cores\), got 100000/],
    ['fractional threads', ['--threads', '1.5'], /--threads: must be an integer in 1\.\./],
    ['negative threads', ['--threads=-1'], /--threads: must be an integer in 1\.\./],
    ['unknown precision', ['--precision', 'int4'], /--precision \(runtime\.precision\): expected "fp32" or "int8" or "fp16", got "int4"/],
    ['unknown memory mode', ['--memory', 'low'], /--memory must be auto, resident, per-phase, got "low"/],
  ];
  for (const [label, extra, message] of invalid) {
    it(`names the option for ${label} (exit 2)`, async () => {
      const r = await run([...base(), '--out', path.join(dir, 'never'), ...extra]);
      assert.equal(r.code, 2, r.out + r.err);
      assert.match(r.err, message);
    });
  }

  it('--precision int8 makes the image with an int8 UNet, its quantized weights cached in paths.cache', async () => {
    const config = path.join(dir, 'int8-config.json');
    writeFileSync(config, JSON.stringify({ paths: { cache: path.join(dir, 'cache') } }), { mode: 0o600 });
    const r = await run([...base(), '--seed', '5', '--out', path.join(dir, 'out-int8'), '--config', config, '--precision', 'int8']);
    assert.equal(r.code, 0, r.err);
    const cached = readdirSync(path.join(dir, 'cache', 'int8'));
    assert.equal(cached.filter((f) => /^[0-9a-f]{64}\.int8-per-channel-symmetric-v1\.safetensors(\.sha256)?$/.test(f)).length, 2, cached.join(', '));
  });

  it('--precision fp16 makes the image with float16 graphs: the same PNG run to run, not the fp32 PNG', async () => {
    const pixels = async (label: string, extra: string[]): Promise<Buffer> => {
      const out = path.join(dir, `out-${label}`);
      const r = await run([...base(), '--seed', '5', '--format', 'png', '--out', out, ...extra]);
      assert.equal(r.code, 0, r.err);
      const day = readdirSync(out)[0]!;
      return readFileSync(path.join(out, day, readdirSync(path.join(out, day))[0]!));
    };
    const first = await pixels('fp16-a', ['--precision', 'fp16']);
    const second = await pixels('fp16-b', ['--precision', 'fp16']);
    const fp32 = await pixels('fp32-ref', []);
    assert.deepEqual(second, first);
    assert.notDeepEqual(first, fp32);
  });

  it('refuses a checkpoint that is not in the model store, saying how to import it', async () => {
    const outside = await writeTinyCheckpoint(dir, 'sd15', { seed: 2 });
    const r = await run(['generate', 'x', '--models', models, '--model', path.basename(outside)]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /npm run fooocus -- models import/);
  });

  it('refuses a file placed in the store by hand but never imported', async () => {
    const stray = await writeTinyCheckpoint(path.join(models, 'checkpoints'), 'sd15', { seed: 3 });
    const r = await run(['generate', 'x', '--models', models, '--model', path.basename(stray)]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /not in the trust manifest.*npm run fooocus -- models import/);
  });

  it('refuses a model file that changed after it was verified, before reading it', async () => {
    const target = path.join(models, 'checkpoints', model);
    const bytes = readFileSync(target);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(target + '.swap', bytes);
    renameSync(target + '.swap', target);
    // Options are checked before any model file is read: a bad option is named, not the changed file.
    const early = await run([...base(), '--out', path.join(dir, 'never2'), '--cfg', '100']);
    assert.equal(early.code, 2, early.err);
    assert.match(early.err, /--cfg: must be a number in 1\.\.30, got 100/);
    const r = await run([...base(), '--out', path.join(dir, 'never2')]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /changed/i);
  });
});
