/**
 * Generation with image prompts on a tiny SDXL model: a prompt of weight 0 or stop 0 gives the plain generation's
 * pixels bit for bit; an active one changes them; bad image prompts are refused naming the field.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ipAdapterLayerOrder } from '../../../src/engine/graphs/decoupled-attention.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { loadImagePromptEncoder } from '../../../src/engine/ip-adapter/image-prompt-encoder.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { generate, preparePipelineModel, type PipelineModels } from '../../../src/engine/pipeline/generate.ts';
import { InvalidGenerationRequestError } from '../../../src/engine/pipeline/generation-request.ts';
import type { ImagePromptEmbedding } from '../../../src/engine/pipeline/image-guidance.ts';
import { loadCheckpoint, type LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, TINY_VISION, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { tinyRequest } from '../pipeline/pipeline-harness.ts';

describe('generation with image prompts', () => {
  let dir: string;
  let loaded: LoadedCheckpoint;
  let promptUnet: LoadedCheckpoint;
  let models: PipelineModels;
  let embedding: ImagePromptEmbedding;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-ip-gen-'));
    const header = await readSafetensorsHeader(await writeTinyCheckpoint(dir, 'sdxl'));
    const { architecture } = inspectHeader(header);
    const runtime = { threads: 2 };
    loaded = await loadCheckpoint(header, architecture, { components: ['unet', 'text', 'vae-decoder'], text: architecture.textEncoders.map(() => ({ clipSkip: 1, finalLayerNorm: false })), runtime });
    promptUnet = await loadCheckpoint(header, architecture, { components: ['unet'], unet: { imagePrompts: true }, runtime });
    models = { base: preparePipelineModel('sdxl', loaded, ClipTokenizer.byteLevel()), imagePromptUnet: promptUnet.unet! };
    const unet = architecture.unet!;
    const widths = ipAdapterLayerOrder(unet).map((p) => header.tensors.get(`${p}to_q.weight`)!.shape[0]!);
    const encoder = await loadImagePromptEncoder(
      {
        visionEncoder: await writeTinyModel(dir, 'vision.safetensors', generateTinyVisionEncoder()),
        adapter: await writeTinyModel(dir, 'adapter.safetensors', generateTinyIpAdapter(widths, unet.contextDim)),
        negative: await writeTinyModel(dir, 'negative.safetensors', generateTinyIpNegative()),
      },
      unet,
      widths,
      { visionOverrides: { heads: TINY_VISION.heads, activation: 'gelu' }, runtime },
    );
    const image = { width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 29) % 256) };
    embedding = await encoder.encode(image, 'ImagePrompt', { stopAt: 0.5, weight: 0.6 });
    await encoder.release();
  });
  after(async () => {
    await loaded.release();
    await promptUnet.release();
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives the plain pixels bit for bit at weight 0 or stop 0, other pixels when active', async () => {
    const [plain] = await generate(models, tinyRequest());
    const [weightZero] = await generate(models, tinyRequest({ imagePrompts: [{ ...embedding, weight: 0 }] }));
    const [stopZero] = await generate(models, tinyRequest({ imagePrompts: [{ ...embedding, stopAt: 0 }, { ...embedding, weight: 0 }] }));
    assert.deepEqual(weightZero!.image.rgb, plain!.image.rgb);
    assert.deepEqual(stopZero!.image.rgb, plain!.image.rgb);
    assert.deepEqual(weightZero!.latent.data, plain!.latent.data);
    const [guided] = await generate(models, tinyRequest({ imagePrompts: [{ ...embedding, weight: 2, stopAt: 1 }] }));
    assert.notDeepEqual(guided!.latent.data, plain!.latent.data);
  });

  it('refuses more than four prompts and a weight out of range, naming the field', async () => {
    const five = Array.from({ length: 5 }, () => embedding);
    await assert.rejects(generate(models, tinyRequest({ imagePrompts: five })), (err: unknown) => err instanceof InvalidGenerationRequestError && err.field === 'imagePrompts');
    await assert.rejects(generate(models, tinyRequest({ imagePrompts: [{ ...embedding, weight: 2.1 }] })), (err: unknown) => err instanceof InvalidGenerationRequestError && err.field === 'imagePrompts[0].weight');
    await assert.rejects(generate({ base: models.base }, tinyRequest({ imagePrompts: [embedding] })), /image prompt inputs/);
  });
});
