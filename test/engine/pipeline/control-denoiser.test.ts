/**
 * The denoiser with control-LoRA ControlNets: a step where no control is active (weight 0, or at and past "stop
 * at") runs the plain UNet graph and returns the plain values bit for bit; an active step runs each active net
 * once per batched call and adds the summed residuals.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { planControlLora } from '../../../src/engine/control/control-lora.ts';
import { buildControlNetGraph, buildHintEncoderGraph, HINT_FEATURES } from '../../../src/engine/graphs/control-net.ts';
import { readSafetensorsHeader } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { toHintTensor, type StageControlNet } from '../../../src/engine/pipeline/control-feeds.ts';
import type { DenoiserStage } from '../../../src/engine/pipeline/unet-denoiser.ts';
import { createModelSession, type ModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { loadTinyFixture, type TinyFixture } from '../graphs/graph-harness.ts';
import { countRuns, createTinyUnetSession, denoiseSampleAt, sampleStageConditioning } from './guidance-harness.ts';

describe('controls in the denoiser', () => {
  let fx: TinyFixture;
  let plain: ModelSession;
  let controlled: ModelSession;
  let controlNet: ModelSession;
  let skips: number;
  let features: Tensor;
  let stage: Omit<DenoiserStage, 'unet'>;
  before(async () => {
    fx = await loadTinyFixture('sdxl');
    const cfg = fx.architecture.unet!;
    const dir = path.dirname(fx.file);
    const file = path.join(dir, 'control.safetensors');
    await writeSafetensors(file, generateTinyControlLora(cfg));
    const plan = planControlLora(await readSafetensorsHeader(file), fx.header, cfg);
    skips = plan.skips;
    plain = await createTinyUnetSession(fx);
    controlled = await createTinyUnetSession(fx, { controlResiduals: true });
    controlNet = await createModelSession(encodeOnnxModel(buildControlNetGraph(fx.header, cfg, { ...plan, weightsRoot: dir })), dir, { threads: 1 });
    const rgb = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 37) % 256);
    const hintEncoder = await createModelSession(encodeOnnxModel(buildHintEncoderGraph(fx.header, cfg, plan.hintChannels, { ...plan, weightsRoot: dir })), dir, { threads: 1 });
    features = (await hintEncoder.run({ hint: toHintTensor({ width: 64, height: 64, rgb }) }))[HINT_FEATURES]!;
    await hintEncoder.release();
    stage = sampleStageConditioning(cfg);
  });
  after(async () => {
    await plain.release();
    await controlled.release();
    await controlNet.release();
    fx.cleanup();
  });

  const net = (weight: number, stopAt: number): StageControlNet => ({ session: controlNet, features, weight, stopAt });

  function denoiseAt(step: number, nets: StageControlNet[] | null): Promise<Tensor> {
    return denoiseSampleAt({ ...stage, unet: plain, ...(nets === null ? {} : { controls: { unet: controlled, nets, skips, steps: 4 } }) }, step);
  }

  it('runs the plain graph, bit for bit, at weight 0 and from the stop step on', async () => {
    const controlledCalls = countRuns(controlled);
    const netCalls = countRuns(controlNet);
    for (const step of [0, 1, 2, 3]) {
      const reference = await denoiseAt(step, null);
      assert.deepEqual((await denoiseAt(step, [net(0, 1)])).data, reference.data, `weight 0, step ${step}`);
      if (step >= 2) assert.deepEqual((await denoiseAt(step, [net(1, 0.5)])).data, reference.data, `stop 0.5, step ${step}`);
      assert.deepEqual((await denoiseAt(step, [net(1, 0)])).data, reference.data, `stop 0, step ${step}`);
    }
    assert.equal(controlledCalls.calls, 0);
    assert.equal(netCalls.calls, 0);
  });

  it('adds the residuals while a control is active: one net call per batched UNet call, weights summed over nets', async () => {
    const netCalls = countRuns(controlNet);
    const reference = await denoiseAt(1, null);
    const guided = await denoiseAt(1, [net(1, 0.5)]);
    assert.equal(netCalls.calls, 1, 'one batched call for the positive and negative rows');
    assert.ok(guided.data.some((v, i) => Math.abs(v - reference.data[i]!) > 1e-4));
    // residuals scale with the weight, and two halves add up to the whole exactly
    const halves = await denoiseAt(1, [net(0.5, 0.5), net(0.5, 1)]);
    assert.deepEqual(halves.data, guided.data);
  });
});
