/**
 * The inference process killed while a job runs (the OOM killer, an operator's kill -9): the job is recorded as
 * interrupted and retryable with a message naming the signal and no stack, and the next job runs in a fresh
 * process.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createDefaultConfig, type AppConfig } from '../../../src/app/config/config-schema.ts';
import { ANY_OWNER, type JobEvent } from '../../../src/app/jobs/job-types.ts';
import { createStudio } from '../../../src/app/studio/create-studio.ts';
import type { ImageRequest } from '../../../src/app/generation/image-request.ts';
import { findInferencePids, skipWithoutProc } from '../worker/inference-processes.ts';

describe('the inference process killed mid-job', { timeout: 180_000, skip: skipWithoutProc }, () => {
  let dir = '';
  after(async () => {
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('records the job as interrupted (retryable) naming the signal; the next job gets a fresh process and finishes', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-crash-'));
    const config: AppConfig = createDefaultConfig();
    config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
    config.runtime.threads = 1;
    const studio = await createStudio(config, { software: 'test' });
    try {
      const request: ImageRequest = { prompt: 'a long job', negative: '', styles: [], performance: 'Speed', width: 256, height: 256, imageCount: 1, seed: '1', steps: 150, format: 'png' };
      const { id } = await studio.queue.submit('local', request);
      const events: JobEvent[] = [];
      let killed: number | null = null;
      const last = new Promise<JobEvent>((resolve) => {
        studio.queue.subscribe(id, ANY_OWNER, (event) => {
          events.push(event);
          if (event.type === 'progress' && event.progress.step > 0 && killed === null) {
            const [pid] = findInferencePids(dir);
            assert.ok(pid !== undefined, 'the inference process is running');
            killed = pid;
            process.kill(pid, 'SIGKILL');
          }
          if (event.type === 'interrupted' || event.type === 'failed' || event.type === 'finished' || event.type === 'cancelled') resolve(event);
        });
      });
      const message = 'the inference worker stopped unexpectedly (SIGKILL); retry';
      assert.deepEqual(await last, { type: 'interrupted', jobId: id, error: message });
      const job = await studio.queue.get(id, 'local');
      assert.deepEqual({ status: job.status, error: job.error }, { status: 'interrupted', error: message });

      const retried = await studio.queue.retry(id, 'local');
      const done = await new Promise<JobEvent>((resolve) => {
        studio.queue.subscribe(retried.id, 'local', (event) => {
          if (event.type === 'finished' || event.type === 'failed' || event.type === 'interrupted') resolve(event);
        });
      });
      assert.equal(done.type, 'finished', JSON.stringify(done));
      const [fresh] = findInferencePids(dir);
      assert.ok(fresh !== undefined && fresh !== killed, 'a fresh inference process ran the next job');
    } finally {
      await studio.close();
    }
  });
});
