/**
 * One UNet graph with both image prompt and control residual inputs serves every guided step of a job: steps
 * where only image prompts or only controls are active get neutral values for the other inputs, and the result
 * is, bit for bit, what the three graphs built for each mix (image prompts only, controls only, both) give.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { computeControlMap, grayToRgb } from '../../../src/engine/control/control-map.ts';
import { ipAdapterLayerOrder } from '../../../src/engine/graphs/decoupled-attention.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { loadImagePromptEncoder } from '../../../src/engine/ip-adapter/image-prompt-encoder.ts';
import { inspectHeader } from '../../../src/engine/models/inspect.ts';
import { loadControlNet, type ControlNetModel } from '../../../src/engine/pipeline/control-lora-model.ts';
import { generate, preparePipelineModel, type PipelineModel } from '../../../src/engine/pipeline/generate.ts';
import type { ControlHint, ImagePromptEmbedding } from '../../../src/engine/pipeline/image-guidance.ts';
import { loadCheckpoint, type LoadedCheckpoint } from '../../../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import { ClipTokenizer } from '../../../src/engine/text/clip-tokenizer.ts';
import { writeTinyCheckpoint } from '../../fixtures/checkpoints.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { controlTestImage } from '../../fixtures/control-maps/control-test-image.ts';
import { generateTinyIpAdapter, generateTinyIpNegative, generateTinyVisionEncoder, TINY_VISION, writeTinyModel } from '../../fixtures/image-prompt-models.ts';
import { tinyRequest } from '../pipeline/pipeline-harness.ts';

function countRuns(session: ModelSession): { calls: number } {
  const counter = { calls: 0 };
  const run = session.run.bind(session);
  session.run = (feeds, signal) => {
    counter.calls++;
    return run(feeds, signal);
  };
  return counter;
}

describe('one UNet graph for image prompts and controls', () => {
  let dir: string;
  const held: LoadedCheckpoint[] = [];
  let base: PipelineModel;
  const unets: Record<'prompts' | 'controls' | 'both', ModelSession> = {} as Record<'prompts' | 'controls' | 'both', ModelSession>;
  let net: ControlNetModel;
  let embedding: ImagePromptEmbedding;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-mixed-guidance-'));
    const file = await writeTinyCheckpoint(dir, 'sdxl');
    const header = await readSafetensorsHeader(file);
    const { architecture } = inspectHeader(header);
    const unet = architecture.unet!;
    const runtime = { threads: 2 };
    const loaded = await loadCheckpoint(header, architecture, { components: ['unet', 'text', 'vae-decoder'], text: architecture.textEncoders.map(() => ({ clipSkip: 1, finalLayerNorm: false })), runtime });
    held.push(loaded);
    base = preparePipelineModel('sdxl', loaded, ClipTokenizer.byteLevel());
    const variants = { prompts: { imagePrompts: true }, controls: { controlResiduals: true }, both: { imagePrompts: true, controlResiduals: true } } as const;
    for (const [name, options] of Object.entries(variants)) {
      const variant = await loadCheckpoint(header, architecture, { components: ['unet'], unet: options, runtime });
      held.push(variant);
      unets[name as keyof typeof variants] = variant.unet!;
    }
    const controlFile = path.join(dir, 'control.safetensors');
    await writeSafetensors(controlFile, generateTinyControlLora(unet));
    net = await loadControlNet(controlFile, header, unet, runtime);
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
    embedding = await encoder.encode({ width: 32, height: 32, rgb: new Uint8Array(32 * 32 * 3).map((_, i) => (i * 29) % 256) }, 'ImagePrompt', { stopAt: 0.5, weight: 1.5 });
    await encoder.release();
  });
  after(async () => {
    await net.release();
    for (const l of held) await l.release();
    rmSync(dir, { recursive: true, force: true });
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
