/**
 * A worker process for the fault tests: the real RedisJobWorker with an executor that takes `steps` steps of
 * `stepMs` each per image (reporting progress, stopping at the next step on cancel or skip) and reports an image
 * whose file names this worker, so a test can tell which process ran a job. A process, so a test can SIGKILL it.
 *
 * argv: <redis url> <prefix> <worker id> <step ms> <steps> [model sha256,...]
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisJobWorker } from '../../../src/app/jobs/redis-job-worker.ts';

const [url, prefix, id, stepMs, steps, models] = process.argv.slice(2);
if (url === undefined || prefix === undefined || id === undefined) throw new Error('usage: step-worker-process <url> <prefix> <id> <stepMs> <steps> [models]');

const worker = new RedisJobWorker({
  redis: { url, prefix },
  id,
  concurrency: 1,
  provider: 'cpu',
  listModels: async () => (models === undefined || models === '' ? [] : models.split(',')),
  maxResultBytes: 1024 * 1024,
  maxAttachmentPixels: 1024 * 1024,
  announceEveryMs: 200,
  log: (line) => process.stderr.write(`[${id}] ${line}\n`),
  executor: async (job, execution) => {
    const images = (job.request as { images?: number }).images ?? 1;
    const total = Number(steps);
    for (let image = 1; image <= images; image++) {
      const signal = execution.skipSignal();
      let skipped = false;
      for (let step = 1; step <= total && !skipped; step++) {
        await sleep(Number(stepMs));
        execution.signal.throwIfAborted();
        skipped = signal.aborted;
        if (!skipped) execution.onProgress({ step, steps: total, image, images });
      }
      if (!skipped) execution.onImage({ imageId: `${job.id}-${image}`, file: `${id}/${job.id}-${image}.png`, seed: String(image) });
    }
    return [];
  },
});
await worker.start();
process.stdout.write('ready\n');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
