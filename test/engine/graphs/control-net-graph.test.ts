import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ControlModelError, planControlLora } from '../../../src/engine/control/control-lora.ts';
import { buildControlNetGraph, controlOutputNames } from '../../../src/engine/graphs/control-net.ts';
import { buildUnetGraph } from '../../../src/engine/graphs/unet.ts';
import { readSafetensorsHeader, readTensorAsFloat32 } from '../../../src/engine/io/safetensors-reader.ts';
import { writeSafetensors } from '../../../src/engine/io/safetensors-writer.ts';
import type { SafetensorsHeader } from '../../../src/engine/io/safetensors-types.ts';
import type { UnetConfig } from '../../../src/engine/models/architecture.ts';
import { encodeOnnxModel } from '../../../src/engine/onnx/onnx-proto.ts';
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
    const model = buildControlNetGraph(sdxl.header, cfg, plan.hintChannels, { ...plan, weightsRoot: dir });
    const inputs = inputsFor(0.7);
    const out = await runModel(encodeOnnxModel(model), dir, {
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
    const controlOut = await runModel(encodeOnnxModel(buildControlNetGraph(sdxl.header, cfg, 3, { ...plan, weightsRoot: dir })), dir, {
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
