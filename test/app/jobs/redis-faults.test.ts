/**
 * The Redis backend with several worker processes and the faults it must survive: fair sharing between two
 * workers, a worker killed mid-job, redis-server killed and restarted mid-run, the server restarted while a worker
 * runs a job, a job no announced worker can run, a worker whose model differs, a job limited to providers the
 * worker does not run, and junk written into its keys.
 * Everything runs against a real redis-server on 127.0.0.1 and stops by itself.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, afterEach, before, describe, it } from 'node:test';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { openJobStore } from '../../../src/app/jobs/job-store.ts';
import type { JobEvent } from '../../../src/app/jobs/job-types.ts';
import { RedisJobQueue, type RedisJobQueueOptions } from '../../../src/app/jobs/redis-job-queue.ts';
import { RedisJobWorker } from '../../../src/app/jobs/redis-job-worker.ts';
import { redisKeys, RESULTS_QUEUE, workQueueName } from '../../../src/app/jobs/remote-job-protocol.ts';
import { recordEvents } from './fake-executor.ts';
import { skipWithoutRedis, startTestRedis, type TestRedis } from './redis-server.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-redis-faults-'));
let redis: TestRedis;
let counter = 0;
const children: ChildProcess[] = [];
const queues: RedisJobQueue[] = [];
const T = { timeout: 60_000 };

interface Setup {
  prefix: string;
  file: string;
  lines: string[];
  open(options?: Partial<RedisJobQueueOptions>): Promise<RedisJobQueue>;
}

function setUp(): Setup {
  const prefix = `f${counter++}`;
  const file = path.join(mkdtempSync(path.join(root, 'db-')), 'jobs.sqlite');
  const lines: string[] = [];
  return {
    prefix,
    file,
    lines,
    open: async (options = {}) => {
      const queue = await RedisJobQueue.open({
        store: openJobStore(file, { keepRunning: true }),
        redis: { url: redis.url, prefix },
        maxResultBytes: 1024 * 1024,
        checkEveryMs: 100,
        log: (line) => lines.push(line),
        ...options,
      });
      queues.push(queue);
      return queue;
    },
  };
}

async function startWorkerProcess(prefix: string, id: string, stepMs: number, steps: number, models: string[] = []): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'step-worker-process.ts'), redis.url, prefix, id, String(stepMs), String(steps), models.join(',')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`worker ${id} exited (${code}): ${errors}`)));
  });
  return child;
}

async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

async function untilWorkers(queue: RedisJobQueue, count: number): Promise<void> {
  while ((await queue.workerStatus()).workers.length < count) await new Promise((resolve) => setTimeout(resolve, 50));
}

describe('the redis backend with worker processes and faults', { skip: skipWithoutRedis }, () => {
  before(async () => {
    redis = await startTestRedis();
  });
  afterEach(async () => {
    await Promise.all(children.splice(0).map((child) => stopProcess(child, 'SIGKILL')));
    await Promise.all(queues.splice(0).map((queue) => queue.close()));
  });
  after(async () => {
    await redis.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  it('two workers share the jobs of two owners in turn, and both run jobs', T, async () => {
    const setup = setUp();
    const queue = await setup.open();
    await Promise.all([startWorkerProcess(setup.prefix, 'w1', 20, 5), startWorkerProcess(setup.prefix, 'w2', 20, 5)]);
    await untilWorkers(queue, 2);
    const started: string[] = [];
    const jobs = [];
    for (const owner of ['A', 'A', 'A', 'A', 'B', 'B']) {
      const { id } = await queue.submit(owner, {});
      jobs.push({ id, owner, watch: recordEvents(queue, id, owner) });
      queue.subscribe(id, owner, (event: JobEvent) => {
        if (event.type === 'started') started.push(owner);
      });
    }
    const finished = await Promise.all(jobs.map((job) => job.watch.until('finished')));
    // A's four were submitted first, yet B's two start among A's first three.
    assert.deepEqual(started.slice(0, 4).sort(), ['A', 'A', 'B', 'B']);
    const runners = new Set(finished.map((event) => event.job.results[0]?.file.split('/')[0]));
    assert.deepEqual([...runners].sort(), ['w1', 'w2']);
  });

  it('a worker killed with SIGKILL mid-job: the other worker runs the job, and history shows it once', T, async () => {
    const setup = setUp();
    const queue = await setup.open();
    const first = await startWorkerProcess(setup.prefix, 'k1', 50, 1000);
    await untilWorkers(queue, 1);
    const { id } = await queue.submit('alice', {});
    const watch = recordEvents(queue, id, 'alice');
    await watch.until('progress');
    await startWorkerProcess(setup.prefix, 'k2', 20, 5);
    await stopProcess(first, 'SIGKILL');
    const finished = await watch.until('finished');
    assert.equal(finished.job.status, 'done');
    assert.deepEqual(finished.job.results.map((r) => r.file), [`k2/${id}-1.png`]);
    const history = await queue.list('alice');
    assert.deepEqual(history.jobs.map((job) => [job.id, job.status]), [[id, 'done']]);
    assert.ok(setup.lines.some((line) => line.includes('k1 stopped answering')), setup.lines.join('\n'));
  });

  it('redis-server killed and restarted mid-run: server and workers reconnect and every submitted job finishes', T, async () => {
    const setup = setUp();
    const queue = await setup.open();
    await Promise.all([startWorkerProcess(setup.prefix, 'r1', 30, 10), startWorkerProcess(setup.prefix, 'r2', 30, 10)]);
    await untilWorkers(queue, 2);
    const jobs = [];
    for (const owner of ['A', 'B', 'A', 'B', 'A', 'B']) {
      const { id } = await queue.submit(owner, {});
      jobs.push({ id, owner, watch: recordEvents(queue, id, owner) });
    }
    await jobs[0]?.watch.until('progress');
    await redis.stop('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await redis.start();
    const ends = await Promise.all(jobs.map((job) => job.watch.until('finished')));
    assert.deepEqual(ends.map((end) => end.job.status), ['done', 'done', 'done', 'done', 'done', 'done']);
    assert.equal((await queue.list('A')).jobs.length + (await queue.list('B')).jobs.length, 6);
  });

  it('the server restarted while a worker runs a job: the job goes on and its result is recorded', T, async () => {
    const setup = setUp();
    const queue = await setup.open();
    await startWorkerProcess(setup.prefix, 's1', 30, 20);
    await untilWorkers(queue, 1);
    const { id } = await queue.submit('alice', { images: 2 });
    await recordEvents(queue, id, 'alice').until('progress');
    await queue.close();
    // The worker finishes while no server listens; its reports wait in Redis.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const reopened = await setup.open();
    const watch = recordEvents(reopened, id, 'alice');
    const snapshot = watch.events[0];
    assert.ok(snapshot?.type === 'snapshot' && (snapshot.job.status === 'running' || snapshot.job.status === 'done'));
    const job = snapshot.job.status === 'done' ? snapshot.job : (await watch.until('finished')).job;
    assert.equal(job.status, 'done');
    assert.deepEqual(job.results.map((r) => r.file), [`s1/${id}-1.png`, `s1/${id}-2.png`]);
  });

  it('a job whose model no announced worker has waits in line, and runs when a worker that has it appears', T, async () => {
    const setup = setUp();
    const sha = 'a'.repeat(64);
    const queue = await setup.open({ pinModels: async () => [{ kind: 'checkpoints', name: 'x.safetensors', sha256: sha }] });
    await startWorkerProcess(setup.prefix, 'm1', 10, 2);
    await untilWorkers(queue, 1);
    const { id } = await queue.submit('alice', {});
    await new Promise((resolve) => setTimeout(resolve, 600));
    const waiting = await queue.get(id, 'alice');
    assert.equal(waiting.status, 'queued');
    assert.equal(waiting.position, 1);
    assert.equal(waiting.waitingFor, `no connected worker has checkpoints/x.safetensors (sha256 ${'a'.repeat(12)})`);
    const events = recordEvents(queue, id, 'alice');
    const snapshot = await events.until('snapshot');
    assert.equal(snapshot.job.waitingFor, waiting.waitingFor, 'a listener joining late hears why the job waits');
    await startWorkerProcess(setup.prefix, 'm2', 10, 2, [sha]);
    const finished = await events.until('finished');
    assert.deepEqual(finished.job.results.map((r) => r.file), [`m2/${id}-1.png`]);
  });

  it('a worker whose model differs refuses the job with an error naming the model; nothing is recorded', T, async () => {
    const setup = setUp();
    const pinned = { kind: 'checkpoints', name: 'x.safetensors', sha256: 'b'.repeat(64) };
    const queue = await setup.open({ pinModels: async () => [pinned], describeFailure: (error) => (error as Error).message });
    let ran = false;
    const worker = new RedisJobWorker({
      redis: { url: redis.url, prefix: setup.prefix },
      id: 'mismatch',
      concurrency: 1,
      provider: 'cpu',
      // An announcement from before its file changed: it still claims the studio's hash.
      listModels: async () => [pinned.sha256],
      prepare: async (remote) => {
        const pin = remote.models[0];
        if (pin?.sha256 !== 'c'.repeat(64)) throw new (await import('../../../src/app/studio/model-pins.ts')).PinnedModelMismatchError(pin!, 'c'.repeat(64));
      },
      executor: async () => {
        ran = true;
        return [];
      },
      maxResultBytes: 1024,
      maxAttachmentPixels: 1024,
      announceEveryMs: 200,
    });
    await worker.start();
    try {
      const { id } = await queue.submit('alice', {});
      const failed = await recordEvents(queue, id, 'alice').until('failed');
      assert.match(failed.error, /checkpoints\/x\.safetensors: the worker's file has SHA-256 c{64}, the studio's b{64}/);
      assert.equal(ran, false);
      assert.deepEqual((await queue.get(id, 'alice')).results, []);
    } finally {
      await worker.close();
    }
  });

  it('malformed messages in its keys are logged and dropped; the server and the worker go on', T, async () => {
    const setup = setUp();
    const queue = await setup.open();
    const worker = await startWorkerProcess(setup.prefix, 'j1', 10, 2);
    await untilWorkers(queue, 1);
    const keys = redisKeys(setup.prefix);
    const client = new Redis(redis.url);
    const results = new Queue(RESULTS_QUEUE, { connection: { host: '127.0.0.1', port: redis.port }, prefix: setup.prefix });
    const work = new Queue(workQueueName('j1'), { connection: { host: '127.0.0.1', port: redis.port }, prefix: setup.prefix });
    try {
      await results.add('junk', { type: 'done', jobId: '../../etc', dispatch: 'x', worker: 'j1' });
      await results.add('junk', { type: 'image', jobId: 'abc', dispatch: 'x', worker: 'j1', result: { file: 1 } });
      await results.add('junk', 'not even an object');
      await work.add('junk', { jobId: 'abc', request: 'no' });
      await client.publish(keys.progress, '{not json');
      await client.publish(keys.progress, JSON.stringify({ jobId: 'abc', dispatch: 'x', progress: { step: -1 } }));
      await client.publish(keys.control, JSON.stringify({ jobId: 'abc', action: 'rm -rf' }));
      await client.hset(keys.workerInfo, 'j1-fake', '{"id": 5}');
      await client.zadd(keys.workers, Date.now() + 60_000, 'j1-fake');
      const { id } = await queue.submit('alice', {});
      const finished = await recordEvents(queue, id, 'alice').until('finished');
      assert.equal(finished.job.status, 'done');
      assert.ok(worker.exitCode === null, 'the worker is still running');
      const logged = setup.lines.join('\n');
      assert.match(logged, /ignored a report in results: malformed worker report: jobId/);
      assert.match(logged, /ignored a report in results: malformed worker report: message must be an object/);
      assert.match(logged, /ignored a message on f\d+:progress: malformed progress report/);
      assert.match(logged, /ignored a worker announcement: malformed worker announcement/);
    } finally {
      await results.close();
      await work.close();
      client.disconnect();
    }
  });

  it('a worker refuses a job limited to providers it does not run, before running it, naming queue.providers', T, async () => {
    const prefix = `f${counter++}`;
    let ran = false;
    const worker = new RedisJobWorker({
      redis: { url: redis.url, prefix },
      id: 'cpu-only',
      concurrency: 1,
      provider: 'cpu',
      listModels: async () => [],
      executor: async () => {
        ran = true;
        return [];
      },
      maxResultBytes: 1024,
      maxAttachmentPixels: 1024,
    });
    await worker.start();
    const connection = { host: '127.0.0.1', port: redis.port };
    const client = new Redis(redis.url);
    const work = new Queue(workQueueName('cpu-only'), { connection, prefix });
    const reports: unknown[] = [];
    const reader = new Worker(RESULTS_QUEUE, async (job) => void reports.push(job.data), { connection, prefix });
    try {
      // What a studio that lists only cuda (or an older studio state) would hand this worker.
      await client.hset(redisKeys(prefix).assigned, 'job-p', JSON.stringify({ dispatch: 'd-p', worker: 'cpu-only' }));
      await work.add('job', { jobId: 'job-p', dispatch: 'd-p', owner: 'alice', createdAt: 1, retryOf: null, request: {}, models: [], providers: ['cuda'], attachments: [] });
      while (reports.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
      const report = reports[0] as { type: string; error: { name: string; kind: string; message: string; field?: string } };
      assert.equal(report.type, 'failed');
      assert.equal(report.error.name, 'ProviderNotAllowedError');
      assert.equal(report.error.field, 'queue.providers');
      assert.match(report.error.message, /this worker runs cpu; the job may run only on cuda/);
      assert.equal(ran, false);
    } finally {
      await reader.close();
      await work.close();
      client.disconnect();
      await worker.close();
    }
  });
});
