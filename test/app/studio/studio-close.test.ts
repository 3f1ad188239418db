/**
 * Closing the studio while a job runs (what `fooocus serve` does on SIGTERM): the job is recorded as interrupted
 * and stays retryable, the job database is closed, the inference process is gone. The same holds when the job
 * does not stop within the grace period and the inference process is stopped under it.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { createDefaultConfig, type AppConfig } from '../../../src/app/config/config-schema.ts';
import { INTERRUPTED_MESSAGE } from '../../../src/app/jobs/job-store.ts';
import { ANY_OWNER } from '../../../src/app/jobs/job-types.ts';
import { createStudio } from '../../../src/app/studio/create-studio.ts';
import type { ImageRequest } from '../../../src/app/generation/image-request.ts';

/** Processes whose command line names `dir`: the inference process is started with its directories as flags. */
function processesNaming(dir: string): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe('closing the studio while a job runs', { timeout: 240_000 }, () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const request: ImageRequest = { prompt: 'a long job', negative: '', styles: [], performance: 'Speed', width: 512, height: 512, imageCount: 1, seed: '1', steps: 150, format: 'png' };

  for (const [when, jobStopGraceMs] of [
    ['at its next step', undefined],
    ['when the grace period is over, by stopping the inference process', 0],
  ] as const) {
    it(`interrupts the job ${when}; the store and the inference process are closed`, async (t) => {
      const dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-close-'));
      dirs.push(dir);
      const config: AppConfig = createDefaultConfig();
      config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
      config.runtime.threads = 1;
      const lines: string[] = [];
      const studio = await createStudio(config, { software: 'test', log: (line) => lines.push(line), ...(jobStopGraceMs === undefined ? {} : { jobStopGraceMs }) });
      const { id } = await studio.queue.submit('local', request);
      await new Promise<void>((resolve) => {
        const stop = studio.queue.subscribe(id, ANY_OWNER, (event) => {
          if (event.type === 'progress' && event.progress.step > 0) {
            queueMicrotask(() => stop());
            resolve();
          }
        });
      });
      assert.ok(processesNaming(dir).length > 0, 'the inference process is running');

      const closing = performance.now();
      await studio.close();
      t.diagnostic(`close() took ${((performance.now() - closing) / 1000).toFixed(1)} s`);
      assert.deepEqual(processesNaming(dir), [], 'the inference process is gone');
      // It said what it waited for, in order.
      const said = lines.filter((l) => l.startsWith('stopping:'));
      const waited = `stopping: waiting up to ${jobStopGraceMs === undefined ? 10 : 0} s for job ${id} to stop at its next step`;
      const gaveUp = `stopping: job ${id} did not stop within 0 s; stopping the inference process`;
      const ended = [`stopping: job ${id} recorded as interrupted (it can be retried)`, 'stopping: inference process ended, job database closed'];
      assert.deepEqual(said, jobStopGraceMs === undefined ? [waited, ...ended] : [waited, gaveUp, ...ended]);
      assert.ok(!existsSync(path.join(dir, 'cache', 'jobs.sqlite-wal')), 'the job database was closed');

      const restarted = await createStudio(config, { software: 'test' });
      try {
        const job = await restarted.queue.get(id, ANY_OWNER);
        assert.deepEqual({ status: job.status, error: job.error }, { status: 'interrupted', error: INTERRUPTED_MESSAGE });
        const retried = await restarted.queue.retry(id, 'local');
        await restarted.queue.cancel(retried.id, 'local');
      } finally {
        await restarted.close();
      }
    });
  }
});
