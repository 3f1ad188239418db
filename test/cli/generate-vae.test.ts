/**
 * A VAE file chosen by name (`--vae`, the API's `vae`): checked against the trust manifest before anything runs,
 * recorded in the metadata as Fooocus (`vae`) and A1111 (`VAE`) write it, and refused when its latent space is not
 * the model's.
 */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importModel } from '../../src/app/models/import-model.ts';
import { openModelStore } from '../../src/app/models/model-store.ts';
import { decodePng, parseGenerationMetadata, readImageMetadata } from '../../src/engine/index.ts';
import { writeTinyCheckpoint, writeTinyVae } from '../fixtures/checkpoints.ts';
import { runCli as run, savedPath } from './cli-run.ts';

describe('fooocus generate --vae', () => {
  let dir: string;
  let models: string;
  let model: string;
  let vae: string;
  let wideVae: string;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-vae-'));
    models = path.join(dir, 'models');
    mkdirSync(models, { mode: 0o755 });
    const store = await openModelStore(models);
    model = (await importModel(store, await writeTinyCheckpoint(dir, 'sd15'), { kind: 'checkpoints' })).name;
    vae = (await importModel(store, await writeTinyVae(dir, 'sd15'), { kind: 'vae' })).name;
    wideVae = (await importModel(store, await writeTinyVae(dir, 'sd15', { latentChannels: 16 }), { kind: 'vae' })).name;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const base = (out: string) => ['generate', 'a lighthouse', '--models', models, '--model', model, '--size', '64x64', '--steps', '2', '--seed', '7', '--out', path.join(dir, out)];

  it('decodes with the chosen VAE and records it in Fooocus and A1111 metadata', async () => {
    const own = await run(base('own'));
    assert.equal(own.code, 0, own.err);
    const chosen = await run([...base('chosen'), '--vae', vae]);
    assert.equal(chosen.code, 0, chosen.err);
    const ownFile = savedPath(own.out);
    const chosenFile = savedPath(chosen.out);
    assert.notDeepEqual(decodePng(new Uint8Array(readFileSync(chosenFile))).rgb, decodePng(new Uint8Array(readFileSync(ownFile))).rgb);

    const read = async (file: string) => {
      const meta = await readImageMetadata(new Uint8Array(readFileSync(file)));
      return { meta, params: parseGenerationMetadata(meta.parameters!, meta.fooocus_scheme) };
    };
    const mine = await read(chosenFile);
    assert.equal((JSON.parse(mine.meta.parameters!) as { vae: string }).vae, vae);
    assert.equal(mine.params.vae, vae);
    assert.equal((JSON.parse((await read(ownFile)).meta.parameters!) as { vae: string }).vae, 'Default (model)');

    const a1111 = await run([...base('a1111'), '--vae', vae, '--metadata', 'a1111']);
    assert.equal(a1111.code, 0, a1111.err);
    const text = (await read(savedPath(a1111.out))).meta.parameters!;
    assert.match(text, new RegExp(`VAE: ${vae.replace(/\./g, '\\.')}`));
  });

  it('refuses a VAE that is not in the model store, naming the field and how to import one', async () => {
    const r = await run([...base('never'), '--vae', 'missing.safetensors']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /vae "missing\.safetensors" is not in the model store.*npm run fooocus -- models import <file> --kind vae/);
  });

  it('refuses a VAE whose latent channels do not match the model family, naming the file', async () => {
    const r = await run([...base('never2'), '--vae', wideVae]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /this VAE has 16 latent channels and SD 1\.5 models use 4/);
    assert.ok(r.err.includes(wideVae), r.err);
  });
});
