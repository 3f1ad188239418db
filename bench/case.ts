/**
 * One benchmark case in its own process, so its peak RSS is its own. Prints one JSON line.
 * Usage: node --import tsx bench/case.ts <sd15|sdxl> <unet|vae|text> <cacheDir> [repeats]
 */
import { readSafetensorsHeader } from '../src/engine/io/safetensors-reader.ts';
import { inspectHeader } from '../src/engine/models/inspect.ts';
import { loadCheckpoint, type CheckpointComponent } from '../src/engine/pipeline/load-checkpoint.ts';
import type { ModelSession } from '../src/engine/runtime/onnx-runtime.ts';
import { createTensor, type Int64Tensor, type Tensor } from '../src/engine/tensor.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [family, part, cacheDir, repeatArg] = process.argv.slice(2) as ['sd15' | 'sdxl', 'unet' | 'vae' | 'text', string, string?];
const repeats = Number(repeatArg ?? 2);

function randomTensor(dims: number[]): Tensor {
  const t = createTensor(dims);
  for (let i = 0; i < t.data.length; i++) t.data[i] = Math.sin(i * 12.9898) * 0.5;
  return t;
}

async function timeRuns(session: ModelSession, feeds: Record<string, Tensor | Int64Tensor>): Promise<{ first: number; mean: number }> {
  let t = performance.now();
  await session.run(feeds);
  const first = (performance.now() - t) / 1000;
  t = performance.now();
  for (let i = 0; i < repeats; i++) await session.run(feeds);
  return { first, mean: (performance.now() - t) / 1000 / repeats };
}

const file = await ensureFullCheckpoint(family, cacheDir);
const header = await readSafetensorsHeader(file);
const { architecture, parameterCounts } = inspectHeader(header);
const component: CheckpointComponent = part === 'unet' ? 'unet' : part === 'vae' ? 'vae-decoder' : 'text';
const loaded = await loadCheckpoint(header, architecture, { components: [component] });
const size = family === 'sd15' ? 512 : 1024;
let weightsFp32Bytes = 0;
let runs: { first: number; mean: number };
let shape: string;
if (part === 'unet') {
  const unet = architecture.unet!;
  const feeds: Record<string, Tensor> = {
    x: randomTensor([2, unet.inChannels, size / 8, size / 8]),
    timesteps: createTensor([2], new Float32Array([999, 999])),
    context: randomTensor([2, 77, unet.contextDim]),
  };
  if (unet.admInChannels !== null) feeds.y = randomTensor([2, unet.admInChannels]);
  runs = await timeRuns(loaded.unet!, feeds);
  weightsFp32Bytes = parameterCounts.unet * 4;
  shape = `batch 2, ${size}x${size}`;
} else if (part === 'vae') {
  runs = await timeRuns(loaded.vaeDecoder!, { latent: randomTensor([1, 4, size / 8, size / 8]) });
  weightsFp32Bytes = parameterCounts.vae * 4;
  shape = `1 image, ${size}x${size}`;
} else {
  runs = { first: 0, mean: 0 };
  // Text encoders take int64 tokens; time all encoders of the family together.
  const ids = new BigInt64Array(77).fill(49407n);
  ids[0] = 49406n;
  for (const enc of loaded.textEncoders) {
    const r = await timeRuns(enc, { tokens: { dims: [1, 77], data: ids } });
    runs.first += r.first;
    runs.mean += r.mean;
  }
  weightsFp32Bytes = parameterCounts.textEncoders.reduce((a, b) => a + b, 0) * 4;
  shape = `1 prompt, ${loaded.textEncoders.length} encoder(s)`;
}
const peakRssBytes = process.resourceUsage().maxRSS * 1024;
console.log(
  JSON.stringify({
    family,
    part,
    shape,
    buildSeconds: loaded.buildSeconds[component],
    firstRunSeconds: runs.first,
    secondsPerRun: runs.mean,
    peakRssBytes,
    weightsFp32Bytes,
    rssOverWeights: peakRssBytes / weightsFp32Bytes,
  }),
);
await loaded.release();
