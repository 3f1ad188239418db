/**
 * The studio's job progress: the sampler's steps (with the stage they sample for, such as an Enhance tab's
 * repaint), and every other step's message with how far it has come, on the position of the last step; a message
 * that reads as the one before is not sent again, and nothing carries over to the next image.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SavedImage, ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { parseProgressReport } from '../../../src/app/jobs/remote-job-protocol.ts';
import type { JobExecution } from '../../../src/app/jobs/job-queue.ts';
import type { JobProgress, JobRecord } from '../../../src/app/jobs/job-types.ts';
import { createStudioExecutor } from '../../../src/app/studio/studio-executor.ts';
import type { InferenceWorker } from '../../../src/app/worker/inference-worker.ts';

const sample = (step: number, message?: string): ServiceProgress => ({ phase: 'sample', image: 0, images: 1, seed: 1n, step, steps: 2, ...(message === undefined ? {} : { message }) });

/** The job progress the executor reports for a job of `runs.length` images whose runs report `runs`. */
async function reportJob(runs: ServiceProgress[][]): Promise<Omit<JobProgress, 'etaSeconds'>[]> {
  let call = 0;
  const worker = {
    generate: async (_request: unknown, _index: number, opts: { onProgress?: (p: ServiceProgress) => void }): Promise<SavedImage[]> => {
      for (const p of runs[call++]!) opts.onProgress?.(p);
      return [{ path: `/out/2026/img${call}.png`, sha256: 'ab', seed: 1n, seconds: { encode: 0, sample: 0, decode: 0 } }];
    },
  } as unknown as InferenceWorker;
  const executor = createStudioExecutor({ worker, outputsDir: '/out', defaultModel: async () => 'm', readInput: async () => { throw new Error('no input'); } });
  const seen: JobProgress[] = [];
  const execution: JobExecution = {
    signal: new AbortController().signal,
    skipSignal: () => new AbortController().signal,
    onProgress: (p) => seen.push(p),
    onImage: () => {},
  } as JobExecution;
  const job = { id: 'job1', request: { prompt: 'a toy', model: 'm', imageCount: runs.length } } as unknown as JobRecord;
  await executor(job, execution);
  return seen.map(({ etaSeconds: _eta, ...p }) => p);
}

test("job progress carries the Enhance messages, and a repaint's steps carry its tab's message, for one image only", async () => {
  const repainting = 'Enhance 1/2: repainting "person" (1 region)';
  const brief = await reportJob([
    [
      sample(1),
      { phase: 'enhance', tab: 0, tabs: 2, message: repainting },
      sample(1, repainting),
      { phase: 'enhance', tab: 1, tabs: 2, message: 'Enhance 2/2: no "person" found, tab skipped' },
    ],
    [sample(2)],
  ]);
  assert.deepEqual(brief, [
    { step: 1, steps: 2, image: 1, images: 2 },
    { step: 1, steps: 2, image: 1, images: 2, message: repainting },
    { step: 1, steps: 2, image: 1, images: 2, message: repainting },
    { step: 1, steps: 2, image: 1, images: 2, message: 'Enhance 2/2: no "person" found, tab skipped' },
    { step: 2, steps: 2, image: 2, images: 2 },
  ]);
});

test('every step besides sampling reaches the job as its message, with how far it has come; repeats are sent once', async () => {
  const brief = await reportJob([
    [
      { phase: 'verify', model: 'm', message: 'verifying m', done: 0, total: 8, unit: 'MiB' },
      { phase: 'verify', model: 'm', message: 'verifying m', done: 0, total: 8, unit: 'MiB' },
      { phase: 'verify', model: 'm', message: 'verifying m', done: 2, total: 8, unit: 'MiB' },
      { phase: 'describe', type: 'anime', message: 'describing the input image (Art/Anime)', done: 0, total: 1 },
      { phase: 'upscale', model: 'x4', message: 'upscaling with x4', done: 3, total: 12 },
      { phase: 'load', model: 'm', component: 'unet', message: 'loading m: unet', done: 0, total: 3 },
      { phase: 'encode', image: 0, images: 1, seed: 1n, step: 0, steps: 2, message: 'encoding prompt (seed 1)' },
      sample(1),
      { phase: 'decode', image: 0, images: 1, seed: 1n, step: 2, steps: 2, message: 'decoding (seed 1)' },
    ],
  ]);
  const at = (message?: string) => ({ step: 0, steps: 0, image: 1, images: 1, ...(message === undefined ? {} : { message }) });
  assert.deepEqual(brief, [
    at('verifying m (0%)'),
    at('verifying m (25%)'),
    at('describing the input image (Art/Anime)'),
    at('upscaling with x4 (3/12)'),
    at('loading m: unet (0/3)'),
    at('encoding prompt (seed 1)'),
    { step: 1, steps: 2, image: 1, images: 1 },
    { step: 1, steps: 2, image: 1, images: 1, message: 'decoding (seed 1)' },
  ]);
});

test('a worker on Redis reports the message, checked like the rest of the progress', () => {
  const report = (progress: object) => JSON.stringify({ jobId: 'AAAAAAAAAAAAAAAAAAAAAA', dispatch: 'AAAAAAAAAAAAAAAAAAAAAA', progress: { step: 1, steps: 2, image: 1, images: 1, ...progress }, preview: null });
  assert.equal(parseProgressReport(report({ message: 'Enhance 1/1: finding "face"' })).progress.message, 'Enhance 1/1: finding "face"');
  assert.equal('message' in parseProgressReport(report({})).progress, false);
  assert.throws(() => parseProgressReport(report({ message: 7 })), /message/);
  assert.throws(() => parseProgressReport(report({ message: 'x'.repeat(501) })), /message/);
});
