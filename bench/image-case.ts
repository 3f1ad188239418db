/**
 * Whole-image benchmark in its own process: SD1.5 512x512, 20 steps, CFG 7, or SDXL 1024x1024, 4 steps, CFG 1,
 * on a full-size random-weight checkpoint. Prints one JSON line with the wall time split into text encoding,
 * sampling and decode, the time spent inside ONNX Runtime, the pipeline's own overhead and peak RSS.
 * Usage: node --import tsx bench/image-case.ts <sd15|sdxl> <cacheDir> (provider and precision: bench-options.ts;
 * with int8 the load includes quantizing the UNet the first time, reading the cache after that)
 */
import path from 'node:path';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { loadCheckpoint } from '../src/engine/pipeline/load-checkpoint.ts';
import { generate, preparePipelineModel } from '../src/engine/pipeline/generate.ts';
import { ClipTokenizer } from '../src/engine/text/clip-tokenizer.ts';
import { benchInt8Option, readBenchRuntime } from './bench-options.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [family, cacheDir] = process.argv.slice(2) as ['sd15' | 'sdxl', string];
const runtime = readBenchRuntime();
// On a GPU provider SDXL runs Fooocus's Speed setting (30 steps, CFG 7); on the CPU 4 steps keep it within minutes.
const onGpu = runtime.executionProvider !== 'cpu';
const setup = family === 'sd15' ? { size: 512, steps: 20, cfg: 7 } : onGpu ? { size: 1024, steps: 30, cfg: 7 } : { size: 1024, steps: 4, cfg: 1 };

// The CLIP vocabulary the application ships (data/tokenizers), as the tests use it.
const vocab = path.resolve(import.meta.dirname, '..', 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');
const file = await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(file);
const { architecture } = inspectHeader(header);
const loadStarted = performance.now();
const loaded = await loadCheckpoint(header, architecture, {
  components: ['unet', 'text', 'vae-decoder'],
  runtime: { executionProvider: runtime.executionProvider },
  ...(runtime.float16 ? { float16: true } : {}),
  ...(await benchInt8Option(file, family, cacheDir)),
  text: architecture.textEncoders.map(() => ({ clipSkip: 2, finalLayerNorm: family === 'sd15' })),
});
const loadSeconds = (performance.now() - loadStarted) / 1000;
const model = preparePipelineModel(family, loaded, await ClipTokenizer.fromGzipFile(vocab));
const sessions = [loaded.unet!, ...loaded.textEncoders, loaded.vaeDecoder!];
for (const s of sessions) Object.assign(s.stats, { runs: 0, seconds: 0 });

const started = performance.now();
const [image] = await generate(
  { base: model },
  {
    prompt: ['a cinematic photo of a lighthouse at dusk, volumetric light, highly detailed'],
    negativePrompt: ['blurry, low quality'],
    width: setup.size,
    height: setup.size,
    steps: setup.steps,
    cfg: setup.cfg,
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
  { previewEvery: 1 },
);
const totalSeconds = (performance.now() - started) / 1000;
const modelSeconds = sessions.reduce((n, s) => n + s.stats.seconds, 0);
console.log(
  JSON.stringify({
    family,
    part: 'image',
    shape: `${setup.size}x${setup.size}, ${setup.steps} steps, CFG ${setup.cfg}, ${runtime.executionProvider} ${runtime.float16 ? 'fp16' : runtime.int8 ? 'int8 UNet' : 'fp32'}`,
    loadSeconds,
    encodeSeconds: image!.seconds.encode,
    sampleSeconds: image!.seconds.sample,
    decodeSeconds: image!.seconds.decode,
    totalSeconds,
    modelSeconds,
    unetEvaluations: image!.unetEvaluations,
    overheadPercent: ((totalSeconds - modelSeconds) / modelSeconds) * 100,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
await loaded.release();
