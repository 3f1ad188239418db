import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { JobView } from '../../../src/app/jobs/job-types.ts';
import { reportJob, toJobUpdate } from '../../../src/app/studio/job-report.ts';

const job: JobView = {
  id: 'job1',
  owner: 'ana',
  status: 'done',
  request: { prompt: 'a lake', width: 512, height: 512, input: { file: '/srv/uploads/secret.png', denoise: 0.4 } },
  createdAt: Date.UTC(2026, 0, 2, 3, 4, 5),
  startedAt: Date.UTC(2026, 0, 2, 3, 4, 6),
  finishedAt: Date.UTC(2026, 0, 2, 3, 5, 0),
  progress: null,
  error: null,
  results: [{ imageId: 'img1', file: '2026-01-02/img1.png', seed: '18446744073709551', sha256: 'ab' }],
  retryOf: null,
  position: null,
  waitingFor: null,
};

test('a job report shows ISO times, images by id and seed, and the upload by its denoise, never a path', () => {
  const report = reportJob(job);
  assert.deepEqual(report, {
    id: 'job1',
    owner: 'ana',
    status: 'done',
    position: null,
    waitingFor: null,
    createdAt: '2026-01-02T03:04:05.000Z',
    finishedAt: '2026-01-02T03:05:00.000Z',
    progress: null,
    images: [{ imageId: 'img1', seed: '18446744073709551' }],
    error: null,
    request: { prompt: 'a lake', width: 512, height: 512, denoise: 0.4 },
  });
  assert.ok(!JSON.stringify(report).includes('/srv/'));
  assert.equal(reportJob({ ...job, finishedAt: null }).finishedAt, null);
});

test('job updates: no snapshot, an interrupted job reads as failed, progress is flat with its preview PNG', () => {
  assert.equal(toJobUpdate({ type: 'snapshot', job, preview: null }), null);
  assert.deepEqual(toJobUpdate({ type: 'interrupted', jobId: 'job1', error: 'the server stopped' }), { type: 'failed', message: 'the server stopped' });
  assert.deepEqual(toJobUpdate({ type: 'progress', jobId: 'job1', progress: { step: 2, steps: 8, image: 1, images: 2 }, preview: { png: 'iVBOR' } }), {
    type: 'progress', step: 2, steps: 8, image: 1, images: 2, etaSeconds: null, previewPng: 'iVBOR',
  });
  assert.deepEqual(toJobUpdate({ type: 'progress', jobId: 'job1', progress: { step: 1, steps: 8, image: 1, images: 1, etaSeconds: 3 }, preview: { previewId: 'p1' } }), {
    type: 'progress', step: 1, steps: 8, image: 1, images: 1, etaSeconds: 3,
  });
  assert.deepEqual(toJobUpdate({ type: 'progress', jobId: 'job1', progress: { step: 0, steps: 0, image: 1, images: 1, message: 'Enhance 1/1: no "face" found, tab skipped' }, preview: null }), {
    type: 'progress', step: 0, steps: 0, image: 1, images: 1, etaSeconds: null, message: 'Enhance 1/1: no "face" found, tab skipped',
  });
  assert.deepEqual(toJobUpdate({ type: 'image-saved', jobId: 'job1', result: job.results[0]! }), { type: 'image', imageId: 'img1', seed: '18446744073709551' });
});

test('a job report keeps the Input Image choices and names a mask by its upload id, never its place under outputs', () => {
  const inpaint = { mode: 'detail', mask: 'uploads/0123456789abcdef01234567/up-AbCdEfGhIjKlMnOp.png', strength: 0.5, outpaint: { left: { px: 64 } } };
  const report = reportJob({ ...job, request: { ...(job.request as object), inpaint } });
  assert.deepEqual(report.request.inpaint, { ...inpaint, mask: 'up-AbCdEfGhIjKlMnOp' });
  assert.ok(!JSON.stringify(report).includes('uploads/'));
  const varyUpscale = { mode: 'upscale-custom', factor: 2.5, upscaler: 'x.safetensors' };
  assert.deepEqual(reportJob({ ...job, request: { ...(job.request as object), varyUpscale } }).request.varyUpscale, varyUpscale);
});
