/**
 * Memory benchmark in its own process, so its peak RSS is its own. Prints one JSON line.
 *   image: a whole text-to-image (SD 1.5 512x512, a few steps, CFG 7) in one `runtime.memory` mode, with the fp32
 *          bytes of the components resident at once (all of them, or the largest phase's) for the 1.15x target.
 *   unet | vae: one component with an ONNX Runtime arena setting, for choosing those settings by measurement.
 *          With `--int8` the UNet runs in int8 (its quantized weights cached under <cacheDir>/int8-<family>), for the
 *          whole-image figure the int8 mode is held to.
 * Usage: node --import tsx bench/memory-case.ts <sd15|sdxl> <image|unet|vae> <cacheDir> [resident|per-phase] [arena on|off] [pattern on|off] [steps] [--int8]
 */
import path from 'node:path';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { measureComponentBytes, planPhaseComponents, type MemoryMode } from '../src/engine/pipeline/component-residency.ts';
import { generate, preparePipelineModel } from '../src/engine/pipeline/generate.ts';
import { loadCheckpoint, type CheckpointComponent } from '../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession, RuntimeOptions } from '../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../src/engine/tensor.ts';
import { ClipTokenizer } from '../src/engine/text/clip-tokenizer.ts';
import { describeInt8Cache } from './bench-options.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';
import { createPatternTensor } from './fixtures/pattern-tensor.ts';
import { readProcessMemory, resetPeakRss } from './fixtures/process-memory.ts';

const args = process.argv.slice(2);
const int8Unet = args.includes('--int8');
const [family, part, cacheDir, modeArg, arenaArg, patternArg, stepsArg] = args.filter((a) => a !== '--int8') as ['sd15' | 'sdxl', 'image' | 'unet' | 'vae', string, string?, string?, string?, string?];
const mode: MemoryMode = modeArg === 'per-phase' ? 'per-phase' : 'resident';
// Without an explicit pattern setting the engine's per-component default applies (the image case's default).
const runtime: RuntimeOptions = { memoryArena: arenaArg !== 'off', ...(patternArg === undefined ? {} : { memoryPattern: patternArg !== 'off' }) };
const size = family === 'sd15' ? 512 : 1024;
const file = await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(file);
const { architecture } = inspectHeader(header);
const bytes = measureComponentBytes(header, architecture);
const settings = { arena: runtime.memoryArena!, pattern: runtime.memoryPattern ?? 'default' };

async function timeRuns(session: ModelSession, feeds: Record<string, Tensor>, repeats: number): Promise<{ first: number; mean: number }> {
  let t = performance.now();
  await session.run(feeds);
  const first = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < repeats; i++) await session.run(feeds);
  return { first, mean: (performance.now() - t) / 1000 / repeats };
}

/**
 * Peak RSS between component builds: the kernel's high-water mark (VmHWM) read and reset (Linux: writing 5 to
 * /proc/self/clear_refs) when each build starts, so each segment's peak is its own. Null where /proc is not Linux's.
 */
function createSegmentPeaks(): { mark: (next: string) => void; segments: { until: string; peakBytes: number }[] } | null {
  try {
    resetPeakRss();
  } catch {
    return null;
  }
  const segments: { until: string; peakBytes: number }[] = [];
  return {
    segments,
    mark: (next) => {
      segments.push({ until: next, peakBytes: readProcessMemory().peak });
      resetPeakRss();
    },
  };
}

if (part === 'image') {
  const steps = Number(stepsArg ?? 4);
  const vocab = path.resolve(import.meta.dirname, '..', 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');
  const int8 = int8Unet ? await describeInt8Cache(file, family, cacheDir) : undefined;
  const loaded = await loadCheckpoint(header, architecture, { components: [], runtime, text: architecture.textEncoders.map(() => ({ clipSkip: 2, finalLayerNorm: family === 'sd15' })), ...(int8 ? { int8 } : {}) });
  const model = preparePipelineModel(family, loaded, await ClipTokenizer.fromGzipFile(vocab));
  // What is resident at once: every component of the job, or the largest phase's.
  const plan = planPhaseComponents({ encodesImage: false, refines: false, vaeSwitch: false, standaloneVae: false, baseDecodes: true });
  const sum = (components: readonly CheckpointComponent[]) => components.reduce((n, c) => n + bytes[c], 0);
  const residentAtOnce = mode === 'resident' ? sum([...new Set(Object.values(plan).flatMap((p) => p.base))]) : Math.max(...Object.values(plan).map((p) => sum(p.base)));
  const peaks = createSegmentPeaks();
  const started = performance.now();
  const [image] = await generate(
    { base: model },
    {
      prompt: ['a cinematic photo of a lighthouse at dusk, volumetric light, highly detailed'],
      negativePrompt: ['blurry, low quality'],
      width: size,
      height: size,
      steps,
      cfg: 7,
      sharpness: 2,
      adaptiveCfg: 7,
      sampler: 'dpmpp_2m_sde_gpu',
      scheduler: 'karras',
      seed: 1234n,
      imageCount: 1,
      clipSkip: 2,
      admScalers: { positive: 1.5, negative: 0.8, end: 0.3 },
      refinerSwitch: 1,
    },
    { memory: mode, previewEvery: 0, ...(peaks ? { onComponent: (_: string, component: CheckpointComponent) => peaks.mark(`${component} build`) } : {}) },
  );
  peaks?.mark('end');
  // A reset high-water mark may also reset the kernel's maxRSS, so the segments' peaks count too.
  const peakRssBytes = Math.max(process.resourceUsage().maxRSS * 1024, ...(peaks?.segments.map((s) => s.peakBytes) ?? []));
  console.log(
    JSON.stringify({
      family,
      part: 'memory',
      shape: `${size}x${size}, ${steps} steps, CFG 7, text-to-image`,
      mode,
      precision: int8Unet ? 'int8' : 'fp32',
      int8Weights: loaded.int8Weights,
      ...settings,
      totalSeconds: (performance.now() - started) / 1000,
      sampleSecondsPerStep: image!.seconds.sample / steps,
      decodeSeconds: image!.seconds.decode,
      buildSeconds: Object.values(loaded.buildSeconds).reduce((a, b) => a + b, 0),
      sessionsBuilt: loaded.sessionsBuilt,
      peakRssBytes,
      residentFp32Bytes: residentAtOnce,
      rssOverResident: peakRssBytes / residentAtOnce,
      // What ran before each build: [start, first build), then each build with the phase it serves.
      segmentPeaks: peaks?.segments ?? null,
    }),
  );
  await loaded.release();
} else {
  const component: CheckpointComponent = part === 'unet' ? 'unet' : 'vae-decoder';
  const loaded = await loadCheckpoint(header, architecture, { components: [component], runtime });
  let runs: { first: number; mean: number };
  if (part === 'unet') {
    const unet = architecture.unet!;
    const feeds: Record<string, Tensor> = {
      x: createPatternTensor([2, unet.inChannels, size / 8, size / 8]),
      timesteps: createTensor([2], new Float32Array([999, 999])),
      context: createPatternTensor([2, 77, unet.contextDim]),
    };
    if (unet.admInChannels !== null) feeds.y = createPatternTensor([2, unet.admInChannels]);
    runs = await timeRuns(loaded.unet!, feeds, 1);
  } else {
    runs = await timeRuns(loaded.vaeDecoder!, { latent: createPatternTensor([1, 4, size / 8, size / 8]) }, 1);
  }
  const peakRssBytes = process.resourceUsage().maxRSS * 1024;
  console.log(
    JSON.stringify({
      family,
      part: 'arena',
      shape: part === 'unet' ? `UNet, batch 2, ${size}x${size}` : `VAE decode, ${size}x${size}`,
      ...settings,
      buildSeconds: loaded.buildSeconds[component],
      firstRunSeconds: runs.first,
      secondsPerRun: runs.mean,
      peakRssBytes,
      weightsFp32Bytes: bytes[component],
      rssOverWeights: peakRssBytes / bytes[component],
    }),
  );
  await loaded.release();
}
