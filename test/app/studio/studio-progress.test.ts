/**
 * The studio's job progress: the sampler's steps, and each Enhance message the image's run reports (kept on the
 * steps that follow it, dropped for the next image); other phases are not reported.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SavedImage, ServiceProgress } from '../../../src/app/generation/generation-service.ts';
import { parseProgressReport } from '../../../src/app/jobs/remote-job-protocol.ts';
import type { JobExecution } from '../../../src/app/jobs/job-queue.ts';
import type { JobProgress, JobRecord } from '../../../src/app/jobs/job-types.ts';
import { createStudioExecutor } from '../../../src/app/studio/studio-executor.ts';
import type { InferenceWorker } from '../../../src/app/worker/inference-worker.ts';

const sample = (step: number): ServiceProgress => ({ phase: 'sample', image: 0, images: 1, seed: 1n, step, steps: 2 });

test('job progress carries the Enhance messages with the steps after them, for one image only', async () => {
  const runs: ServiceProgress[][] = [
    [
      { phase: 'load', model: 'm', component: 'unet', index: 0, total: 1 },
      sample(1),
      { phase: 'enhance', tab: 0, tabs: 2, message: 'Enhance 1/2: repainting "person" (1 region)' },
      sample(1),
      { phase: 'enhance', tab: 1, tabs: 2, message: 'Enhance 2/2: no "person" found, tab skipped' },
    ],
    [sample(2)],
  ];
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
  const job = { id: 'job1', request: { prompt: 'a toy', model: 'm', imageCount: 2 } } as unknown as JobRecord;
  await executor(job, execution);
  const brief = seen.map(({ etaSeconds: _eta, ...p }) => p);
  assert.deepEqual(brief, [
    { step: 1, steps: 2, image: 1, images: 2 },
    { step: 1, steps: 2, image: 1, images: 2, message: 'Enhance 1/2: repainting "person" (1 region)' },
    { step: 1, steps: 2, image: 1, images: 2, message: 'Enhance 1/2: repainting "person" (1 region)' },
    { step: 1, steps: 2, image: 1, images: 2, message: 'Enhance 2/2: no "person" found, tab skipped' },
    { step: 2, steps: 2, image: 2, images: 2 },
  ]);
});

test('a worker on Redis reports the message, checked like the rest of the progress', () => {
  const report = (progress: object) => JSON.stringify({ jobId: 'AAAAAAAAAAAAAAAAAAAAAA', dispatch: 'AAAAAAAAAAAAAAAAAAAAAA', progress: { step: 1, steps: 2, image: 1, images: 1, ...progress }, preview: null });
  assert.equal(parseProgressReport(report({ message: 'Enhance 1/1: finding "face"' })).progress.message, 'Enhance 1/1: finding "face"');
  assert.equal('message' in parseProgressReport(report({})).progress, false);
  assert.throws(() => parseProgressReport(report({ message: 7 })), /message/);
  assert.throws(() => parseProgressReport(report({ message: 'x'.repeat(501) })), /message/);
});
