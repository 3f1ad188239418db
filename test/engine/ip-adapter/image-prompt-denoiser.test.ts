/**
 * The denoiser with image prompts: a step where no prompt is active (weight 0, or at and past "stop at") runs the
 * plain UNet graph and so returns the plain generation's values bit for bit; an active step runs the graph with
 * image prompt inputs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ImagePromptEmbedding } from '../../../src/engine/pipeline/image-guidance.ts';
import type { DenoiserStage } from '../../../src/engine/pipeline/unet-denoiser.ts';
import type { ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { fromRef, loadTinyFixture, sampleInput, type TinyFixture } from '../graphs/graph-harness.ts';
import { countRuns, createTinyUnetSession, denoiseSampleAt, ipLayerWidths, sampleStageConditioning } from '../pipeline/guidance-harness.ts';

describe('image prompts in the denoiser', () => {
  let fx: TinyFixture;
  let plain: ModelSession;
  let withPrompts: ModelSession;
  let embeddings: (weight: number, stopAt: number) => ImagePromptEmbedding;
  let stage: Omit<DenoiserStage, 'unet'>;
  before(async () => {
    fx = await loadTinyFixture('sdxl');
    const cfg = fx.architecture.unet!;
    plain = await createTinyUnetSession(fx);
    withPrompts = await createTinyUnetSession(fx, { imagePrompts: true });
    const widths = ipLayerWidths(fx.header, cfg);
    const kv = (seed: number) => ({ keys: widths.map((w, i) => fromRef(sampleInput([1, 4, w], seed + i))), values: widths.map((w, i) => fromRef(sampleInput([1, 4, w], seed + 50 + i))) });
    embeddings = (weight, stopAt) => ({ type: 'ImagePrompt', weight, stopAt, positive: kv(100), negative: kv(200) });
    stage = sampleStageConditioning(cfg);
  });
  after(async () => {
    await plain.release();
    await withPrompts.release();
    fx.cleanup();
  });

  function denoiseAt(step: number, prompts: ImagePromptEmbedding[] | null): Promise<Tensor> {
    return denoiseSampleAt({ ...stage, unet: plain, ...(prompts === null ? {} : { imagePrompts: { unet: withPrompts, prompts, steps: 4 } }) }, step);
  }

  it('runs the plain graph, bit for bit, at weight 0 and from the stop step on', async () => {
    const plainCalls = countRuns(plain);
    const promptCalls = countRuns(withPrompts);
    for (const step of [0, 1, 2, 3]) {
      const reference = await denoiseAt(step, null);
      assert.deepEqual((await denoiseAt(step, [embeddings(0, 1)])).data, reference.data, `weight 0, step ${step}`);
      if (step >= 2) assert.deepEqual((await denoiseAt(step, [embeddings(0.6, 0.5)])).data, reference.data, `stop 0.5, step ${step}`);
    }
    assert.equal(promptCalls.calls, 0);
    assert.ok(plainCalls.calls >= 10);
  });

  it('runs the image prompt graph while a prompt is active, and its result differs', async () => {
    const promptCalls = countRuns(withPrompts);
    const reference = await denoiseAt(1, null);
    const guided = await denoiseAt(1, [embeddings(0.6, 0.5), embeddings(1.2, 1)]);
    assert.equal(promptCalls.calls, 1, 'one batched call for the positive and negative rows');
    assert.ok(guided.data.some((v, i) => Math.abs(v - reference.data[i]!) > 1e-4));
  });
});
