/**
 * int8 against fp32 in its own process, on the full-size random-weight SD1.5 checkpoint (`sd15`) or the tiny test
 * fixture (`tiny`): UNet step time at batch 2 (one CFG step) in each precision, the int8 UNet output's relative
 * error against fp32 on the same inputs, the PSNR of a whole image against the fp32 image at the same seed, and
 * the int8 load time with the quantized-weight cache cold (quantizing) and warm (reading the cache back).
 * Usage: node --import tsx bench/int8-case.ts <sd15|tiny> <cacheDir>
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { buildUnetGraph } from '../src/engine/graphs/unet.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { countGraphFlops } from '../src/engine/onnx/flop-count.ts';
import type { SafetensorsHeader } from '../src/engine/io/safetensors-types.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { generate, preparePipelineModel } from '../src/engine/pipeline/generate.ts';
import { loadCheckpoint, type LoadCheckpointOptions } from '../src/engine/pipeline/load-checkpoint.ts';
import { ClipTokenizer } from '../src/engine/text/clip-tokenizer.ts';
import { createTensor, type Tensor } from '../src/engine/tensor.ts';
import { writeTinyCheckpoint } from '../test/fixtures/checkpoints.ts';
import { describeInt8Cache } from './bench-options.ts';
import { describeCpu } from './cpu-description.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';
import { idealInt8Seconds, idealSeconds, type MachineLimits } from './machine-limits.ts';

const [family, cacheDir] = process.argv.slice(2) as ['sd15' | 'tiny', string];
const full = family === 'sd15';
const setup = full ? { size: 512, steps: 6, repeats: 2 } : { size: 64, steps: 8, repeats: 5 };

async function checkpointFile(): Promise<string> {
  if (full) return ensureFullCheckpoint('sd15', cacheDir);
  const dir = path.join(cacheDir, 'tiny-sd15');
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'tiny-sd15.safetensors');
  return existsSync(file) ? file : writeTinyCheckpoint(dir, 'sd15');
}

function sampleTensor(dims: number[], seed: number): Tensor {
  const t = createTensor(dims);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin((i + 1) * 12.9898 + seed * 78.233) * 0.9;
  return t;
}

function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    diff += (actual[i]! - expected[i]!) ** 2;
    norm += expected[i]! ** 2;
  }
  return Math.sqrt(diff / norm);
}

function psnr(a: Uint8Array, b: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
  const mse = sum / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** Loads the UNet alone, times `repeats` evaluations after a warm-up, and returns its output and load figures. */
async function measureUnet(header: SafetensorsHeader, int8: LoadCheckpointOptions['int8']) {
  const { architecture } = inspectHeader(header);
  const unet = architecture.unet!;
  const started = performance.now();
  const loaded = await loadCheckpoint(header, architecture, { components: ['unet'], ...(int8 ? { int8 } : {}) });
  const loadSeconds = (performance.now() - started) / 1000;
  const latent = setup.size / 8;
  const feeds = {
    x: sampleTensor([2, unet.inChannels, latent, latent], 1),
    timesteps: createTensor([2], new Float32Array([500, 500])),
    context: sampleTensor([2, 77, unet.contextDim], 2),
  };
  const flops = countGraphFlops(buildUnetGraph(header, unet), Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, v.dims])));
  const out = (await loaded.unet!.run(feeds)).out!;
  const t = performance.now();
  for (let i = 0; i < setup.repeats; i++) await loaded.unet!.run(feeds);
  const stepSeconds = (performance.now() - t) / 1000 / setup.repeats;
  await loaded.release();
  return { out: out.data, stepSeconds, loadSeconds, cache: loaded.int8Weights, flops };
}

/** One image through the whole pipeline (text encoders, UNet, VAE decoder) at a fixed seed. */
async function makeImage(header: SafetensorsHeader, int8: LoadCheckpointOptions['int8']): Promise<Uint8Array> {
  const { architecture } = inspectHeader(header);
  const loaded = await loadCheckpoint(header, architecture, {
    components: ['unet', 'text', 'vae-decoder'],
    text: architecture.textEncoders.map(() => ({ clipSkip: 1, finalLayerNorm: true })),
    ...(int8 ? { int8 } : {}),
  });
  const vocab = path.resolve(import.meta.dirname, '..', 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');
  const tokenizer = full ? await ClipTokenizer.fromGzipFile(vocab) : ClipTokenizer.byteLevel();
  const model = preparePipelineModel('sd15', loaded, tokenizer);
  const [image] = await generate(
    { base: model },
    {
      prompt: ['a cinematic photo of a lighthouse at dusk'],
      negativePrompt: ['blurry'],
      width: setup.size,
      height: setup.size,
      steps: setup.steps,
      cfg: 7,
      sharpness: 2,
      adaptiveCfg: 7,
      sampler: 'dpmpp_2m_sde_gpu',
      scheduler: 'karras',
      seed: 1234n,
      imageCount: 1,
      clipSkip: 1,
      admScalers: { positive: 1.5, negative: 0.8, end: 0.3 },
      refinerSwitch: 1,
    },
    { previewEvery: 0 },
  );
  await loaded.release();
  return image!.image.rgb;
}

const file = await checkpointFile();
const header = await readSafetensorsHeader(file);
const int8 = await describeInt8Cache(file, family, cacheDir);
await rm(int8.cacheDir, { recursive: true, force: true });

// 1. UNet: fp32, int8 with a cold cache (quantizes), int8 again (reads the cache back)
const fp32 = await measureUnet(header, undefined);
const cold = await measureUnet(header, int8);
const warm = await measureUnet(header, int8);
if (cold.cache?.origin !== 'built' || warm.cache?.origin !== 'cache') throw new Error(`int8 cache: expected built then cache, got ${cold.cache?.origin} then ${warm.cache?.origin}`);
// 2. whole images at the same seed
const fp32Image = await makeImage(header, undefined);
// 3. what the machine's measured kernel limits allow: the fp32 step's ideal time over the int8 step's, where the
// int8 UNet still runs its attention in fp32 (bench/machine-limits.ts). Needs the limits from `npm run bench`.
const limits = process.env.BENCH_MACHINE_LIMITS === undefined ? null : (JSON.parse(process.env.BENCH_MACHINE_LIMITS) as MachineLimits);
const int8Ideal = limits === null ? null : idealInt8Seconds(fp32.flops, limits);
const int8Image = await makeImage(header, int8);

console.log(
  JSON.stringify({
    family,
    part: 'int8',
    shape: `UNet batch 2, ${setup.size}x${setup.size}; image ${setup.steps} steps CFG 7`,
    fp32StepSeconds: fp32.stepSeconds,
    int8StepSeconds: warm.stepSeconds,
    speedup: fp32.stepSeconds / warm.stepSeconds,
    // null when run by hand (no limits) or without the int8 kernels.
    speedupAtLimits: limits === null || int8Ideal === null ? null : idealSeconds(fp32.flops, limits) / int8Ideal,
    int8FractionOfLimit: int8Ideal === null ? null : int8Ideal / warm.stepSeconds,
    unetRelativeError: relativeError(warm.out, fp32.out),
    imagePsnrDb: psnr(int8Image, fp32Image),
    fp32LoadSeconds: fp32.loadSeconds,
    int8ColdLoadSeconds: cold.loadSeconds,
    int8WarmLoadSeconds: warm.loadSeconds,
    quantizeSeconds: cold.cache.seconds,
    cacheReadSeconds: warm.cache.seconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    cpu: describeCpu(),
  }),
);
