/**
 * Cancel latency in its own process: the inference worker (the studio's, restricted, one job at a time) runs a
 * full-size random-weight checkpoint, SD1.5 at 512x512 or SDXL at 1024x1024; each trial waits until sampling is
 * under way, cancels at a random moment inside a UNet step, and measures the time until the job has stopped. A
 * run in flight cannot be interrupted inside the process (onnxruntime-node's run is synchronous), so the worker
 * ends the process when the job has not stopped within its grace period; the figures include that, and the UNet
 * step time is printed beside them (what a cancel used to wait for). Also prints the CPU model and its SIMD flags.
 * Usage: node --import tsx bench/cancel-case.ts <sd15|sdxl> <cacheDir> [trials]
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { importModel } from '../src/app/models/import-model.ts';
import { openModelStore } from '../src/app/models/model-store.ts';
import { InferenceWorker, WorkerJobError } from '../src/app/worker/inference-worker.ts';
import type { ImageRequest } from '../src/app/generation/image-request.ts';
import { describeCpu } from './cpu-description.ts';
import { ensureFullCheckpoint } from './fixtures/full-checkpoints.ts';

const [family, cacheDir, trialsArg] = process.argv.slice(2) as ['sd15' | 'sdxl', string, string | undefined];
const size = family === 'sd15' ? 512 : 1024;
const trials = Number(trialsArg ?? (family === 'sd15' ? 5 : 3));

const checkpoint = await ensureFullCheckpoint(family, cacheDir);
const dir = path.join(cacheDir, `cancel-${family}`);
await rm(dir, { recursive: true, force: true });
for (const d of ['models', 'outputs', 'cache']) await mkdir(path.join(dir, d), { recursive: true, mode: 0o750 });
const store = await openModelStore(path.join(dir, 'models'));
// A hard link: the cache and this folder share a filesystem, and SDXL's 7 GB need not be copied.
const model = (await importModel(store, checkpoint, { kind: 'checkpoints', link: true })).name;
const worker = new InferenceWorker({ modelsDir: path.join(dir, 'models'), outputsDir: path.join(dir, 'outputs'), cacheDir: path.join(dir, 'cache'), threads: 0, executionProvider: 'cpu', software: 'Fooocus-TS bench' });

const request: ImageRequest = {
  prompt: 'a cinematic photo of a lighthouse at dusk',
  negative: '',
  styles: [],
  performance: 'Speed',
  width: size,
  height: size,
  imageCount: 1,
  seed: '1',
  model,
  steps: 30,
  cfg: 4,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  format: 'png',
};

const latencies: number[] = [];
const stepSeconds: number[] = [];
const restartSeconds: number[] = [];
for (let trial = 0; trial < trials; trial++) {
  const controller = new AbortController();
  const submitted = performance.now();
  let firstStepAt: number | null = null;
  let cancelledAt = 0;
  let lastStep: { at: number; step: number } | null = null;
  const run = worker.generate(request, 0, {
    signal: controller.signal,
    onProgress: (p) => {
      if (p.phase !== 'sample' || controller.signal.aborted) return;
      const now = performance.now();
      if (lastStep !== null && p.step === lastStep.step + 1) stepSeconds.push((now - lastStep.at) / 1000);
      lastStep = { at: now, step: p.step };
      if (p.step === 1 && firstStepAt === null) {
        firstStepAt = now;
        // Cancel somewhere inside the next step, never on its boundary.
        const stepMs = stepSeconds.length > 0 ? stepSeconds[stepSeconds.length - 1]! * 1000 : 1000;
        setTimeout(() => {
          cancelledAt = performance.now();
          controller.abort();
        }, Math.random() * stepMs * 0.9);
      }
    },
  });
  await run.then(
    () => {
      throw new Error('the job finished before it was cancelled');
    },
    (err: unknown) => {
      if (!(err instanceof WorkerJobError && err.cancelled)) throw err;
    },
  );
  latencies.push(performance.now() - cancelledAt);
  // The first trial includes the cold start; later ones show what a killed process costs the next job.
  if (trial > 0 && firstStepAt !== null) restartSeconds.push((firstStepAt - submitted) / 1000);
  process.stderr.write(`cancel ${trial + 1}/${trials}: ${(latencies.at(-1)! / 1000).toFixed(3)} s\n`);
}
await worker.close();
await rm(dir, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const quantile = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
console.log(
  JSON.stringify({
    family,
    part: 'cancel',
    shape: `${size}x${size}`,
    trials,
    p50Ms: quantile(0.5),
    p99Ms: quantile(0.99),
    maxMs: sorted.at(-1)!,
    unetStepSeconds: median(stepSeconds),
    submitToFirstStepSeconds: median(restartSeconds),
    cpu: describeCpu(),
  }),
);
