/**
 * One UNet graph with both image prompt and control residual inputs serves every guided step of a job: steps
 * where only image prompts or only controls are active get neutral values for the other inputs, and the result
 * is, bit for bit, what the three graphs built for each mix (image prompts only, controls only, both) give.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { computeControlMap, grayToRgb } from '../../../src/engine/control/control-map.ts';
import type { ControlNetModel } from '../../../src/engine/pipeline/control-lora-model.ts';
import { generate, type PipelineModel } from '../../../src/engine/pipeline/generate.ts';
import type { ControlHint, ImagePromptEmbedding } from '../../../src/engine/pipeline/image-guidance.ts';
import type { LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';
import { countRuns, encodeTinyImagePrompt, loadTinyControlNet, loadTinyUnetVariant } from '../pipeline/guidance-harness.ts';
import { loadTinyPipelineModel, tinyRequest, type LoadedTinyModel } from '../pipeline/pipeline-harness.ts';

describe('one UNet graph for image prompts and controls', () => {
  let tiny: LoadedTinyModel;
  const held: LoadedCheckpoint[] = [];
  let base: PipelineModel;
  const unets: Record<'prompts' | 'controls' | 'both', ModelSession> = {} as Record<'prompts' | 'controls' | 'both', ModelSession>;
  let net: ControlNetModel;
  let embedding: ImagePromptEmbedding;
  before(async () => {
    tiny = await loadTinyPipelineModel('sdxl', 1, { components: ['unet', 'text', 'vae-decoder'] });
    const { header } = tiny;
    const unet = tiny.loaded.architecture.unet!;
    base = tiny.model;
    const variants = { prompts: { imagePrompts: true }, controls: { controlResiduals: true }, both: { imagePrompts: true, controlResiduals: true } } as const;
    for (const [name, options] of Object.entries(variants)) {
      const variant = await loadTinyUnetVariant(tiny, options);
      held.push(variant);
      unets[name as keyof typeof variants] = variant.unet!;
    }
    net = await loadTinyControlNet(tiny.dir, header, unet);
    embedding = await encodeTinyImagePrompt(tiny.dir, header, unet, { stopAt: 0.5, weight: 1.5 });
  });
  after(async () => {
    await net.release();
    for (const l of held) await l.release();
    await tiny.release();
  });

  const map = grayToRgb(computeControlMap('PyraCanny', controlTestImage(64, 64, 5)));

  it('gives, with only prompts, only controls and both active in turn, the three graphs’ latents bit for bit', async () => {
    // 6 steps: the prompt is active for steps 0-4, the control for 0-1: both, then prompts alone, then neither
    const mixed = (promptStop: number, controlStop: number) =>
      tinyRequest({ steps: 6, imagePrompts: [{ ...embedding, stopAt: promptStop }], controls: [{ type: 'PyraCanny', map, weight: 1, stopAt: controlStop } satisfies ControlHint] });
    const both = countRuns(unets.both);
    for (const [promptStop, controlStop] of [[0.8, 0.3], [0.3, 0.8]] as const) {
      const [three] = await generate({ base, imagePromptUnet: unets.prompts, controls: { unet: unets.controls, unetWithImagePrompts: unets.both, nets: { PyraCanny: net } } }, mixed(promptStop, controlStop));
      both.calls = 0;
      const [one] = await generate({ base, imagePromptUnet: unets.both, controls: { unet: unets.both, unetWithImagePrompts: unets.both, nets: { PyraCanny: net } } }, mixed(promptStop, controlStop));
      assert.deepEqual(one!.latent.data, three!.latent.data, `prompt stop ${promptStop}, control stop ${controlStop}`);
      assert.equal(both.calls, 5, 'the graph with both inputs ran every guided step: two with both kinds, three with one kind');
    }
  });
});
