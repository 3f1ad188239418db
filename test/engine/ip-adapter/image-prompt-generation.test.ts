/**
 * Generation with image prompts on a tiny SDXL model: a prompt of weight 0 or stop 0 gives the plain generation's
 * pixels bit for bit; an active one changes them; bad image prompts are refused naming the field.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generate, type PipelineModels } from '../../../src/engine/pipeline/generate.ts';
import { InvalidGenerationRequestError } from '../../../src/engine/pipeline/generation-request.ts';
import type { ImagePromptEmbedding } from '../../../src/engine/pipeline/image-guidance.ts';
import type { LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import { encodeTinyImagePrompt, loadTinyUnetVariant } from '../pipeline/guidance-harness.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from '../pipeline/pipeline-harness.ts';

describe('generation with image prompts', () => {
  let tiny: LoadedTinyModel;
  let promptUnet: LoadedCheckpoint;
  let models: PipelineModels;
  let embedding: ImagePromptEmbedding;
  before(async () => {
    tiny = await loadTinyPipelineModel('sdxl', 1, { components: ['unet', 'text', 'vae-decoder'] });
    promptUnet = await loadTinyUnetVariant(tiny, { imagePrompts: true });
    models = { base: tiny.model, imagePromptUnet: promptUnet.unet! };
    embedding = await encodeTinyImagePrompt(tiny.dir, tiny.header, tiny.loaded.architecture.unet!, { stopAt: 0.5, weight: 0.6 });
  });
  after(async () => {
    await promptUnet.release();
    await tiny.release();
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
