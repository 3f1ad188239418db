/**
 * ControlNet benchmark in its own process: what a PyraCanny/CPDS control costs per sampling step on a full-size
 * random-weight checkpoint. A control-LoRA of the released layout (hint encoder, zero convs, middle block out;
 * F16) is written once; the ControlNet graph is the UNet's down path and middle block over the checkpoint's
 * weights. Prints one JSON line with the UNet step (batch 2) without a control, the hint encoder (once per
 * control image, not per step), the ControlNet step, the UNet step with residual inputs, and the overhead of a
 * controlled step over a plain one.
 * Usage: node --import tsx bench/control-case.ts <sd15|sdxl> <cacheDir> [image size|default] [runs]
 *   runs: timed runs per variant (default 2: the first warms up, the second is timed; 1 times the first run,
 *   which includes its allocations, the same way for every variant)
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { skipChannelsOf } from '../src/engine/control/control-lora.ts';
import { float32ToFloat16Bits } from '../src/engine/io/half-float.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import type { TensorToWrite } from '../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../src/engine/io/safetensors-writer.ts';
import type { UnetConfig } from '../src/engine/models/architecture.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { loadControlledUnet, loadControlNet } from '../src/engine/pipeline/control-lora-model.ts';
import { loadCheckpoint } from '../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession } from '../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../src/engine/tensor.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [family, cacheDir, sizeArg, runsArg] = process.argv.slice(2) as ['sd15' | 'sdxl', string, string?, string?];
const size = sizeArg === undefined || sizeArg === 'default' ? (family === 'sd15' ? 512 : 1024) : Number(sizeArg);
const runs = Number(runsArg ?? 2);
if (runs !== 1 && runs !== 2) throw new Error(`runs must be 1 or 2, got "${runsArg}"`);

function filled(dims: number[], phase: number): Tensor {
  const t = createTensor(dims);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(i * 12.9898 + phase) * 0.5;
  return t;
}

/** Writes (once) the ControlNet-only tensors of a control-LoRA for this UNet, in F16. */
async function ensureControlLora(unet: UnetConfig): Promise<string> {
  const file = path.join(cacheDir, `${family}-control-lora.safetensors`);
  if (existsSync(file)) return file;
  const tensors: TensorToWrite[] = [{ name: 'lora_controlnet', dtype: 'F32', shape: [], data: Float32Array.of(1) }];
  let phase = 0;
  const add = (name: string, shape: number[], scale: number): void => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Uint16Array(n);
    phase += 1.618;
    for (let i = 0; i < n; i++) data[i] = float32ToFloat16Bits(Math.sin(i * 0.7548 + phase) * scale);
    tensors.push({ name, dtype: 'F16', shape, data });
  };
  const widths = [3, 16, 16, 32, 32, 96, 96, 256, unet.modelChannels];
  for (let i = 0; i < 8; i++) {
    add(`input_hint_block.${i * 2}.weight`, [widths[i + 1]!, widths[i]!, 3, 3], 1 / Math.sqrt(widths[i]! * 9));
    add(`input_hint_block.${i * 2}.bias`, [widths[i + 1]!], 0.01);
  }
  const skips = skipChannelsOf(unet);
  skips.forEach((c, i) => {
    add(`zero_convs.${i}.0.weight`, [c, c, 1, 1], 0.01);
    add(`zero_convs.${i}.0.bias`, [c], 0.01);
  });
  add('middle_block_out.0.weight', [skips.at(-1)!, skips.at(-1)!, 1, 1], 0.01);
  add('middle_block_out.0.bias', [skips.at(-1)!], 0.01);
  await writeSafetensors(file, tensors);
  return file;
}

/** Seconds of the timed run: the second of two (the first allocates), or the only one. */
async function timeRun(session: ModelSession, feeds: Record<string, Tensor>): Promise<[Record<string, Tensor>, number]> {
  if (runs === 2) await session.run(feeds);
  const t = performance.now();
  const out = await session.run(feeds);
  return [out, (performance.now() - t) / 1000];
}

const checkpoint = await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(checkpoint);
const { architecture } = inspectHeader(header);
const unet = architecture.unet!;
const feeds: Record<string, Tensor> = {
  x: filled([2, unet.inChannels, size / 8, size / 8], 0),
  timesteps: createTensor([2], new Float32Array([999, 999])),
  context: filled([2, 77, unet.contextDim], 1),
};
if (unet.admInChannels !== null) feeds.y = filled([2, unet.admInChannels], 2);
const controlFile = await ensureControlLora(unet);

// one model at a time, so the peak is the largest of them rather than their sum
const plain = await loadCheckpoint(header, architecture, { components: ['unet'] });
const [, plainStep] = await timeRun(plain.unet!, feeds);
await plain.release();

const net = await loadControlNet(controlFile, header, unet);
const hint = filled([1, 3, size, size], 3).data.map((v) => Math.abs(v));
const started = performance.now();
const features = await net.encodeHint({ dims: [1, 3, size, size], data: hint });
const hintEncoderSeconds = (performance.now() - started) / 1000;
const [residuals, controlNetStep] = await timeRun(net.session, { ...feeds, hint_features: features, strength: createTensor([1], Float32Array.of(1)) });
await net.release();

const controlled = await loadControlledUnet(header, unet, {}, path.dirname(checkpoint));
const [, controlledStep] = await timeRun(controlled, { ...feeds, ...residuals });
await controlled.release();

const controlStep = controlNetStep + controlledStep;
console.log(
  JSON.stringify({
    family,
    part: 'control',
    shape: `UNet batch 2 ${size}x${size}, one control-LoRA ControlNet`,
    plainStepSeconds: plainStep,
    controlNetStepSeconds: controlNetStep,
    controlledUnetStepSeconds: controlledStep,
    hintEncoderSeconds,
    runs,
    stepOverheadPercent: ((controlStep - plainStep) / plainStep) * 100,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
