/**
 * Server benchmark: the real studio (demo model, inference worker, SQLite queue) behind the real HTTP server on
 * 127.0.0.1, with load sent from a second process (bench/server-load.ts). Rate limits are raised through the
 * server's own options, so what is measured is the work a request costs, not the limiter. Prints one JSON line:
 *   - read route: GET /api/v1/styles (every style with its templates, about 33 kB), 16 connections;
 *   - job submission: POST /api/v1/generate (validation, composition checks, one SQLite insert), 8 connections,
 *     while the worker runs the jobs it can (they are cancelled afterwards);
 *   - queue overhead per job with the demo model, on an idle queue: submit to `started` (queue dispatch) and
 *     submit to the first sampling step (request composed, sent to the worker, model verified and cached, prompt
 *     encoded), median of 10 jobs after a warm-up job.
 * Each load run starts with a tenth of its count as uncounted warm-up requests on the same connections.
 * Usage: node --import tsx bench/server-case.ts <cacheDir>
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createDefaultConfig } from '../src/app/config/config-schema.ts';
import { ANY_OWNER } from '../src/app/jobs/job-types.ts';
import { createStudio } from '../src/app/studio/create-studio.ts';
import { createAppStudioPort } from '../src/server/app-studio-port.ts';
import { startServer } from '../src/server/serve.ts';

const dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-bench-server-'));
const config = createDefaultConfig();
config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
config.server.maxQueuedJobs = 1024;
const studio = await createStudio(config, { software: 'Fooocus-TS bench' });
const server = await startServer(
  createAppStudioPort(studio),
  { host: '127.0.0.1', auth: null, outputsDir: studio.outputsDir, logger: false, rateLimit: { readsPerMinute: 10_000_000, submitsPerMinute: 10_000_000 } },
  { listenPort: 0, handleSignals: false },
);
const host = new URL(server.url).host;
const json = { host, origin: server.url, 'content-type': 'application/json' };
const job = (extra: Record<string, unknown> = {}) => JSON.stringify({ prompt: 'a lighthouse at dusk', width: 64, height: 64, steps: 1, imageCount: 1, ...extra });

interface LoadResult {
  completed: number;
  failed: number;
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
}

/** Runs the load generator in its own process; asynchronously, since this process is the server. */
async function load(spec: { url: string; method: 'GET' | 'POST'; headers: Record<string, string>; body?: string; concurrency: number; count: number; warmup: number }): Promise<LoadResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'server-load.ts'), JSON.stringify(spec)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`load generator failed: ${stderr}`);
  return JSON.parse(line) as LoadResult;
}

/** Submits one job and times it: dispatch from the job's own start time, first step from its first progress event. */
async function timeOneJob(): Promise<{ started: number; firstStep: number }> {
  const t0 = Date.now();
  const response = await fetch(`${server.url}/api/v1/generate`, { method: 'POST', headers: json, body: job({ steps: 2 }) });
  const { id } = (await response.json()) as { id: string };
  return new Promise((resolve, reject) => {
    // On an idle queue the job may start before this subscription: the snapshot then carries its start time.
    let startedAt: number | null = null;
    const stop = studio.queue.subscribe(id, ANY_OWNER, (event) => {
      if (event.type === 'snapshot') startedAt ??= event.job.startedAt;
      if (event.type === 'started') startedAt ??= event.startedAt;
      if (event.type === 'progress' && startedAt !== null) {
        stop();
        resolve({ started: startedAt - t0, firstStep: Date.now() - t0 });
      }
      if (event.type === 'failed' || event.type === 'interrupted') reject(new Error(event.error));
    });
  });
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

try {
  await timeOneJob(); // warm-up: starts the worker process and loads the demo model
  const overhead: { started: number; firstStep: number }[] = [];
  for (let i = 0; i < 10; i++) {
    overhead.push(await timeOneJob());
    await new Promise((r) => setTimeout(r, 1500)); // let the job finish: an idle queue for the next one
  }

  const read = await load({ url: `${server.url}/api/v1/styles`, method: 'GET', headers: { host }, concurrency: 16, count: 4000, warmup: 400 });
  const submit = await load({ url: `${server.url}/api/v1/generate`, method: 'POST', headers: json, body: job(), concurrency: 8, count: 800, warmup: 80 });

  console.log(
    JSON.stringify({
      family: 'server',
      part: 'api',
      read,
      submit,
      queueStartedMs: median(overhead.map((o) => o.started)),
      queueFirstStepMs: median(overhead.map((o) => o.firstStep)),
    }),
  );
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
