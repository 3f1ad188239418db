/**
 * Image prompt benchmark in its own process: what IP-Adapter Plus costs on a full-size random-weight SDXL
 * checkpoint at 1024x1024 with a full-size random CLIP ViT-H/14 and IP-Adapter Plus. Measures the encode of one
 * image prompt (vision encoder, Resampler and the per-layer key/value projections), the plain UNet step (batch 2,
 * one CFG step), and the step of the UNet built with image prompt inputs with one and with four prompts active.
 * One model is built at a time, so the peak RSS is the largest of them. Prints one JSON line.
 * Usage: node --import tsx bench/image-prompt-case.ts <cacheDir> [runs]
 *   runs: timed runs per variant (default 2: the first warms up, the second is timed; 1 times the first run,
 *   which includes its allocations, the same way for every variant)
 */
import { ensureFullImagePromptModels } from './fixtures/full-image-prompt-models.ts';
import { ipAdapterLayerOrder } from '../src/engine/graphs/decoupled-attention.ts';
import { loadImagePromptEncoder } from '../src/engine/ip-adapter/image-prompt-encoder.ts';
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { buildImagePromptFeeds } from '../src/engine/pipeline/image-prompt-feeds.ts';
import type { ImagePromptEmbedding } from '../src/engine/pipeline/image-guidance.ts';
import { loadCheckpoint } from '../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession } from '../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../src/engine/tensor.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [cacheDir, runsArg] = process.argv.slice(2) as [string, string?];
const runs = Number(runsArg ?? 2);
if (runs !== 1 && runs !== 2) throw new Error(`runs must be 1 or 2, got "${runsArg}"`);
const size = 1024;

function filled(dims: number[], phase: number): Tensor {
  const t = createTensor(dims);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(i * 12.9898 + phase) * 0.5;
  return t;
}

/** Seconds of the timed run: the second of two (the first allocates), or the only one. */
async function timeRun<T>(run: () => Promise<T>): Promise<[T, number]> {
  if (runs === 2) await run();
  const t = performance.now();
  const out = await run();
  return [out, (performance.now() - t) / 1000];
}

const checkpoint = await ensureFullCheckpoint('sdxl', cacheDir);
const header = await readSafetensorsHeader(checkpoint);
const { architecture } = inspectHeader(header);
const unet = architecture.unet!;
const files = await ensureFullImagePromptModels(cacheDir, header, unet);
const feeds: Record<string, Tensor> = {
  x: filled([2, unet.inChannels, size / 8, size / 8], 0),
  timesteps: createTensor([2], new Float32Array([999, 999])),
  context: filled([2, 77, unet.contextDim], 1),
  y: filled([2, unet.admInChannels!], 2),
};

// 1. encode image prompts: vision encoder + Resampler + key/value projections, per image
let started = performance.now();
const widths = ipAdapterLayerOrder(unet).map((prefix) => header.tensors.get(`${prefix}to_q.weight`)!.shape[0]!);
const encoder = await loadImagePromptEncoder(files, unet, widths);
const encoderBuildSeconds = (performance.now() - started) / 1000;
const image = { width: 640, height: 480, rgb: Uint8Array.from({ length: 640 * 480 * 3 }, (_, i) => (i * 37) % 251) };
const [prompt, encodeSeconds] = await timeRun(() => encoder.encode(image, 'ImagePrompt', { stopAt: 0.5, weight: 0.6 }));
await encoder.release();
const prompts: ImagePromptEmbedding[] = [0.6, 0.5, 0.4, 0.3].map((weight) => ({ ...prompt, weight }));

// 2. the plain UNet step
started = performance.now();
const plain = await loadCheckpoint(header, architecture, { components: ['unet'] });
const plainBuildSeconds = (performance.now() - started) / 1000;
const [, plainStep] = await timeRun(() => plain.unet!.run(feeds));
await plain.release();

// 3. the UNet with image prompt inputs, one and four prompts active (positive row, then negative row)
started = performance.now();
const guided = await loadCheckpoint(header, architecture, { components: ['unet'], unet: { imagePrompts: true } });
const guidedBuildSeconds = (performance.now() - started) / 1000;
const session: ModelSession = guided.unet!;
const [, oneStep] = await timeRun(() => session.run({ ...feeds, ...buildImagePromptFeeds(prompts.slice(0, 1), [true, false]) }));
const [, fourStep] = await timeRun(() => session.run({ ...feeds, ...buildImagePromptFeeds(prompts, [true, false]) }));
await guided.release();

console.log(
  JSON.stringify({
    family: 'sdxl',
    part: 'image-prompt',
    shape: `UNet batch 2 ${size}x${size}, CLIP ViT-H/14 + IP-Adapter Plus`,
    runs,
    encoderBuildSeconds,
    encodeSecondsPerImage: encodeSeconds,
    plainBuildSeconds,
    guidedBuildSeconds,
    plainStepSeconds: plainStep,
    onePromptStepSeconds: oneStep,
    fourPromptStepSeconds: fourStep,
    onePromptOverheadPercent: ((oneStep - plainStep) / plainStep) * 100,
    fourPromptOverheadPercent: ((fourStep - plainStep) / plainStep) * 100,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
