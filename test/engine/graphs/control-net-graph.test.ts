import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControlModelError, planControlLora } from '../../../src/engine/control/control-lora.ts';
import { addControlNetStep, buildControlNetGraph, buildHintEncoder, buildHintEncoderGraph, controlOutputNames, HINT_FEATURES } from '../../../src/engine/graphs/control-net.ts';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import type { UnetConfig } from '../../../src/engine/models/architecture.ts';
import { GraphBuilder } from '../../../src/engine/onnx/graph-builder.ts';
import { encodeOnnxModel, type OnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
import { createModelSession } from '../../../src/engine/runtime/onnx-runtime.ts';
import type { Tensor } from '../../../src/engine/tensor.ts';
import { generateTinyControlLora } from '../../fixtures/control-loras.ts';
import { controlNetReference, mergeControlLoraWeights } from '../../reference/control-net.ts';
import type { RefTensor } from '../../reference/tensor.ts';
import { unetReference } from '../../reference/unet.ts';
import { fromRef, loadTinyFixture, maxAbsDiff, sampleInput, toRef, type TinyFixture } from './graph-harness.ts';

const TOLERANCE = 1e-4;

async function runModel(bytes: Uint8Array, dir: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const session = await createModelSession(bytes, dir, { threads: 2 });
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

async function readAll(header: SafetensorsHeader): Promise<Map<string, RefTensor>> {
  const map = new Map<string, RefTensor>();
  for (const [name, info] of header.tensors) map.set(name, { shape: info.shape, data: await readTensorAsFloat32(header, name) });
  return map;
}

/** The hint encoder's graph, then the per-step graph on its output: how a job runs a ControlNet. */
async function runSplit(header: SafetensorsHeader, cfg: UnetConfig, plan: ReturnType<typeof planControlLora>, dir: string, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const { hint, ...step } = feeds;
  const options = { ...plan, weightsRoot: dir };
  const features = (await runModel(encodeOnnxModel(buildHintEncoderGraph(header, cfg, plan.hintChannels, options)), dir, { hint: hint! }))[HINT_FEATURES]!;
  return runModel(encodeOnnxModel(buildControlNetGraph(header, cfg, options)), dir, { ...step, [HINT_FEATURES]: features });
}

/** The ControlNet as one graph with the hint encoder inside, as it ran before the split (the hint encoded per step). */
function buildOneGraphControlNet(header: SafetensorsHeader, cfg: UnetConfig, plan: ReturnType<typeof planControlLora>, dir: string): OnnxModel {
  const g = new GraphBuilder('controlnet-one-graph', header, { tensorSources: plan.tensorSources, lowRankDeltas: plan.lowRankDeltas, weightsRoot: dir });
  const hint = g.input('hint', 'float32', ['batch', plan.hintChannels, 'hint_height', 'hint_width']);
  addControlNetStep(g, cfg, buildHintEncoder(g, hint, plan.controlPrefix), plan);
  return g.build({});
}

describe('control-LoRA ControlNet graph (tiny SDXL)', () => {
  let sdxl: TinyFixture;
  let cfg: UnetConfig;
  let dir: string;
  let control: SafetensorsHeader;
  before(async () => {
    sdxl = await loadTinyFixture('sdxl');
    cfg = sdxl.architecture.unet!;
    dir = path.dirname(sdxl.file);
    const file = path.join(dir, 'control-lora-tiny.safetensors');
    await writeSafetensors(file, generateTinyControlLora(cfg));
    control = await readSafetensorsHeader(file);
  });
  after(() => sdxl.cleanup());

  const inputsFor = (strength: number) => ({
    x: sampleInput([1, 4, 8, 8], 11),
    hint: { shape: [1, 3, 64, 64], data: sampleInput([1, 3, 64, 64], 12).data.map((v) => Math.abs(v)) },
    timesteps: [421],
    context: sampleInput([1, 5, cfg.contextDim], 13),
    y: sampleInput([1, cfg.admInChannels!], 14),
    strength,
  });

  it('matches the reference forward pass built from the UNet plus the file (replaced tensors and low-rank deltas)', async () => {
    const plan = planControlLora(control, sdxl.header, cfg);
    assert.equal(plan.hintChannels, 3);
    assert.ok(plan.lowRankDeltas.size >= 3);
    const inputs = inputsFor(0.7);
    const out = await runSplit(sdxl.header, cfg, plan, dir, {
      x: fromRef(inputs.x),
      hint: fromRef(inputs.hint),
      timesteps: { dims: [1], data: Float32Array.from(inputs.timesteps) },
      context: fromRef(inputs.context),
      y: fromRef(inputs.y),
      strength: { dims: [1], data: Float32Array.of(inputs.strength) },
    });
    const weights = mergeControlLoraWeights(sdxl.weights, await readAll(control), cfg, plan.controlPrefix);
    const expected = controlNetReference(weights, cfg, plan.controlPrefix, inputs);
    const names = controlOutputNames(plan.skips);
    assert.equal(expected.skips.length, plan.skips);
    expected.skips.forEach((t, i) => assert.ok(maxAbsDiff(out[names[i]!]!, t) <= TOLERANCE, `${names[i]}: ${maxAbsDiff(out[names[i]!]!, t)}`));
    assert.ok(maxAbsDiff(out.control_middle!, expected.middle) <= TOLERANCE);
    // the deltas matter: without them the outputs move
    const plain = controlNetReference(mergeControlLoraWeights(sdxl.weights, new Map([...(await readAll(control))].filter(([k]) => !k.endsWith('.up'))), cfg, plan.controlPrefix), cfg, plan.controlPrefix, inputs);
    assert.ok(maxAbsDiff(out.control_middle!, plain.middle) > 1e-3);
  });

  it('feeds the UNet: residuals on the skips and middle match the reference, zero residuals give the plain UNet bit for bit', async () => {
    const plan = planControlLora(control, sdxl.header, cfg);
    const inputs = inputsFor(1);
    const controlOut = await runSplit(sdxl.header, cfg, plan, dir, {
      x: fromRef(inputs.x),
      hint: fromRef(inputs.hint),
      timesteps: { dims: [1], data: Float32Array.from(inputs.timesteps) },
      context: fromRef(inputs.context),
      y: fromRef(inputs.y),
      strength: { dims: [1], data: Float32Array.of(1) },
    });
    const base = { x: fromRef(inputs.x), timesteps: { dims: [1], data: Float32Array.from(inputs.timesteps) }, context: fromRef(inputs.context), y: fromRef(inputs.y) };
    const names = controlOutputNames(plan.skips);
    const controlled = encodeOnnxModel(buildUnetGraph(sdxl.header, cfg, { controlResiduals: true }));
    const withControl = await runModel(controlled, dir, { ...base, ...Object.fromEntries(names.map((n) => [n, controlOut[n]!])) });
    const expected = unetReference(sdxl.weights, cfg, inputs.x, inputs.timesteps, inputs.context, inputs.y, undefined, {
      skips: names.slice(0, -1).map((n) => toRef(controlOut[n]!)),
      middle: toRef(controlOut.control_middle!),
    });
    assert.ok(maxAbsDiff(withControl.out!, expected) <= TOLERANCE);

    const zeros = Object.fromEntries(names.map((n) => [n, { dims: controlOut[n]!.dims, data: new Float32Array(controlOut[n]!.data.length) }]));
    const withZeros = await runModel(controlled, dir, { ...base, ...zeros });
    const plain = await runModel(encodeOnnxModel(buildUnetGraph(sdxl.header, cfg)), dir, base);
    assert.deepEqual(withZeros.out!.data, plain.out!.data);
    assert.ok(maxAbsDiff(withControl.out!, toRef(plain.out!)) > 1e-3, 'the residuals change the prediction');
  });

  it('split into the hint encoder (once, one row) and the per-step graph: the residuals of the one-graph form, bit for bit', async () => {
    const plan = planControlLora(control, sdxl.header, cfg);
    const row = inputsFor(0.7);
    // two rows (a CFG batch): the one-graph form took the hint repeated per row, the split one row for all
    const twoRows = (t: RefTensor): Tensor => {
      const one = fromRef(t);
      const data = new Float32Array(2 * one.data.length);
      data.set(one.data);
      data.set(one.data.map((v) => v * 0.5 - 0.1), one.data.length);
      return { dims: [2, ...one.dims.slice(1)], data };
    };
    const hint = fromRef(row.hint);
    const repeated = { dims: [2, ...hint.dims.slice(1)], data: new Float32Array(2 * hint.data.length) };
    repeated.data.set(hint.data);
    repeated.data.set(hint.data, hint.data.length);
    const step = {
      x: twoRows(row.x),
      timesteps: { dims: [2], data: Float32Array.of(421, 421) },
      context: twoRows(row.context),
      y: twoRows(row.y),
      strength: { dims: [1], data: Float32Array.of(0.7) },
    };
    const oneGraph = await runModel(encodeOnnxModel(buildOneGraphControlNet(sdxl.header, cfg, plan, dir)), dir, { ...step, hint: repeated });
    const split = await runSplit(sdxl.header, cfg, plan, dir, { ...step, hint });
    for (const name of controlOutputNames(plan.skips)) {
      assert.deepEqual(split[name]!.dims, oneGraph[name]!.dims, name);
      assert.deepEqual(split[name]!.data, oneGraph[name]!.data, name);
    }
  });

  it('refuses, naming the file, a file without the marker, one made for another UNet size, and one for another family', async () => {
    const noMarker = path.join(dir, 'not-control.safetensors');
    await writeSafetensors(noMarker, generateTinyControlLora(cfg).filter((t) => t.name !== 'lora_controlnet'));
    const noMarkerHeader = await readSafetensorsHeader(noMarker);
    assert.throws(() => planControlLora(noMarkerHeader, sdxl.header, cfg), (e: unknown) => e instanceof ControlModelError && /not-control\.safetensors: is not a control-LoRA/.test(e.message));

    const wide = path.join(dir, 'wide.safetensors');
    await writeSafetensors(wide, generateTinyControlLora(cfg, { modelChannels: 64 }));
    const wideHeader = await readSafetensorsHeader(wide);
    assert.throws(() => planControlLora(wideHeader, sdxl.header, cfg), (e: unknown) => e instanceof ControlModelError && /wide\.safetensors: .*64 model channels, the checkpoint's has 32/.test(e.message));

    const sd15 = await loadTinyFixture('sd15');
    try {
      const sd15Cfg = sd15.architecture.unet!;
      assert.throws(() => planControlLora(control, sd15.header, sd15Cfg), (e: unknown) => e instanceof ControlModelError && /control-lora-tiny\.safetensors/.test(e.message));
    } finally {
      sd15.cleanup();
    }
  });
});
