/**
 * Components are built when a job uses them: text-to-image never builds a VAE encoder, image-to-image does, and
 * `per-phase` memory holds one phase's components at a time while giving the same pixels, bit for bit, as
 * `resident`. What was built is read from the loaded checkpoint's own build counts.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { readLoraFile } from '../../../src/engine/lora/lora-file.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { planPhaseComponents } from '../../../src/engine/pipeline/component-residency.ts';
import { generate, preparePipelineModel, type GenerateOptions } from '../../../src/engine/pipeline/generate.ts';
import type { GenerationRequest } from '../../../src/engine/pipeline/generation-request.ts';
import { loadCheckpoint, type CheckpointComponent, type LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import type { WeightedLora } from '../../../src/engine/lora/lora-plan.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint, type TinyFamily } from '../../fixtures/checkpoints.ts';
import { writeTinyLora } from '../../fixtures/loras.ts';
import { tinyRequest } from './pipeline-harness.ts';

const sha = (data: ArrayBufferView): string => createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
const INPUT = { width: 64, height: 64, rgb: new Uint8Array(64 * 64 * 3).map((_, i) => (i * 37) % 256) };

describe('components built by what a job uses', () => {
  let dir: string;
  const files = new Map<TinyFamily, string>();
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-residency-'));
    for (const family of ['sd15', 'sdxl', 'sdxl-refiner'] as const) files.set(family, await writeTinyCheckpoint(dir, family));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A checkpoint with nothing built yet, as the application loads it. */
  async function openLazy(family: TinyFamily, loras?: WeightedLora[]): Promise<LoadedCheckpoint> {
    const header = await readSafetensorsHeader(files.get(family)!);
    const { architecture } = inspectHeader(header);
    return loadCheckpoint(header, architecture, {
      components: [],
      text: architecture.textEncoders.map(() => ({ clipSkip: 1, finalLayerNorm: family === 'sd15' })),
      runtime: { threads: 2 },
      ...(loras ? { loras } : {}),
    });
  }

  async function run(loaded: LoadedCheckpoint, request: GenerationRequest, options: GenerateOptions = {}): Promise<{ image: string; latent: string; builds: string[] }> {
    const builds: string[] = [];
    const [result] = await generate({ base: preparePipelineModel('m', loaded, ClipTokenizer.byteLevel()) }, request, { ...options, onComponent: (model, component) => builds.push(component) });
    return { image: sha(result!.image.rgb), latent: sha(result!.latent.data), builds };
  }

  it('text-to-image builds the text encoders, the UNet and the VAE decoder, and no VAE encoder; image-to-image adds the encoder', async () => {
    const loaded = await openLazy('sd15');
    try {
      assert.deepEqual(loaded.sessionsBuilt, { unet: 0, text: 0, 'vae-decoder': 0, 'vae-encoder': 0 });
      const first = await run(loaded, tinyRequest({ steps: 2 }));
      assert.deepEqual(first.builds, ['text', 'unet', 'vae-decoder']);
      assert.deepEqual(loaded.sessionsBuilt, { unet: 1, text: 1, 'vae-decoder': 1, 'vae-encoder': 0 });
      assert.equal(loaded.vaeEncoder, null);

      const second = await run(loaded, tinyRequest({ steps: 2, input: { image: INPUT, denoise: 0.6 } }));
      assert.deepEqual(second.builds, ['vae-encoder'], 'resident components stay built; only the encoder is new');
      assert.deepEqual(loaded.sessionsBuilt, { unet: 1, text: 1, 'vae-decoder': 1, 'vae-encoder': 1 });
    } finally {
      await loaded.release();
    }
  });

  it('per-phase gives the same pixels as resident, bit for bit, for text-to-image and image-to-image', async () => {
    const resident = await openLazy('sd15');
    const perPhase = await openLazy('sd15');
    try {
      for (const request of [tinyRequest({ steps: 3 }), tinyRequest({ steps: 3, sampler: 'euler', input: { image: INPUT, denoise: 0.7 } })]) {
        const a = await run(resident, request, { memory: 'resident' });
        const b = await run(perPhase, request, { memory: 'per-phase' });
        assert.equal(b.latent, a.latent);
        assert.equal(b.image, a.image);
        // Each phase starts with the previous phase's components released: only the decoder is left.
        assert.equal(perPhase.unet, null);
        assert.equal(perPhase.textEncoders.length, 0);
        assert.equal(perPhase.vaeEncoder, null);
        assert.ok(perPhase.vaeDecoder !== null);
      }
      assert.deepEqual(perPhase.sessionsBuilt, { unet: 2, text: 2, 'vae-decoder': 2, 'vae-encoder': 1 });
      assert.deepEqual(resident.sessionsBuilt, { unet: 1, text: 1, 'vae-decoder': 1, 'vae-encoder': 1 });
    } finally {
      await resident.release();
      await perPhase.release();
    }
  });

  it('per-phase builds each phase again for every image of a request, with the same images as resident', async () => {
    const resident = await openLazy('sd15');
    const perPhase = await openLazy('sd15');
    try {
      const request = tinyRequest({ steps: 2, imageCount: 2 });
      const a = await generate({ base: preparePipelineModel('m', resident, ClipTokenizer.byteLevel()) }, request);
      const b = await generate({ base: preparePipelineModel('m', perPhase, ClipTokenizer.byteLevel()) }, request, { memory: 'per-phase' });
      assert.deepEqual(b.map((r) => sha(r.image.rgb)), a.map((r) => sha(r.image.rgb)));
      assert.deepEqual(perPhase.sessionsBuilt, { unet: 2, text: 2, 'vae-decoder': 2, 'vae-encoder': 0 });
    } finally {
      await resident.release();
      await perPhase.release();
    }
  });

  it('a LoRA applied before its graphs are built gives the same image as one applied after', async () => {
    const loraFile = path.join(dir, 'lora.safetensors');
    const U = 'model.diffusion_model.';
    const TE = 'cond_stage_model.transformer.text_model.';
    await writeTinyLora(loraFile, files.get('sd15')!, {
      dialect: 'kohya',
      seed: 5,
      modules: [
        { module: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', target: `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight`, rank: 2, alpha: 2 },
        { module: 'lora_te_text_model_encoder_layers_0_self_attn_v_proj', target: `${TE}encoder.layers.0.self_attn.v_proj.weight`, rank: 2, alpha: 2 },
      ],
    });
    const loras = [{ lora: await readLoraFile(loraFile), weight: 0.8 }];
    const early = await openLazy('sd15');
    const late = await openLazy('sd15');
    const plain = await openLazy('sd15');
    try {
      await early.applyLoras(loras); // nothing is built yet: the slots are remembered
      await late.ensureComponents(['text', 'unet', 'vae-decoder']);
      await late.applyLoras(loras);
      const request = tinyRequest({ steps: 2 });
      const [a, b, c] = [await run(early, request, { memory: 'per-phase' }), await run(late, request), await run(plain, request)];
      assert.equal(a.image, b.image);
      assert.notEqual(a.image, c.image, 'the LoRA must change the image');
    } finally {
      await Promise.all([early.release(), late.release(), plain.release()]);
    }
  });

  it('the vae refiner switch adds the base decoder and the refiner encoder to the sample phase', async () => {
    const base = await openLazy('sdxl');
    const refiner = await openLazy('sdxl-refiner');
    try {
      const models = { base: preparePipelineModel('base', base, ClipTokenizer.byteLevel()), refiner: preparePipelineModel('refiner', refiner, ClipTokenizer.byteLevel()) };
      const request = tinyRequest({ steps: 4, cfg: 1, refinerSwitch: 0.5, refinerSwitchMethod: 'vae' });
      const builds: string[] = [];
      const [resident] = await generate(models, request, { onComponent: (model, component) => builds.push(`${model}:${component}`) });
      assert.deepEqual(builds, ['base:text', 'base:unet', 'base:vae-decoder', 'refiner:text', 'refiner:unet', 'refiner:vae-encoder']);
      const [perPhase] = await generate(models, request, { memory: 'per-phase' });
      assert.equal(sha(perPhase!.image.rgb), sha(resident!.image.rgb));
      const sample: CheckpointComponent[] = ['unet', 'vae-decoder'];
      assert.deepEqual(planPhaseComponents({ encodesImage: false, refines: true, vaeSwitch: true, standaloneVae: false, baseDecodes: true }).sample, { base: sample, refiner: ['unet', 'vae-encoder'], vae: [] });
    } finally {
      await base.release();
      await refiner.release();
    }
  });
});
