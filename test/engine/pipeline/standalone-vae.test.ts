import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { UnsupportedCheckpointError } from '../../../src/engine/models/checkpoint-errors.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { generate, preparePipelineModel } from '../../../src/engine/pipeline/generate.ts';
import { loadCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import { inspectVaeHeader, loadVae, VaeMismatchError, type LoadedVae } from '../../../src/engine/pipeline/load-vae.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { generateTinyVae, writeTinyCheckpointWithVae, writeTinyVae } from '../../fixtures/checkpoints.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from './pipeline-harness.ts';

const sha = (values: Uint8Array | Float32Array): string => createHash('sha256').update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)).digest('hex');

describe('a standalone VAE file instead of the checkpoint’s own', () => {
  let dir: string;
  let sd15: LoadedTinyModel;
  let vae: LoadedVae;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-vae-'));
    sd15 = await loadTinyPipelineModel('sd15');
    vae = await loadVae(await readSafetensorsHeader(await writeTinyVae(dir, 'sd15')), { runtime: { threads: 2 } });
  });
  after(async () => {
    await vae.release();
    await sd15.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads the bare-key layout and builds the decoder; the encoder waits for a job that encodes', () => {
    assert.equal(vae.config.prefix, '');
    assert.equal(vae.latentChannels, 4);
    assert.ok(vae.decoder !== null);
    assert.equal(vae.encoder, null);
    assert.deepEqual(vae.sessionsBuilt, { 'vae-decoder': 1, 'vae-encoder': 0 });
  });

  it('changes the decoded pixels, and equals a checkpoint with the same VAE tensors baked in, bit for bit', async () => {
    const request = tinyRequest({ sampler: 'euler', steps: 3 });
    const [own] = await generate({ base: sd15.model }, request);
    const [chosen] = await generate({ base: sd15.model, vae }, request);
    assert.equal(sha(own!.latent.data), sha(chosen!.latent.data), 'the VAE must not change sampling');
    assert.notEqual(sha(own!.image.rgb), sha(chosen!.image.rgb));
    assert.equal(vae.sessionsBuilt['vae-encoder'], 0, 'text-to-image builds no VAE encoder');

    const bakedFile = await writeTinyCheckpointWithVae(dir, 'sd15', generateTinyVae('sd15'));
    const header = await readSafetensorsHeader(bakedFile);
    const { architecture } = inspectHeader(header);
    const loaded = await loadCheckpoint(header, architecture, {
      components: ['unet', 'text', 'vae-decoder', 'vae-encoder'],
      text: architecture.textEncoders.map(() => ({ clipSkip: 1, finalLayerNorm: true })),
      runtime: { threads: 2 },
    });
    try {
      const [baked] = await generate({ base: preparePipelineModel('baked', loaded, ClipTokenizer.byteLevel()) }, request);
      assert.equal(sha(baked!.image.rgb), sha(chosen!.image.rgb));
    } finally {
      await loaded.release();
    }
  });

  it('encodes an input image with the chosen VAE (image-to-image)', async () => {
    const image = { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 256) };
    const request = tinyRequest({ sampler: 'euler', steps: 3, input: { image, denoise: 0.6 } });
    const [own] = await generate({ base: sd15.model }, request);
    const [chosen] = await generate({ base: sd15.model, vae }, request);
    assert.notEqual(sha(own!.latent.data), sha(chosen!.latent.data));
    assert.deepEqual(vae.sessionsBuilt, { 'vae-decoder': 1, 'vae-encoder': 1 });
  });

  it('refuses a VAE whose latent channels are not the model family’s, naming the file', async () => {
    const file = await writeTinyVae(dir, 'sd15', { latentChannels: 16 });
    const wide = await loadVae(await readSafetensorsHeader(file), { runtime: { threads: 2 }, encoder: false });
    try {
      await assert.rejects(generate({ base: sd15.model, vae: wide }, tinyRequest()), (err: unknown) => {
        assert.ok(err instanceof VaeMismatchError);
        assert.match(err.message, /tiny-vae-sd15-latent16-seed7\.safetensors: this VAE has 16 latent channels and SD 1\.5 models use 4/);
        return true;
      });
    } finally {
      await wide.release();
    }
  });

  it('also reads a VAE cut from a checkpoint (first_stage_model. keys), and refuses a file with no autoencoder', async () => {
    const cut = path.join(dir, 'cut.safetensors');
    await writeSafetensors(cut, generateTinyVae('sd15', { checkpointPrefix: true }));
    assert.equal(inspectVaeHeader(await readSafetensorsHeader(cut)).prefix, 'first_stage_model.');
    const other = path.join(dir, 'not-a-vae.safetensors');
    await writeSafetensors(other, [{ name: 'lora_unet_x.alpha', dtype: 'F32', shape: [1], data: new Float32Array([1]) }]);
    const header = await readSafetensorsHeader(other);
    assert.throws(() => inspectVaeHeader(header), (err: unknown) => err instanceof UnsupportedCheckpointError && /not-a-vae\.safetensors: not a VAE file/.test(err.message));
  });
});
