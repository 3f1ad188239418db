/**
 * LoRAs through the app: the generation service binds a request's LoRAs to the cached base model (rebuilding a
 * graph only for weights it has no slot for), records them in the image metadata, and gives the base image
 * back at weight 0; the worker resolves LoRA names through the model store and refuses unknown ones by name.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AppGenerationRequest, VerifiedLora } from '../../../src/app/generation/app-generation-request.ts';
import { GenerationService } from '../../../src/app/generation/generation-service.ts';
import { importModel } from '../../../src/app/models/import-model.ts';
import { openModelStore } from '../../../src/app/models/model-store.ts';
import { InferenceWorker, WorkerJobError } from '../../../src/app/worker/inference-worker.ts';
import type { ImageRequest } from '../../../src/app/generation/image-request.ts';
import { decodePng } from '../../../src/engine/output/png.ts';
import { readPngTextChunks } from '../../../src/engine/output/png-text.ts';
import { sha256File } from '../../../src/engine/io/sha256.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { tinyImageRequest, tinyRequestFields } from '../../fixtures/generation-requests.ts';
import { writeTinyLora, type TinyLoraSpec } from '../../fixtures/loras.ts';

const U = 'model.diffusion_model.';
const TE = 'cond_stage_model.transformer.text_model.';

const ATTENTION_LORA: TinyLoraSpec = {
  dialect: 'kohya',
  seed: 21,
  modules: [
    { module: 'lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q', target: `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight`, rank: 4, alpha: 4 },
    { module: 'lora_unet_up_blocks_1_attentions_2_proj_out', target: `${U}output_blocks.4.1.proj_out.weight`, rank: 4, alpha: 4 },
    { module: 'lora_te_text_model_encoder_layers_0_self_attn_v_proj', target: `${TE}encoder.layers.0.self_attn.v_proj.weight`, rank: 4, alpha: 4 },
  ],
};

/** Adapts a subset of ATTENTION_LORA's weights, so switching to it needs no rebuild. */
const SUBSET_LORA: TinyLoraSpec = {
  dialect: 'peft',
  seed: 22,
  modules: [{ module: 'unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q', target: `${U}input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight`, rank: 2 }],
};

describe('LoRAs in the generation service', () => {
  let dir: string;
  let checkpoint: string;
  let sha: string;
  let service: GenerationService;
  const loras: Record<string, VerifiedLora> = {};

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-lora-app-'));
    await mkdir(path.join(dir, 'outputs'));
    checkpoint = await writeTinyCheckpoint(dir, 'sd15');
    sha = await sha256File(checkpoint);
    for (const [name, spec] of [['attention', ATTENTION_LORA], ['subset', SUBSET_LORA]] as const) {
      const file = path.join(dir, `${name}.safetensors`);
      await writeTinyLora(file, checkpoint, spec);
      loras[name] = { path: file, sha256: await sha256File(file), name: `${name}.safetensors`, weight: 1 };
    }
    service = new GenerationService({ runtime: { threads: 2 }, outputsDir: path.join(dir, 'outputs'), loadTokenizer: async () => ClipTokenizer.byteLevel(), software: 'Fooocus-TS test' });
  });
  after(async () => {
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (extra: Partial<AppGenerationRequest> = {}): AppGenerationRequest => ({
    ...tinyRequestFields('a lighthouse'),
    model: { path: checkpoint, sha256: sha },
    steps: 2,
    seed: 9n,
    ...extra,
  });
  test('a LoRA changes the image; weight 0 and no LoRA give the base image; switching to a covered set rebuilds nothing', async () => {
    const [base] = await service.generate(request());
    const [withLora] = await service.generate(request({ loras: [loras.attention!] }));
    assert.deepEqual(service.lastLoraSwitch?.rebuilt.sort(), ['text0', 'unet']);
    assert.notDeepEqual(await decodedPixels(withLora!.path), await decodedPixels(base!.path), 'the LoRA changed nothing');

    const [subset] = await service.generate(request({ loras: [{ ...loras.subset!, weight: -0.5 }] }));
    assert.deepEqual(service.lastLoraSwitch?.rebuilt, [], 'a set the graphs already cover only rebinds values');
    assert.notDeepEqual(await decodedPixels(subset!.path), await decodedPixels(withLora!.path));

    const [zero] = await service.generate(request({ loras: [{ ...loras.attention!, weight: 0 }] }));
    const [none] = await service.generate(request());
    // Same pixels; the files differ only in their metadata (the LoRA list).
    assert.deepEqual(await decodedPixels(zero!.path), await decodedPixels(base!.path));
    assert.deepEqual(await decodedPixels(none!.path), await decodedPixels(base!.path));
  });

  test('the image metadata lists each LoRA with its weight and hash', async () => {
    const [saved] = await service.generate(request({ loras: [{ ...loras.attention!, weight: 0.75 }] }));
    const chunks = readPngTextChunks(new Uint8Array(await readFile(saved!.path)));
    const json = JSON.parse(chunks.parameters ?? '{}') as { loras?: [string, number, string][] };
    assert.deepEqual(json.loras, [['attention.safetensors', 0.75, loras.attention!.sha256.slice(0, 10)]]);
  });
});

async function decodedPixels(file: string): Promise<Uint8Array> {
  return decodePng(new Uint8Array(await readFile(file))).rgb;
}

describe('LoRAs by name through the inference worker', () => {
  let dir: string;
  let worker: InferenceWorker;
  let model: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-lora-worker-'));
    for (const d of ['models', 'outputs', 'cache']) await mkdir(path.join(dir, d), { mode: 0o755 });
    const file = await writeTinyCheckpoint(dir, 'sd15');
    const store = await openModelStore(path.join(dir, 'models'));
    model = (await importModel(store, file, { kind: 'checkpoints' })).name;
    const loraFile = path.join(dir, 'detail.safetensors');
    await writeTinyLora(loraFile, file, ATTENTION_LORA);
    await importModel(store, loraFile, { kind: 'loras' });
    worker = new InferenceWorker({ modelsDir: path.join(dir, 'models'), outputsDir: path.join(dir, 'outputs'), cacheDir: path.join(dir, 'cache'), threads: 1, executionProvider: 'cpu', software: 'Fooocus-TS test' });
  });
  after(async () => {
    await worker.close();
    await rm(dir, { recursive: true, force: true });
  });

  const request = (loras: ImageRequest['loras']): ImageRequest => ({
    ...tinyImageRequest(),
    model,
    loras,
    steps: 2,
  });

  test('a trusted LoRA is found by its name with or without the extension', async () => {
    const [a] = await worker.generate(request([{ name: 'detail', weight: 1 }]), 0);
    const [b] = await worker.generate(request([{ name: 'detail.safetensors', weight: 1 }]), 0);
    assert.deepEqual(await decodedPixels(a!.path), await decodedPixels(b!.path));
  });

  test('an unknown LoRA fails the job with a message naming it and how to add it', async () => {
    await assert.rejects(worker.generate(request([{ name: 'missing-style', weight: 1 }]), 0), (err: unknown) => {
      return err instanceof WorkerJobError && err.userError && /LoRA "missing-style" is not in the model store.*npm run fooocus -- models import/.test(err.message);
    });
  });
});
