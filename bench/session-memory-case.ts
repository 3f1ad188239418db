/**
 * Where a UNet's memory goes, phase by phase, for one set of ONNX Runtime session settings: the process before any
 * model, the session build, the first run (batch 2 at 512x512 for SD 1.5, 1024x1024 for SDXL; it plans the
 * activation buffers) and later runs. Each phase's peak is its own: the kernel's high-water mark is reset before
 * it (Linux: writing 5 to /proc/self/clear_refs). Runs in its own process and prints one JSON line, with a hash of
 * the UNet's output so that variants can be checked to compute the same numbers bit for bit.
 * `tiny` runs the same phases on the tiny SD 1.5 test checkpoint (F16 like the full-size one), to check the script.
 * `--int8`: the UNet in int8 (quantized weights cached under <cacheDir>/int8-<family>).
 * Usage: node --import tsx bench/session-memory-case.ts <sd15|sdxl|tiny> <cacheDir> <variant> [runs] [--int8]
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { measureComponentBytes } from '../src/engine/pipeline/component-residency.ts';
import { loadCheckpoint } from '../src/engine/pipeline/load-checkpoint.ts';
import type { RuntimeOptions } from '../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../src/engine/tensor.ts';
import { writeTinyCheckpoint } from '../test/fixtures/checkpoints.ts';
import { describeInt8Cache } from './bench-options.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';
import { createPatternTensor } from './fixtures/pattern-tensor.ts';
import { readProcessMemory, resetPeakRss } from './fixtures/process-memory.ts';

/** The settings compared: the engine's defaults (`default`) and one change each. */
const SESSION_MEMORY_VARIANTS: Record<string, RuntimeOptions> = {
  default: {},
  // The UNet's default is without prepacking (load-checkpoint.ts); `prepacking` measures the setting it replaced.
  prepacking: { sessionConfig: { 'session.disable_prepacking': '0' } },
  'no-prepacking': { sessionConfig: { 'session.disable_prepacking': '1' } },
  'device-allocator-initializers': { sessionConfig: { 'session.use_device_allocator_for_initializers': '1' } },
  'no-prepacking-device-allocator': { sessionConfig: { 'session.disable_prepacking': '1', 'session.use_device_allocator_for_initializers': '1' } },
  'arena-off': { memoryArena: false, memoryPattern: false },
  'pattern-on': { memoryPattern: true },
  'pattern-off': { memoryPattern: false },
  'device-allocator-pattern-off': { memoryPattern: false, sessionConfig: { 'session.use_device_allocator_for_initializers': '1' } },
  // Keeps the f16 weights and their Cast nodes unfolded: the casts run on every evaluation.
  'no-constant-folding': { sessionConfig: { 'optimization.disable_specified_optimizers': 'ConstantFolding' } },
};

const int8Unet = process.argv.includes('--int8');
const [family, cacheDir, variant, runsArg] = process.argv.slice(2).filter((a) => a !== '--int8') as ['sd15' | 'sdxl' | 'tiny', string, string, string?];
const runtime = SESSION_MEMORY_VARIANTS[variant];
if (runtime === undefined) throw new Error(`unknown variant "${variant}"; one of ${Object.keys(SESSION_MEMORY_VARIANTS).join(', ')}`);
const runs = Number(runsArg ?? 2);

const start = readProcessMemory();
const file = family === 'tiny' ? await writeTinyCheckpoint(path.join(cacheDir, 'tiny'), 'sd15', { dtype: 'F16' }) : await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(file);
const { architecture } = inspectHeader(header);
const unet = architecture.unet!;
const weightsFp32Bytes = measureComponentBytes(header, architecture).unet;
const beforeBuild = readProcessMemory();

resetPeakRss();
let t = performance.now();
const int8 = int8Unet ? { int8: await describeInt8Cache(file, family, cacheDir) } : {};
const loaded = await loadCheckpoint(header, architecture, { components: ['unet'], runtime, ...int8 });
const buildSeconds = (performance.now() - t) / 1000;
const build = readProcessMemory();

const latent = family === 'sdxl' ? 128 : 64;
const feeds: Record<string, Tensor> = {
  x: createPatternTensor([2, unet.inChannels, latent, latent]),
  timesteps: createTensor([2], new Float32Array([999, 999])),
  context: createPatternTensor([2, 77, unet.contextDim]),
};
if (unet.admInChannels !== null) feeds.y = createPatternTensor([2, unet.admInChannels]);
const runPhases: { seconds: number; peakBytes: number; rssAfterBytes: number }[] = [];
let outputSha256 = '';
for (let i = 0; i < runs; i++) {
  resetPeakRss();
  t = performance.now();
  const out = await loaded.unet!.run(feeds);
  const seconds = (performance.now() - t) / 1000;
  const after = readProcessMemory();
  runPhases.push({ seconds, peakBytes: after.peak, rssAfterBytes: after.rss });
  const data = Object.values(out)[0]!.data;
  outputSha256 = createHash('sha256').update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).digest('hex');
}
await loaded.release();
const peakBytes = Math.max(build.peak, ...runPhases.map((r) => r.peakBytes));
console.log(
  JSON.stringify({
    family,
    part: 'session-memory',
    variant,
    precision: int8Unet ? 'int8' : 'fp32',
    weightsFp32Bytes,
    processStartRssBytes: start.rss,
    beforeBuildRssBytes: beforeBuild.rss,
    buildSeconds,
    buildPeakBytes: build.peak,
    afterBuild: { rssBytes: build.rss, anonBytes: build.anon, fileBytes: build.file },
    runs: runPhases,
    peakBytes,
    peakOverWeights: peakBytes / weightsFp32Bytes,
    outputSha256,
  }),
);
