/**
 * LoRA benchmark in its own process: what a LoRA costs on a full-size random-weight checkpoint. Two kohya-style
 * LoRAs (rank 32, F16) adapt every attention, feed-forward and projection layer of the UNet and the text
 * encoders' attention, as typical style and character LoRAs do. Prints one JSON line with:
 *   - the UNet step (batch 2) without LoRAs and with one: the per-step overhead of the low-rank branches;
 *   - the first application (graphs rebuilt with adapter slots), then switching to the other LoRA and to none
 *     (values rebound, no rebuild), each including reading the LoRA file.
 * Usage: node --import tsx bench/lora-case.ts <sd15|sdxl> <cacheDir>
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { float32ToFloat16Bits } from '../src/engine/io/half-float.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import type { SafetensorsHeader, TensorToWrite } from '../src/engine/io/safetensors-types.ts';
import { writeSafetensors } from '../src/engine/io/safetensors-writer.ts';
import { readLoraFile } from '../src/engine/lora/lora-file.ts';
import { listAdapterTargets } from '../src/engine/lora/lora-targets.ts';
import type { CheckpointArchitecture } from '../src/engine/models/architecture.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { loadCheckpoint, type LoadedCheckpoint } from '../src/engine/pipeline/load-checkpoint.ts';
import { createTensor, type Tensor } from '../src/engine/tensor.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [family, cacheDir] = process.argv.slice(2) as ['sd15' | 'sdxl', string];
const RANK = 32;
const ADAPTED = /(attn[12]\.(to_q|to_k|to_v|to_out\.0)|ff\.net\.(0\.proj|2)|proj_in|proj_out|self_attn\.(q|k|v|out)_proj)$/;

function filled(dims: number[], phase: number): Tensor {
  const t = createTensor(dims);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(i * 12.9898 + phase) * 0.5;
  return t;
}

/** Writes (once) a rank-32 F16 LoRA over the adapted layers, in kohya naming; returns its path and module count. */
async function ensureLora(header: SafetensorsHeader, architecture: CheckpointArchitecture, seed: number): Promise<{ file: string; modules: number }> {
  const targets = [...listAdapterTargets(header, architecture)].filter(([, t]) => t.rows !== null || ADAPTED.test(t.key.replace(/\.weight$/, '')));
  // One name per weight part: the first (LDM-spelled for the UNet) of each key+rows.
  const seen = new Set<string>();
  const chosen = targets.filter(([, t]) => {
    const id = `${t.key}@${t.rows?.offset ?? 0}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  const file = path.join(cacheDir, `${family}-lora-r${RANK}-${seed}.safetensors`);
  if (existsSync(file)) return { file, modules: chosen.length };
  const tensors: TensorToWrite[] = [];
  let phase = seed;
  const half = (n: number, scale: number): Uint16Array => {
    const out = new Uint16Array(n);
    phase += 1.618;
    for (let i = 0; i < n; i++) out[i] = float32ToFloat16Bits(Math.sin(i * 0.7548 + phase) * scale);
    return out;
  };
  for (const [name, t] of chosen) {
    const fan = t.shape.slice(1).reduce((a, b) => a * b, 1);
    const rows = t.rows?.count ?? t.shape[0]!;
    tensors.push({ name: `${name}.lora_down.weight`, dtype: 'F16', shape: [RANK, ...t.shape.slice(1)], data: half(RANK * fan, 1 / Math.sqrt(fan)) });
    tensors.push({ name: `${name}.lora_up.weight`, dtype: 'F16', shape: t.shape.length === 4 ? [rows, RANK, 1, 1] : [rows, RANK], data: half(rows * RANK, 0.01) });
    tensors.push({ name: `${name}.alpha`, dtype: 'F32', shape: [], data: Float32Array.of(RANK / 2) });
  }
  await writeSafetensors(file, tensors);
  return { file, modules: chosen.length };
}

async function timeStep(model: LoadedCheckpoint, feeds: Record<string, Tensor>): Promise<number> {
  await model.unet!.run(feeds); // first run: allocations and prepacking
  const t = performance.now();
  await model.unet!.run(feeds);
  return (performance.now() - t) / 1000;
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await work();
  return [value, (performance.now() - t) / 1000];
}

const checkpoint = await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(checkpoint);
const { architecture } = inspectHeader(header);
const unet = architecture.unet!;
const size = family === 'sd15' ? 512 : 1024;
const feeds: Record<string, Tensor> = {
  x: filled([2, unet.inChannels, size / 8, size / 8], 0),
  timesteps: createTensor([2], new Float32Array([999, 999])),
  context: filled([2, 77, unet.contextDim], 1),
};
if (unet.admInChannels !== null) feeds.y = filled([2, unet.admInChannels], 2);
const a = await ensureLora(header, architecture, 1);
const b = await ensureLora(header, architecture, 2);

const base = await loadCheckpoint(header, architecture, { components: ['unet'] });
const baseStep = await timeStep(base, feeds);
await base.release();

const [adapted, firstApplySeconds] = await timed(async () => loadCheckpoint(header, architecture, { components: ['unet', 'text'], loras: [{ lora: await readLoraFile(a.file), weight: 1 }] }));
const loraStep = await timeStep(adapted, feeds);
const [toB, switchSeconds] = await timed(async () => adapted.applyLoras([{ lora: await readLoraFile(b.file), weight: 0.8 }]));
const [twoLoras, switchTwoSeconds] = await timed(async () => adapted.applyLoras([{ lora: await readLoraFile(a.file), weight: 0.5 }, { lora: await readLoraFile(b.file), weight: 0.5 }]));
const twoStep = await timeStep(adapted, feeds);
const [toNone, switchNoneSeconds] = await timed(async () => adapted.applyLoras([]));
await adapted.release();
if (toB.rebuilt.length + twoLoras.rebuilt.length + toNone.rebuilt.length > 0) throw new Error('a switch among covered sets rebuilt a graph');

console.log(
  JSON.stringify({
    family,
    part: 'lora',
    shape: `rank ${RANK}, ${a.modules} modules, UNet batch 2 ${size}x${size}`,
    baseStepSeconds: baseStep,
    loraStepSeconds: loraStep,
    twoLoraStepSeconds: twoStep,
    stepOverheadPercent: ((loraStep - baseStep) / baseStep) * 100,
    firstApplySeconds,
    switchSeconds,
    switchTwoSeconds,
    switchNoneSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
