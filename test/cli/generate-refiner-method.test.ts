/** `--refiner-method` (the API's refinerSwitchMethod) through the use case: recorded in the metadata, refused by option. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { decodePng, parseGenerationMetadata, readImageMetadata } from '../../src/engine/index.ts';
import { writeTinyCheckpoint } from '../fixtures/checkpoints.ts';
import { runCli as run, savedPath } from './cli-run.ts';

describe('fooocus generate --refiner-method', () => {
  let dir: string;
  let models: string;
  let base: string;
  let refiner: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-refiner-'));
    models = path.join(dir, 'models');
    mkdirSync(models, { mode: 0o755 });
    const store = await openModelStore(models);
    base = (await importModel(store, await writeTinyCheckpoint(dir, 'sdxl'), { kind: 'checkpoints' })).name;
    refiner = (await importModel(store, await writeTinyCheckpoint(dir, 'sdxl-refiner'), { kind: 'checkpoints' })).name;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const args = (out: string) => ['generate', 'a lighthouse', '--models', models, '--model', base, '--refiner', refiner, '--switch', '0.5', '--size', '64x64', '--steps', '4', '--sampler', 'dpmpp_2m', '--seed', '7', '--out', path.join(dir, out)];

  it('makes an image with each method, records the method, and joint is the default', async () => {
    const pixels: Record<string, Uint8Array> = {};
    for (const method of ['default', 'joint', 'separate', 'vae']) {
      const r = await run([...args(method), ...(method === 'default' ? [] : ['--refiner-method', method])]);
      assert.equal(r.code, 0, r.err);
      const file = savedPath(r.out);
      const bytes = new Uint8Array(readFileSync(file));
      pixels[method] = decodePng(bytes).rgb;
      const meta = await readImageMetadata(bytes);
      const json = JSON.parse(meta.parameters!) as { refiner_swap_method?: string };
      assert.equal(json.refiner_swap_method, method === 'default' ? 'joint' : method);
      assert.equal(parseGenerationMetadata(meta.parameters!, meta.fooocus_scheme).refinerSwitchMethod, json.refiner_swap_method);
    }
    assert.deepEqual(pixels.joint, pixels.default);
    assert.notDeepEqual(pixels.separate, pixels.joint);
    assert.notDeepEqual(pixels.vae, pixels.joint);
  });

  it('refuses an unknown method, naming the option', async () => {
    const r = await run([...args('never'), '--refiner-method', 'swap']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--refiner-method.*must be one of joint, separate, vae/);
  });
});
