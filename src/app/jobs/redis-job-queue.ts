/**
 * The Redis backend of `JobQueue`: the server keeps the history, the line and the fairness (the same SQLite store
 * and owner rotation as the local queue) and hands each job, when its turn comes, to a live worker that announced
 * the models the job needs and has a free slot, through that worker's BullMQ queue. Workers report through the
 * `results` queue (consumed here one at a time, so a job's reports keep their order and wait in Redis while the
 * server is down) and publish progress on a channel.
 *
 * What must stay true:
 * - the SQLite store is the only history: a job has one row from submit to its end, whichever workers ran it;
 * - a running job's current dispatch is in `P:assigned`; reports of any other dispatch are ignored, so a worker
 *   given up for dead cannot change a job another worker now runs;
 * - a job whose worker stopped announcing itself, or whose dispatch Redis lost (a restart that dropped the last
 *   second of writes), goes back in line under the same id; a cancelled one is recorded cancelled instead;
 * - closing the server leaves jobs running on other machines running: they stay `running` and the next server
 *   start picks them up from `P:assigned` and the reports waiting in `results`.
 */
import { randomBytes } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { JobNotFoundError, JobStateError } from './job-errors.ts';
import { JobLedger, type JobLedgerOptions } from './job-ledger.ts';
import type { JobLine } from './job-line.ts';
import type { JobQueue, JobSubmission, SubmitOptions, Unsubscribe } from './job-queue.ts';
import type { JobStore } from './job-store.ts';
import type { JobListener, JobPage, JobPageRequest, JobRecord, JobResult, JobView, OwnerScope } from './job-types.ts';
import { buildRedisOptions, type RedisSettings } from './redis-connection.ts';
import { ReportRecorder, type Dispatched } from './redis-report-recorder.ts';
import { WorkerRegistry, type WorkerStatus } from './redis-worker-registry.ts';
import { parseAssignment, redisKeys, RESULTS_QUEUE, type Attachment, type ModelPin, type RemoteJob, type WorkerAnnouncement } from './remote-job-protocol.ts';

export { WORKER_STOPPED_MESSAGE } from './redis-report-recorder.ts';
export type { WorkerStatus } from './redis-worker-registry.ts';

const LOST_CHECK_MS = 3000;

export interface RedisJobQueueOptions extends JobLedgerOptions {
  /** Opened with `keepRunning`; the queue owns it and closes it in `close()`. */
  store: JobStore;
  redis: RedisSettings;
  log?: (line: string) => void;
  /** The models a request needs, pinned by SHA-256 (a job goes only to a worker that announced them all). */
  pinModels?: (request: unknown) => Promise<ModelPin[]>;
  /** The execution providers a job may run on (`queue.providers`); empty or absent: any worker. */
  providers?: readonly string[];
  /** The images a request reads, decoded, sent with the job. */
  attach?: (request: unknown) => Promise<Attachment[]>;
  /**
   * Puts a reported image in place before it is recorded: writes `bytes`, or (no bytes, from `localWorkerId` only)
   * checks the file the server's own worker wrote. Throws to refuse it (the job fails).
   */
  receiveImage?: (result: JobResult, bytes: Buffer | undefined, fromLocalWorker: boolean) => Promise<void>;
  maxResultBytes: number;
  /** The id of the worker running inside this process, if any: its shutdown is the server's. */
  localWorkerId?: string;
  /** Stops the worker inside this process first when the queue closes. */
  closeLocalWorker?: () => Promise<void>;
  /** How often it checks for dead workers and lost dispatches (default 1000 ms). */
  checkEveryMs?: number;
}

export class RedisJobQueue implements JobQueue {
  readonly #ledger: JobLedger;
  readonly #store: JobStore;
  readonly #line: JobLine;
  readonly #options: RedisJobQueueOptions;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #reportError: (error: unknown) => void;
  readonly #log: (line: string) => void;
  readonly #running = new Map<string, Dispatched>();
  readonly #pins = new Map<string, ModelPin[]>();
  readonly #registry: WorkerRegistry;
  readonly #recorder: ReportRecorder;
  readonly #providers: string[];
  #pumping: Promise<void> = Promise.resolve();
  #pumpAgain = false;
  #lastLostCheck = 0;
  #timer: NodeJS.Timeout | undefined;
  #redis: Redis;
  #subscriber: Redis;
  #results: Worker | undefined;

  private constructor(options: RedisJobQueueOptions) {
    this.#options = options;
    this.#providers = [...(options.providers ?? [])];
    this.#ledger = new JobLedger(options, () => this.#schedule());
    this.#reportError = this.#ledger.reportError;
    this.#store = options.store;
    this.#line = this.#ledger.line;
    this.#keys = redisKeys(options.redis.prefix);
    this.#log = options.log ?? (() => undefined);
    const connection = buildRedisOptions(options.redis);
    this.#redis = new Redis(connection);
    this.#subscriber = new Redis(connection);
    for (const client of [this.#redis, this.#subscriber]) client.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
    this.#registry = new WorkerRegistry(this.#redis, options.redis, this.#log);
    this.#recorder = new ReportRecorder({
      ledger: this.#ledger,
      redis: this.#redis,
      prefix: options.redis.prefix,
      running: this.#running,
      maxResultBytes: options.maxResultBytes,
      receiveImage: options.receiveImage,
      localWorkerId: options.localWorkerId,
      reportError: this.#reportError,
      log: this.#log,
      onEnded: (id) => {
        this.#pins.delete(id);
        this.#schedule();
      },
    });
  }

  /**
   * Opens the queue: restores the line from the store, takes back the running jobs whose dispatch Redis still
   * holds (the others go back in line), then starts reading reports and handing out jobs.
   */
  static async open(options: RedisJobQueueOptions): Promise<RedisJobQueue> {
    const queue = new RedisJobQueue(options);
    try {
      await queue.#start();
    } catch (error) {
      await queue.close();
      throw error;
    }
    return queue;
  }

  async #start(): Promise<void> {
    const assigned = await this.#redis.hgetall(this.#keys.assigned);
    for (const job of this.#store.listRunning()) {
      const text = assigned[job.id];
      let dispatch;
      try {
        dispatch = text === undefined ? undefined : parseAssignment(text);
      } catch (err) {
        this.#log(`job ${job.id}: ${(err as Error).message}`);
      }
      if (dispatch === undefined) this.#putBack(job.id, job.owner, 'it had no worker after the restart');
      else this.#running.set(job.id, { id: job.id, owner: job.owner, ...dispatch, sent: true, stop: undefined, preview: null });
    }
    this.#subscriber.on('message', (_channel: string, text: string) => this.#recorder.onProgress(text));
    await this.#subscriber.subscribe(this.#keys.progress);
    const connection = buildRedisOptions(this.#options.redis);
    this.#results = new Worker(RESULTS_QUEUE, (job: Job) => this.#recorder.onReport(job), { connection, prefix: this.#options.redis.prefix, concurrency: 1 });
    this.#results.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
    this.#timer = setInterval(() => this.#schedule(), this.#options.checkEveryMs ?? 1000);
    this.#schedule();
  }

  async submit(owner: string, request: unknown, options: SubmitOptions = {}): Promise<JobSubmission> {
    return this.#ledger.submit(owner, request, options);
  }

  async cancel(id: string, owner: OwnerScope): Promise<void> {
    const job = this.#ledger.cancelQueued(id, owner);
    if (job === null) return;
    const running = this.#running.get(id);
    if (job.status !== 'running' || running === undefined) this.#ledger.refuseCancel(job);
    running.stop = 'cancel';
    // The key covers a worker that has not taken the job yet; the message, one running it now.
    await this.#redis.set(this.#keys.stop(id), '1', 'EX', 24 * 3600);
    await this.#redis.publish(this.#keys.control, JSON.stringify({ jobId: id, action: 'cancel' }));
  }

  async skip(id: string, owner: OwnerScope): Promise<void> {
    this.#ledger.assertOpen();
    const job = this.#store.get(id, owner);
    if (job.status !== 'running' || !this.#running.has(id)) this.#ledger.refuseSkip(job);
    await this.#redis.publish(this.#keys.control, JSON.stringify({ jobId: id, action: 'skip' }));
  }

  async retry(id: string, owner: OwnerScope): Promise<JobSubmission> {
    return this.#ledger.retry(id, owner);
  }

  async get(id: string, owner: OwnerScope): Promise<JobView> {
    return this.#ledger.get(id, owner);
  }

  async list(owner: OwnerScope, page?: JobPageRequest): Promise<JobPage> {
    return this.#ledger.list(owner, page);
  }

  async delete(id: string, owner: OwnerScope): Promise<{ files: string[] }> {
    return this.#ledger.delete(id, owner);
  }

  subscribe(id: string, owner: OwnerScope, listener: JobListener): Unsubscribe {
    this.#ledger.assertOpen();
    const job = this.#store.get(id, owner);
    return this.#line.subscribe(job, this.#running.get(id)?.preview ?? null, listener);
  }

  /** A job the server's own worker runs (what a shutdown waits for); jobs on other machines are not waited for. */
  runningJobId(): string | null {
    const local = this.#options.localWorkerId;
    for (const running of this.#running.values()) if (running.worker === local) return running.id;
    return null;
  }

  /** Whether Redis answers, and the workers that announced themselves and have not expired. */
  async workerStatus(): Promise<WorkerStatus> {
    return this.#registry.status();
  }

  /**
   * Stops the server's own worker (its job is recorded interrupted), stops reading reports and disconnects. Jobs
   * on other machines keep running; the next start records their results.
   */
  async close(): Promise<void> {
    if (!this.#ledger.markClosed()) return;
    clearInterval(this.#timer);
    const localJobs = [...this.#running.values()].filter((r) => r.worker === this.#options.localWorkerId).map((r) => r.id);
    if (this.#options.closeLocalWorker !== undefined) {
      await this.#options.closeLocalWorker();
      // Its last reports are in the results queue: record them before stopping.
      const until = Date.now() + 5000;
      while (localJobs.some((id) => this.#running.has(id)) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.#pumping;
    await this.#results?.close();
    await this.#registry.close();
    this.#subscriber.disconnect();
    this.#redis.disconnect();
    this.#ledger.release();
  }

  /** Runs one check-and-dispatch pass after the current one (passes never overlap). */
  #schedule(): void {
    if (this.#ledger.closed) return;
    if (this.#pumpAgain) return;
    this.#pumpAgain = true;
    this.#pumping = this.#pumping.then(async () => {
      this.#pumpAgain = false;
      if (this.#ledger.closed) return;
      try {
        await this.#pump();
      } catch (error) {
        this.#log(`queue: ${error instanceof Error ? error.message : String(error)}; trying again shortly`);
      }
    });
  }

  async #pump(): Promise<void> {
    await this.#registry.refresh();
    await this.#checkRunning();
    for (const id of this.#line.rotation.heads()) await this.#ensurePins(id);
    const load = new Map<string, number>();
    for (const running of this.#running.values()) load.set(running.worker, (load.get(running.worker) ?? 0) + 1);
    for (;;) {
      const chosen = new Map<string, WorkerAnnouncement>();
      const pick = this.#line.rotation.next((id) => {
        const worker = this.#registry.choose(this.#pins.get(id) ?? [], this.#providers, load);
        if (worker !== undefined) chosen.set(id, worker);
        return worker !== undefined;
      });
      if (pick === undefined) break;
      const worker = chosen.get(pick.id) as WorkerAnnouncement;
      load.set(worker.id, (load.get(worker.id) ?? 0) + 1);
      await this.#dispatch(pick.id, worker);
      for (const id of this.#line.rotation.heads()) await this.#ensurePins(id);
    }
    this.#line.refreshPositions();
    for (const id of this.#line.rotation.heads()) this.#line.setWaiting(id, this.#registry.explainWait(this.#pins.get(id) ?? [], this.#providers));
  }

  async #ensurePins(id: string): Promise<void> {
    if (this.#pins.has(id) || this.#options.pinModels === undefined) return;
    const job = this.#store.find(id);
    if (job === undefined) return;
    this.#pins.set(id, await this.#options.pinModels(job.request));
  }

  async #dispatch(id: string, worker: WorkerAnnouncement): Promise<void> {
    let job: JobRecord;
    try {
      job = this.#store.markRunning(id);
    } catch (error) {
      if (!(error instanceof JobStateError || error instanceof JobNotFoundError)) this.#reportError(error);
      return;
    }
    const running: Dispatched = { id, owner: job.owner, dispatch: randomBytes(12).toString('base64url'), worker: worker.id, sent: false, stop: undefined, preview: null };
    this.#running.set(id, running);
    this.#line.emit(id, { type: 'started', jobId: id, startedAt: job.startedAt ?? Date.now() });
    let attachments: Attachment[];
    try {
      attachments = (await this.#options.attach?.(job.request)) ?? [];
    } catch (error) {
      this.#recorder.finish(running, { type: 'failed', error: this.#ledger.describeFailure(error, job) });
      return;
    }
    const remote: RemoteJob = { jobId: id, dispatch: running.dispatch, owner: job.owner, createdAt: job.createdAt, retryOf: job.retryOf, request: job.request, models: this.#pins.get(id) ?? [], providers: this.#providers, attachments };
    try {
      await this.#redis.hset(this.#keys.assigned, id, JSON.stringify({ dispatch: running.dispatch, worker: worker.id }));
      await this.#registry.workQueue(worker.id).add('job', remote, { jobId: running.dispatch, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
      running.sent = true;
    } catch (error) {
      this.#log(`job ${id}: could not hand it to worker ${worker.id} (${error instanceof Error ? error.message : String(error)}); back in line`);
      this.#requeue(running);
    }
  }

  /** Running jobs whose worker is gone, or whose dispatch Redis no longer holds, go back in line (or end, if cancelled). */
  async #checkRunning(): Promise<void> {
    const live = new Set(this.#registry.live.map((w) => w.id));
    // One lookup per running job: every 3 s is enough to notice a restart that lost writes, and keeps the passes
    // that follow each report cheap.
    const lookForLost = Date.now() - this.#lastLostCheck >= LOST_CHECK_MS;
    if (lookForLost) this.#lastLostCheck = Date.now();
    for (const running of [...this.#running.values()]) {
      if (!running.sent) continue;
      let gone: string | undefined;
      if (!live.has(running.worker)) gone = `its worker ${running.worker} stopped answering`;
      else if (lookForLost && (await this.#registry.workQueue(running.worker).getJob(running.dispatch)) === undefined) gone = 'Redis lost its dispatch';
      if (gone === undefined || this.#running.get(running.id) !== running) continue;
      if (running.stop === 'cancel') this.#recorder.finish(running, { type: 'cancelled' });
      else {
        this.#log(`job ${running.id}: ${gone}; back in line`);
        this.#requeue(running);
      }
    }
  }

  #requeue(running: Dispatched): void {
    this.#running.delete(running.id);
    void this.#redis.hdel(this.#keys.assigned, running.id).catch(() => undefined);
    this.#putBack(running.id, running.owner, undefined);
    this.#line.refreshPositions();
    this.#schedule();
  }

  #putBack(id: string, owner: string, why: string | undefined): void {
    if (why !== undefined) this.#log(`job ${id}: ${why}; back in line`);
    this.#store.requeue(id);
    this.#line.rotation.requeue(owner, id);
  }
}
