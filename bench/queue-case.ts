/**
 * Queue benchmark: demo-model jobs through the local SQLite queue and through Redis (a redis-server on 127.0.0.1 in
 * a temporary folder, AOF everysec) with 1 and then 2 worker processes, each with one inference thread. Prints one
 * JSON line:
 *   - per backend, medians over single small jobs (64x64, 2 steps) on an idle queue: submit to the first sampling
 *     step, and the last step to the job recorded finished (the image saved and in history); the Redis figures
 *     minus the local ones are the latency the backend adds per job;
 *   - jobs per second for a batch submitted at once, twice: small jobs (a few ms of inference, so mostly the queue's
 *     own cost) and `large` jobs (256x256, 6 steps: inference dominates, the fair measure of what a second worker
 *     adds); `twoWorkerSpeedup` is the large jobs' ratio, `twoWorkerSpeedupSmall` the small ones'.
 * Usage: node --import tsx bench/queue-case.ts <cacheDir> [jobs per batch, default 12]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDefaultConfig, type AppConfig } from '../src/app/config/config-schema.ts';
import type { JobQueue } from '../src/app/jobs/job-queue.ts';
import { ANY_OWNER } from '../src/app/jobs/job-types.ts';
import { RedisJobQueue } from '../src/app/jobs/redis-job-queue.ts';
import { createStudio, type Studio } from '../src/app/studio/create-studio.ts';
import { startTestRedis } from '../test/app/jobs/redis-server.ts';

const batch = Number(process.argv[3] ?? 12);
const LATENCY_JOBS = 7;
const root = await mkdtemp(path.join(os.tmpdir(), 'fooocus-bench-queue-'));
const redis = await startTestRedis();
let folders = 0;

function configIn(dir: string): AppConfig {
  const config = createDefaultConfig();
  config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
  config.runtime.threads = 1;
  config.server.maxQueuedJobs = 1024;
  return config;
}

async function freshDir(): Promise<string> {
  return mkdtemp(path.join(root, `run-${folders++}-`));
}

const SMALL = { width: 64, height: 64, steps: 2 };
const LARGE = { width: 256, height: 256, steps: 6 };
type JobSize = typeof SMALL;

async function submit(studio: Studio, size: JobSize = SMALL): Promise<string> {
  const { id } = await studio.submitImages('bench', { prompt: 'a lighthouse at dusk', ...size, imageCount: 1 } as Parameters<Studio['submitImages']>[1]);
  return id;
}

/** Jobs per second for `batch` jobs of `size` submitted at once. */
async function timeBatch(studio: Studio, size: JobSize): Promise<number> {
  const t0 = performance.now();
  const ids = [];
  for (let i = 0; i < batch; i++) ids.push(await submit(studio, size));
  await untilDone(studio.queue, ids);
  return batch / ((performance.now() - t0) / 1000);
}

/** Times one job: submit to first step, last step to finished (ms). */
async function timeJob(studio: Studio): Promise<{ toFirstStep: number; toHistory: number }> {
  const t0 = performance.now();
  const id = await submit(studio);
  return new Promise((resolve, reject) => {
    let first: number | null = null;
    let last = 0;
    studio.queue.subscribe(id, ANY_OWNER, (event) => {
      if (event.type === 'progress') {
        first ??= performance.now();
        last = performance.now();
      }
      if (event.type === 'finished') resolve({ toFirstStep: (first ?? last) - t0, toHistory: performance.now() - last });
      if (event.type === 'failed' || event.type === 'interrupted' || event.type === 'cancelled') reject(new Error(`job ${event.type}`));
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

async function untilDone(queue: JobQueue, ids: string[]): Promise<void> {
  await Promise.all(
    ids.map(
      (id) =>
        new Promise<void>((resolve, reject) => {
          queue.subscribe(id, ANY_OWNER, (event) => {
            if (event.type === 'finished' || (event.type === 'snapshot' && event.job.status === 'done')) resolve();
            if (event.type === 'failed' || event.type === 'interrupted') reject(new Error(`job ${event.type}`));
          });
        }),
    ),
  );
}

async function measure(studio: Studio): Promise<{ toFirstStepMs: number; toHistoryMs: number; jobsPerSecond: number; largeJobsPerSecond: number }> {
  await timeJob(studio); // warm-up: model load and graph build
  const single = [];
  for (let i = 0; i < LATENCY_JOBS; i++) single.push(await timeJob(studio));
  const jobsPerSecond = await timeBatch(studio, SMALL);
  // Warm-up at the large size (its graphs are built per size) before it is timed.
  await timeBatch(studio, LARGE);
  const largeJobsPerSecond = await timeBatch(studio, LARGE);
  return { toFirstStepMs: median(single.map((s) => s.toFirstStep)), toHistoryMs: median(single.map((s) => s.toHistory)), jobsPerSecond, largeJobsPerSecond };
}

async function startWorker(config: AppConfig, id: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'queue-worker.ts'), JSON.stringify(config), id], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });
  return child;
}

async function runRedis(workers: number, prefix: string) {
  const config = configIn(await freshDir());
  config.queue = { ...config.queue, backend: 'redis', redisUrl: redis.url, redisPrefix: prefix, localWorker: false };
  const children = [];
  for (let i = 0; i < workers; i++) {
    const workerConfig = configIn(await freshDir());
    workerConfig.queue = { ...workerConfig.queue, redisUrl: redis.url, redisPrefix: prefix };
    children.push(await startWorker(workerConfig, `bench-${i + 1}`));
  }
  const studio = await createStudio(config, { software: 'Fooocus-TS bench' });
  try {
    while (((await (studio.queue as RedisJobQueue).workerStatus()).workers.length) < workers) await new Promise((r) => setTimeout(r, 50));
    // Each worker process loads the model once before the timed jobs.
    const warm = [];
    for (let i = 0; i < workers; i++) warm.push(await submit(studio));
    await untilDone(studio.queue, warm);
    return await measure(studio);
  } finally {
    await studio.close();
    await Promise.all(children.map((child) => new Promise((resolve) => (child.once('exit', resolve), child.kill('SIGTERM')))));
  }
}

try {
  const localStudio = await createStudio(configIn(await freshDir()), { software: 'Fooocus-TS bench' });
  const local = await measure(localStudio).finally(() => localStudio.close());
  const redisOne = await runRedis(1, 'bench1');
  const redisTwo = await runRedis(2, 'bench2');
  process.stdout.write(
    JSON.stringify({
      family: 'queue',
      part: 'backends',
      batch,
      local,
      redisOne,
      redisTwo,
      addedLatencyMs: redisOne.toFirstStepMs - local.toFirstStepMs + (redisOne.toHistoryMs - local.toHistoryMs),
      smallJob: SMALL,
      largeJob: LARGE,
      twoWorkerSpeedup: redisTwo.largeJobsPerSecond / redisOne.largeJobsPerSecond,
      twoWorkerSpeedupSmall: redisTwo.jobsPerSecond / redisOne.jobsPerSecond,
    }) + '\n',
  );
} finally {
  await redis.dispose();
  await rm(root, { recursive: true, force: true });
}
