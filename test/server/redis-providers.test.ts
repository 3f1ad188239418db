/**
 * Execution providers with the Redis queue: two real `fooocus worker` processes, one announcing cpu and one cuda
 * (each told so by its configuration, FOOOCUS_RUNTIME_EXECUTION_PROVIDER), behind a studio whose queue.providers
 * allows only cpu. Every job runs on the cpu worker; /readyz counts the workers per provider; once the cpu worker
 * stops, the studio is not ready and a new job waits in line instead of going to the cuda worker.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { skipWithoutRedis, startTestRedis, type TestRedis } from '../app/jobs/redis-server.ts';
import { startStudioServer, STUDIO_HOST, stopStudioServer, type StudioServer } from './studio-server.ts';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');
const json = { host: STUDIO_HOST, origin: `http://${STUDIO_HOST}`, 'content-type': 'application/json' };

interface WorkerProcess {
  child: ChildProcess;
  dir: string;
  output: () => string;
  exited: Promise<void>;
}

/** `fooocus worker` in a folder of its own, its provider set by the configuration's environment variable. */
async function startWorker(redisUrl: string, name: string, provider: string): Promise<WorkerProcess> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `fooocus-provider-${name}-`));
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'worker', '--name', name], {
    cwd: dir,
    env: {
      ...process.env,
      HOME: dir,
      FOOOCUS_CONFIG: '',
      FOOOCUS_QUEUE_REDIS_URL: redisUrl,
      FOOOCUS_QUEUE_REDIS_PREFIX: 'providers',
      FOOOCUS_RUNTIME_EXECUTION_PROVIDER: provider,
      FOOOCUS_RUNTIME_THREADS: '1',
      FOOOCUS_PATHS_MODELS: path.join(dir, 'models'),
      FOOOCUS_PATHS_OUTPUTS: path.join(dir, 'outputs'),
      FOOOCUS_PATHS_CACHE: path.join(dir, 'cache'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let i = 0; i < 1200 && !output.includes('is taking jobs'); i++) {
    if (child.exitCode !== null) throw new Error(`worker ${name} exited:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!output.includes('is taking jobs')) throw new Error(`worker ${name} did not start:\n${output}`);
  return { child, dir, output: () => output, exited };
}

async function stopWorker(worker: WorkerProcess | undefined): Promise<void> {
  if (worker === undefined) return;
  if (worker.child.exitCode === null) {
    worker.child.kill('SIGTERM');
    await worker.exited;
  }
  rmSync(worker.dir, { recursive: true, force: true });
}

describe('queue.providers with workers of two execution providers', { skip: skipWithoutRedis, timeout: 240_000 }, () => {
  let redis: TestRedis;
  let server: StudioServer;
  let cpu: WorkerProcess | undefined;
  let cuda: WorkerProcess | undefined;

  before(async () => {
    redis = await startTestRedis();
    server = await startStudioServer('fooocus-providers-', (_dir, config) => {
      config.queue = { ...config.queue, backend: 'redis', redisUrl: redis.url, redisPrefix: 'providers', localWorker: false, providers: ['cpu'] };
    });
    [cpu, cuda] = await Promise.all([startWorker(redis.url, 'cpu-1', 'cpu'), startWorker(redis.url, 'cuda-1', 'cuda')]);
  });
  after(async () => {
    await Promise.all([stopWorker(cpu), stopWorker(cuda)]);
    if (server !== undefined) await stopStudioServer(server);
    await redis?.dispose();
  });

  const readyz = async () => {
    const reply = await server.app.inject({ method: 'GET', url: '/readyz', headers: { host: STUDIO_HOST } });
    return { code: reply.statusCode, body: reply.json() as { status: string; reason?: string; workers?: number; providers?: Record<string, number> } };
  };

  async function waitForJob(id: string): Promise<{ status: string; error: string | null }> {
    for (let i = 0; i < 1200; i++) {
      const job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${id}`, headers: { host: STUDIO_HOST } })).json();
      if (!['queued', 'running'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('job did not finish in 120 s');
  }

  it('readiness counts the live workers per provider', async () => {
    let state = await readyz();
    for (let i = 0; i < 100 && state.body.workers !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await readyz();
    }
    assert.deepEqual(state, { code: 200, body: { status: 'ok', redis: 'connected', workers: 2, providers: { cpu: 1, cuda: 1 } } });
  });

  it('runs every job on the worker of an allowed provider only', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const reply = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: `a boat ${i}`, width: 64, height: 64, steps: 2 } });
      assert.equal(reply.statusCode, 202, reply.body);
      ids.push(reply.json().id);
    }
    for (const id of ids) {
      const job = await waitForJob(id);
      assert.equal(job.status, 'done', job.error ?? '');
    }
    const ran = (worker: WorkerProcess | undefined) => ids.filter((id) => worker?.output().includes(`job ${id}: running on`));
    assert.deepEqual(ran(cpu), ids, cpu?.output());
    assert.deepEqual(ran(cuda), [], cuda?.output());
  });

  it('with only a cuda worker left, is not ready and keeps a new job in line', async () => {
    await stopWorker(cpu);
    cpu = undefined;
    let state = await readyz();
    for (let i = 0; i < 100 && state.body.workers !== 1; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = await readyz();
    }
    assert.equal(state.code, 503);
    assert.deepEqual(state.body.providers, { cuda: 1 });
    assert.match(state.body.reason ?? '', /no live worker runs an execution provider queue\.providers allows \(cpu\)/);

    const reply = await server.app.inject({ method: 'POST', url: '/api/v1/generate', headers: json, payload: { prompt: 'a gull', width: 64, height: 64, steps: 2 } });
    assert.equal(reply.statusCode, 202, reply.body);
    await new Promise((r) => setTimeout(r, 2500));
    const job = (await server.app.inject({ method: 'GET', url: `/api/v1/jobs/${reply.json().id}`, headers: { host: STUDIO_HOST } })).json();
    assert.equal(job.status, 'queued');
    assert.equal(job.waitingFor, 'no connected worker runs on cpu (queue.providers)', 'the API says why the job does not start');
    assert.ok(!cuda?.output().includes(`job ${reply.json().id}`), cuda?.output());
  });
});
