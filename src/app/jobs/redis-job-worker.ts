/**
 * The worker side of the Redis backend (`fooocus worker`, or the server's own worker with --local-worker): it
 * announces what it can run, takes the jobs the server gave it from its BullMQ queue, runs each through an injected
 * executor (the studio's, in a restricted inference process) and reports back through the `results` queue.
 *
 * What must stay true: the worker holds no state worth keeping (kill it at any time; the server gives its jobs to
 * another worker); every message from Redis is parsed before use and a malformed one is logged and dropped; a job is
 * run only while the server still names this worker and this dispatch for it (`P:assigned`), so a job given up for
 * lost and handed to another worker is not run twice by choice.
 */
import { randomBytes } from 'node:crypto';
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { FooocusError, toErrorData } from '../../engine/index.ts';
import type { JobExecution } from './job-queue.ts';
import type { JobRecord, JobResult } from './job-types.ts';
import { buildRedisOptions, type RedisSettings } from './redis-connection.ts';
import {
  allowsProvider,
  parseAssignment,
  parseControlMessage,
  parseRemoteJob,
  redisKeys,
  RESULTS_QUEUE,
  workQueueName,
  WORKER_ID_PATTERN,
  type ProgressReport,
  type RemoteJob,
  type WorkerAnnouncement,
  type WorkerReport,
} from './remote-job-protocol.ts';

/** Runs one job, like the local queue's executor; `remote` carries what came with it (attached images, model pins). */
export type RemoteJobExecutor = (job: JobRecord, execution: JobExecution, remote: RemoteJob) => Promise<JobResult[]>;

export interface RedisJobWorkerOptions {
  redis: RedisSettings;
  /** Unique among the studio's workers (letters, digits, dot, dash, underscore); default: host-like random id. */
  id?: string;
  concurrency: number;
  /** The execution provider it runs (announced; cpu, cuda, …). */
  provider: string;
  executor: RemoteJobExecutor;
  /** SHA-256 of each model it can run; read at start and at each announcement. */
  listModels: () => Promise<string[]>;
  /** Checks a job's models before it runs (throws a FooocusError naming the model to refuse the job). */
  prepare?: (remote: RemoteJob) => Promise<void>;
  /**
   * The bytes of an image the executor saved, read and removed from this machine, to send to the server. Absent:
   * nothing is sent and the server must find the file itself (only its own worker may do that).
   */
  takeImage?: (result: JobResult) => Promise<Buffer>;
  /** Largest image sent back (the server refuses larger ones too). */
  maxResultBytes: number;
  /** Largest attached image, in pixels. */
  maxAttachmentPixels: number;
  /** How often it announces itself (default 1000 ms); it counts as gone after three missed announcements. */
  announceEveryMs?: number;
  log?: (line: string) => void;
}

interface RunningJob {
  abort: AbortController;
  skip: AbortController | undefined;
  stop: 'cancel' | 'close' | undefined;
}

/** A job the studio limited to execution providers this worker does not run (a studio and a worker out of step). */
export class ProviderNotAllowedError extends FooocusError {
  constructor(provider: string, providers: readonly string[]) {
    super('conflict', `this worker runs ${provider}; the job may run only on ${providers.join(', ')} (queue.providers)`, { field: 'queue.providers', rule: 'provider' });
  }
}

/** Milliseconds a worker's announcement stays valid, as a multiple of its period. */
export const ANNOUNCEMENT_PERIODS = 3;

export class RedisJobWorker {
  readonly id: string;
  readonly #options: RedisJobWorkerOptions;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #running = new Map<string, RunningJob>();
  readonly #log: (line: string) => void;
  #redis: Redis | undefined;
  #subscriber: Redis | undefined;
  #results: Queue | undefined;
  #worker: Worker | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  readonly #startedAt = Date.now();

  constructor(options: RedisJobWorkerOptions) {
    const id = options.id ?? `worker-${randomBytes(6).toString('hex')}`;
    if (!WORKER_ID_PATTERN.test(id)) throw new RangeError(`worker id must match ${WORKER_ID_PATTERN.source}, got ${JSON.stringify(id)}`);
    this.id = id;
    this.#options = options;
    this.#keys = redisKeys(options.redis.prefix);
    this.#log = options.log ?? (() => undefined);
  }

  /** Connects, announces itself and starts taking jobs. */
  async start(): Promise<void> {
    const connection = buildRedisOptions(this.#options.redis);
    this.#redis = new Redis(connection);
    this.#subscriber = new Redis(connection);
    for (const client of [this.#redis, this.#subscriber]) client.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
    this.#subscriber.on('message', (_channel: string, text: string) => this.#onControl(text));
    await this.#subscriber.subscribe(this.#keys.control);
    this.#results = new Queue(RESULTS_QUEUE, { connection, prefix: this.#options.redis.prefix });
    this.#results.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
    await this.#announce();
    const every = this.#options.announceEveryMs ?? 1000;
    this.#timer = setInterval(() => void this.#announce().catch((err: unknown) => this.#log(`announce: ${String(err)}`)), every);
    this.#worker = new Worker(workQueueName(this.id), (job: Job) => this.#process(job), {
      connection,
      prefix: this.#options.redis.prefix,
      concurrency: this.#options.concurrency,
      // A worker that comes back under the same id finds its own unfinished job through BullMQ's stalled check.
      maxStalledCount: 1,
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 24 * 3600 },
    });
    this.#worker.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
  }

  /** Job ids running here now. */
  runningJobIds(): string[] {
    return [...this.#running.keys()];
  }

  /**
   * Stops taking jobs, interrupts the running ones (reported `interrupted`, retryable), withdraws the announcement
   * and disconnects.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#timer);
    for (const running of this.#running.values()) {
      running.stop ??= 'close';
      running.abort.abort(new Error('worker stopping'));
    }
    await this.#worker?.close();
    await this.#redis?.multi().zrem(this.#keys.workers, this.id).hdel(this.#keys.workerInfo, this.id).exec().catch(() => undefined);
    await this.#results?.close();
    this.#subscriber?.disconnect();
    this.#redis?.disconnect();
  }

  async #announce(): Promise<void> {
    const redis = this.#redis;
    if (redis === undefined || this.#closing) return;
    const every = this.#options.announceEveryMs ?? 1000;
    const announcement: WorkerAnnouncement = {
      id: this.id,
      concurrency: this.#options.concurrency,
      provider: this.#options.provider,
      models: await this.#options.listModels(),
      startedAt: this.#startedAt,
    };
    await redis
      .multi()
      .zadd(this.#keys.workers, Date.now() + every * ANNOUNCEMENT_PERIODS, this.id)
      .hset(this.#keys.workerInfo, this.id, JSON.stringify(announcement))
      .exec();
  }

  #onControl(text: string): void {
    let message;
    try {
      message = parseControlMessage(text);
    } catch (err) {
      this.#log(`ignored a message on ${this.#keys.control}: ${(err as Error).message}`);
      return;
    }
    const running = this.#running.get(message.jobId);
    if (running === undefined) return;
    if (message.action === 'cancel') {
      running.stop ??= 'cancel';
      running.abort.abort(new Error('job cancelled'));
    } else running.skip?.abort(new Error('image skipped'));
  }

  /** One BullMQ job: never throws for a bad job (that would make BullMQ retry it); reports instead. */
  async #process(bull: Job): Promise<void> {
    let remote: RemoteJob;
    try {
      remote = parseRemoteJob(bull.data, this.#options.maxAttachmentPixels);
    } catch (err) {
      this.#log(`dropped job ${bull.id ?? '?'} from ${workQueueName(this.id)}: ${(err as Error).message}`);
      return;
    }
    const redis = this.#redis as Redis;
    // One round trip for both checks: whether the dispatch is still this worker's, and whether it was cancelled.
    const [assignedReply, stopReply] = (await redis.multi().hget(this.#keys.assigned, remote.jobId).get(this.#keys.stop(remote.jobId)).exec()) ?? [];
    const assigned = typeof assignedReply?.[1] === 'string' ? assignedReply[1] : null;
    let current = false;
    try {
      const assignment = assigned === null ? null : parseAssignment(assigned);
      current = assignment?.dispatch === remote.dispatch && assignment.worker === this.id;
    } catch (err) {
      this.#log(`job ${remote.jobId}: ${(err as Error).message}`);
    }
    if (!current) {
      this.#log(`job ${remote.jobId}: dispatch ${remote.dispatch} is no longer this worker's; not running it`);
      return;
    }
    const base = { jobId: remote.jobId, dispatch: remote.dispatch, worker: this.id };
    if (typeof stopReply?.[1] === 'string') {
      await this.#report({ ...base, type: 'cancelled' });
      return;
    }
    await this.#run(remote, base);
  }

  async #run(remote: RemoteJob, base: { jobId: string; dispatch: string; worker: string }): Promise<void> {
    const running: RunningJob = { abort: new AbortController(), skip: undefined, stop: undefined };
    this.#running.set(remote.jobId, running);
    if (this.#closing) {
      running.stop = 'close';
      running.abort.abort(new Error('worker stopping'));
    }
    const reported = new Set<string>();
    // One after another, so the server records images in the order they were made.
    let imagesSent: Promise<void> = Promise.resolve();
    let lastProgress: Promise<void> = Promise.resolve();
    const sendImage = async (result: JobResult, atEnd = false): Promise<void> => {
      const bytes = this.#options.takeImage === undefined ? undefined : await this.#options.takeImage(result);
      if (bytes !== undefined && bytes.length > this.#options.maxResultBytes) {
        throw new Error(`image ${result.file} is ${bytes.length} bytes, over queue.maxResultBytes (${this.#options.maxResultBytes})`);
      }
      await this.#report({ ...base, type: 'image', result, ...(bytes === undefined ? {} : { bytes: bytes.toString('base64') }), ...(atEnd ? { atEnd } : {}) });
    };
    try {
      if (!allowsProvider(remote.providers, this.#options.provider)) throw new ProviderNotAllowedError(this.#options.provider, remote.providers);
      await this.#options.prepare?.(remote);
      const job: JobRecord = {
        id: remote.jobId,
        owner: remote.owner,
        status: 'running',
        request: remote.request,
        createdAt: remote.createdAt,
        startedAt: Date.now(),
        finishedAt: null,
        progress: null,
        error: null,
        results: [],
        retryOf: remote.retryOf,
      };
      const execution: JobExecution = {
        signal: running.abort.signal,
        skipSignal: () => {
          running.skip = new AbortController();
          return AbortSignal.any([running.abort.signal, running.skip.signal]);
        },
        onProgress: (progress, preview) => {
          const report: ProgressReport = { ...base, progress, preview: preview ?? null };
          lastProgress = (this.#redis as Redis).publish(this.#keys.progress, JSON.stringify(report)).then(() => undefined, () => undefined);
        },
        onImage: (result) => {
          reported.add(result.imageId);
          // After the progress before it has reached Redis (and so its subscribers), so the two keep their order.
          const published = lastProgress;
          imagesSent = imagesSent.then(() => published).then(() => sendImage(result));
          // Handled here so a failed send waits for the job's end instead of being an unhandled rejection.
          imagesSent.catch(() => undefined);
        },
      };
      // A cancel or shutdown that came while the job was being checked stops it before it starts.
      running.abort.signal.throwIfAborted();
      const results = await this.#options.executor(job, execution, remote);
      await imagesSent;
      for (const result of results) if (!reported.has(result.imageId)) await sendImage(result, true);
      await this.#report({ ...base, type: running.stop === 'cancel' ? 'cancelled' : running.stop === 'close' ? 'interrupted' : 'done' });
    } catch (err) {
      await imagesSent.catch(() => undefined);
      if (running.stop === 'cancel') await this.#report({ ...base, type: 'cancelled' });
      else if (running.stop === 'close') await this.#report({ ...base, type: 'interrupted' });
      else {
        const error = toErrorData(err);
        if (error.kind === 'internal') this.#log(`job ${remote.jobId} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
        await this.#report({ ...base, type: 'failed', error });
      }
    } finally {
      this.#running.delete(remote.jobId);
    }
  }

  async #report(report: WorkerReport): Promise<void> {
    // Reports of one job keep their order: the results queue is consumed one at a time, first in, first out.
    await (this.#results as Queue).add(report.type, report, { removeOnComplete: true, removeOnFail: { age: 24 * 3600 } });
  }
}
