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
import { Queue, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { reviveError } from '../../engine/index.ts';
import { JobNotFoundError, JobStateError, QueueClosedError, QueueQuotaError } from './job-errors.ts';
import { GENERIC_FAILURE } from './job-failure.ts';
import type { JobQueue, JobSubmission, SubmitOptions, Unsubscribe } from './job-queue.ts';
import { INTERRUPTED_MESSAGE, type JobStore } from './job-store.ts';
import type { JobListener, JobPage, JobPageRequest, JobPreview, JobRecord, JobResult, JobView, OwnerScope } from './job-types.ts';
import { JobLine } from './job-line.ts';
import { buildRedisOptions, type RedisSettings } from './redis-connection.ts';
import {
  parseAnnouncement,
  parseAssignment,
  parseProgressReport,
  parseWorkerReport,
  redisKeys,
  RESULTS_QUEUE,
  workQueueName,
  type Attachment,
  type ModelPin,
  type RemoteJob,
  type WorkerAnnouncement,
  type WorkerReport,
} from './remote-job-protocol.ts';

const LOST_CHECK_MS = 3000;

export const WORKER_STOPPED_MESSAGE = 'The worker running this job stopped. Retry it to run it again.';

export interface RedisJobQueueOptions {
  /** Opened with `keepRunning`; the queue owns it and closes it in `close()`. */
  store: JobStore;
  redis: RedisSettings;
  maxQueuedPerOwner?: number;
  describeFailure?: (error: unknown, job: JobRecord) => string;
  reportError?: (error: unknown) => void;
  log?: (line: string) => void;
  /** The models a request needs, pinned by SHA-256 (a job goes only to a worker that announced them all). */
  pinModels?: (request: unknown) => Promise<ModelPin[]>;
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

interface Dispatched {
  id: string;
  owner: string;
  dispatch: string;
  worker: string;
  /** The BullMQ job was added (so its absence later means Redis lost it). */
  sent: boolean;
  stop: 'cancel' | undefined;
  preview: JobPreview | null;
}

/** What the server knows of the live workers: announcements not yet expired. */
export interface WorkerStatus {
  connected: boolean;
  workers: WorkerAnnouncement[];
}

export class RedisJobQueue implements JobQueue {
  readonly #store: JobStore;
  readonly #options: RedisJobQueueOptions;
  readonly #keys: ReturnType<typeof redisKeys>;
  readonly #maxQueued: number;
  readonly #reportError: (error: unknown) => void;
  readonly #log: (line: string) => void;
  readonly #line: JobLine;
  readonly #running = new Map<string, Dispatched>();
  readonly #pins = new Map<string, ModelPin[]>();
  readonly #workQueues = new Map<string, Queue>();
  #workers: WorkerAnnouncement[] = [];
  #closed = false;
  #pumping: Promise<void> = Promise.resolve();
  #pumpAgain = false;
  #lastLostCheck = 0;
  #timer: NodeJS.Timeout | undefined;
  #redis: Redis;
  #subscriber: Redis;
  #results: Worker | undefined;

  private constructor(options: RedisJobQueueOptions) {
    const max = options.maxQueuedPerOwner ?? 10;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxQueuedPerOwner must be a positive integer, got ${max}`);
    this.#options = options;
    this.#store = options.store;
    this.#maxQueued = max;
    this.#keys = redisKeys(options.redis.prefix);
    this.#reportError = options.reportError ?? ((error) => process.emitWarning(error instanceof Error ? error : String(error)));
    this.#log = options.log ?? (() => undefined);
    this.#line = new JobLine(this.#store, this.#reportError);
    const connection = buildRedisOptions(options.redis);
    this.#redis = new Redis(connection);
    this.#subscriber = new Redis(connection);
    for (const client of [this.#redis, this.#subscriber]) client.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
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
    this.#subscriber.on('message', (_channel: string, text: string) => this.#onProgress(text));
    await this.#subscriber.subscribe(this.#keys.progress);
    const connection = buildRedisOptions(this.#options.redis);
    this.#results = new Worker(RESULTS_QUEUE, (job: Job) => this.#onReport(job), { connection, prefix: this.#options.redis.prefix, concurrency: 1 });
    this.#results.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
    this.#timer = setInterval(() => this.#schedule(), this.#options.checkEveryMs ?? 1000);
    this.#schedule();
  }

  async submit(owner: string, request: unknown, options: SubmitOptions = {}): Promise<JobSubmission> {
    this.#assertOpen();
    const { submitKey } = options;
    if (submitKey === undefined) {
      this.#assertQuota(owner);
      return this.#enqueue(this.#store.create(owner, request));
    }
    const earlier = this.#store.findBySubmitKey(owner, submitKey);
    if (earlier !== undefined) return this.#line.placeOf(earlier);
    this.#assertQuota(owner);
    return this.#enqueue(this.#store.createWithSubmitKey(owner, request, submitKey));
  }

  async cancel(id: string, owner: OwnerScope): Promise<void> {
    this.#assertOpen();
    const job = this.#store.get(id, owner);
    if (job.status === 'queued' && this.#line.rotation.remove(id)) {
      this.#store.markCancelled(id);
      this.#line.refreshPositions();
      this.#line.emitLast(id, { type: 'cancelled', jobId: id });
      return;
    }
    const running = this.#running.get(id);
    if (job.status === 'running' && running !== undefined) {
      running.stop = 'cancel';
      // The key covers a worker that has not taken the job yet; the message, one running it now.
      await this.#redis.set(this.#keys.stop(id), '1', 'EX', 24 * 3600);
      await this.#redis.publish(this.#keys.control, JSON.stringify({ jobId: id, action: 'cancel' }));
      return;
    }
    throw new JobStateError(id, job.status, 'cancel', 'Only queued or running jobs can be cancelled.');
  }

  async skip(id: string, owner: OwnerScope): Promise<void> {
    this.#assertOpen();
    const job = this.#store.get(id, owner);
    if (job.status !== 'running' || !this.#running.has(id)) {
      throw new JobStateError(id, job.status, 'skip an image of', 'Only a running job has an image to skip.');
    }
    await this.#redis.publish(this.#keys.control, JSON.stringify({ jobId: id, action: 'skip' }));
  }

  async retry(id: string, owner: OwnerScope): Promise<JobSubmission> {
    this.#assertOpen();
    const earlier = this.#store.findRetry(id, owner);
    if (earlier !== undefined) return this.#line.placeOf(earlier);
    this.#assertQuota(this.#store.get(id, owner).owner);
    return this.#enqueue(this.#store.retry(id, owner));
  }

  async get(id: string, owner: OwnerScope): Promise<JobView> {
    this.#assertOpen();
    return this.#line.view(this.#store.get(id, owner));
  }

  async list(owner: OwnerScope, page?: JobPageRequest): Promise<JobPage> {
    this.#assertOpen();
    const { jobs, nextCursor } = this.#store.list(owner, page);
    return { jobs: jobs.map((job) => this.#line.view(job)), nextCursor };
  }

  async delete(id: string, owner: OwnerScope): Promise<{ files: string[] }> {
    this.#assertOpen();
    return this.#store.delete(id, owner);
  }

  subscribe(id: string, owner: OwnerScope, listener: JobListener): Unsubscribe {
    this.#assertOpen();
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
    try {
      await this.#redis.ping();
      return { connected: true, workers: await this.#readWorkers() };
    } catch {
      return { connected: false, workers: [] };
    }
  }

  /**
   * Stops the server's own worker (its job is recorded interrupted), stops reading reports and disconnects. Jobs
   * on other machines keep running; the next start records their results.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
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
    await Promise.all([...this.#workQueues.values()].map((q) => q.close()));
    this.#subscriber.disconnect();
    this.#redis.disconnect();
    this.#line.clear();
    this.#store.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new QueueClosedError();
  }

  #assertQuota(owner: string): void {
    if (this.#store.countQueued(owner) >= this.#maxQueued) throw new QueueQuotaError(owner, this.#maxQueued);
  }

  #enqueue(job: JobRecord): JobSubmission {
    const place = this.#line.enqueue(job);
    this.#schedule();
    return place;
  }

  /** Runs one check-and-dispatch pass after the current one (passes never overlap). */
  #schedule(): void {
    if (this.#closed) return;
    if (this.#pumpAgain) return;
    this.#pumpAgain = true;
    this.#pumping = this.#pumping.then(async () => {
      this.#pumpAgain = false;
      if (this.#closed) return;
      try {
        await this.#pump();
      } catch (error) {
        this.#log(`queue: ${error instanceof Error ? error.message : String(error)}; trying again shortly`);
      }
    });
  }

  async #pump(): Promise<void> {
    this.#workers = await this.#readWorkers();
    await this.#checkRunning();
    for (const id of this.#line.rotation.heads()) await this.#ensurePins(id);
    const load = new Map<string, number>();
    for (const running of this.#running.values()) load.set(running.worker, (load.get(running.worker) ?? 0) + 1);
    for (;;) {
      const chosen = new Map<string, WorkerAnnouncement>();
      const pick = this.#line.rotation.next((id) => {
        const worker = this.#chooseWorker(this.#pins.get(id) ?? [], load);
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
  }

  /** The free worker that has every pinned model, the one with most free slots first. */
  #chooseWorker(pins: readonly ModelPin[], load: ReadonlyMap<string, number>): WorkerAnnouncement | undefined {
    let best: { worker: WorkerAnnouncement; free: number } | undefined;
    for (const worker of this.#workers) {
      const free = worker.concurrency - (load.get(worker.id) ?? 0);
      if (free <= 0 || !pins.every((pin) => worker.models.includes(pin.sha256))) continue;
      if (best === undefined || free > best.free) best = { worker, free };
    }
    return best?.worker;
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
      this.#finish(running, { type: 'failed', error: this.#safeDescription(error, job) });
      return;
    }
    const remote: RemoteJob = { jobId: id, dispatch: running.dispatch, owner: job.owner, createdAt: job.createdAt, retryOf: job.retryOf, request: job.request, models: this.#pins.get(id) ?? [], attachments };
    try {
      await this.#redis.hset(this.#keys.assigned, id, JSON.stringify({ dispatch: running.dispatch, worker: worker.id }));
      await this.#workQueue(worker.id).add('job', remote, { jobId: running.dispatch, removeOnComplete: { age: 3600 }, removeOnFail: { age: 24 * 3600 } });
      running.sent = true;
    } catch (error) {
      this.#log(`job ${id}: could not hand it to worker ${worker.id} (${error instanceof Error ? error.message : String(error)}); back in line`);
      this.#requeue(running);
    }
  }

  #workQueue(workerId: string): Queue {
    let queue = this.#workQueues.get(workerId);
    if (queue === undefined) {
      queue = new Queue(workQueueName(workerId), { connection: buildRedisOptions(this.#options.redis), prefix: this.#options.redis.prefix });
      queue.on('error', (err: Error) => this.#log(`redis: ${err.message}`));
      this.#workQueues.set(workerId, queue);
    }
    return queue;
  }

  /** Running jobs whose worker is gone, or whose dispatch Redis no longer holds, go back in line (or end, if cancelled). */
  async #checkRunning(): Promise<void> {
    const live = new Set(this.#workers.map((w) => w.id));
    // One lookup per running job: every 3 s is enough to notice a restart that lost writes, and keeps the passes
    // that follow each report cheap.
    const lookForLost = Date.now() - this.#lastLostCheck >= LOST_CHECK_MS;
    if (lookForLost) this.#lastLostCheck = Date.now();
    for (const running of [...this.#running.values()]) {
      if (!running.sent) continue;
      let gone: string | undefined;
      if (!live.has(running.worker)) gone = `its worker ${running.worker} stopped answering`;
      else if (lookForLost && (await this.#workQueue(running.worker).getJob(running.dispatch)) === undefined) gone = 'Redis lost its dispatch';
      if (gone === undefined || this.#running.get(running.id) !== running) continue;
      if (running.stop === 'cancel') this.#finish(running, { type: 'cancelled' });
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

  async #readWorkers(): Promise<WorkerAnnouncement[]> {
    const ids = await this.#redis.zrangebyscore(this.#keys.workers, Date.now(), '+inf');
    if (ids.length === 0) return [];
    const texts = await this.#redis.hmget(this.#keys.workerInfo, ...ids);
    const workers: WorkerAnnouncement[] = [];
    for (const text of texts) {
      if (text === null) continue;
      try {
        workers.push(parseAnnouncement(text));
      } catch (err) {
        this.#log(`ignored a worker announcement: ${(err as Error).message}`);
      }
    }
    return workers;
  }

  #onProgress(text: string): void {
    // Messages already read can still arrive while closing; progress is not worth keeping then.
    if (this.#closed) return;
    let report;
    try {
      report = parseProgressReport(text);
    } catch (err) {
      this.#log(`ignored a message on ${this.#keys.progress}: ${(err as Error).message}`);
      return;
    }
    const running = this.#running.get(report.jobId);
    if (running?.dispatch !== report.dispatch || running.stop !== undefined) return;
    this.#store.updateProgress(report.jobId, report.progress);
    running.preview = report.preview;
    this.#line.emit(report.jobId, { type: 'progress', jobId: report.jobId, progress: report.progress, preview: report.preview });
  }

  /** One report from the results queue; never throws (BullMQ would retry it), logs and drops what it cannot use. */
  async #onReport(bull: Job): Promise<void> {
    let report: WorkerReport;
    try {
      report = parseWorkerReport(bull.data, this.#options.maxResultBytes);
    } catch (err) {
      this.#log(`ignored a report in ${RESULTS_QUEUE}: ${(err as Error).message}`);
      return;
    }
    const running = this.#running.get(report.jobId);
    if (running?.dispatch !== report.dispatch || running.worker !== report.worker) {
      this.#log(`ignored a ${report.type} report for job ${report.jobId} from ${report.worker}: not its current dispatch`);
      return;
    }
    try {
      await this.#apply(running, report);
    } catch (error) {
      this.#reportError(error);
    }
  }

  async #apply(running: Dispatched, report: WorkerReport): Promise<void> {
    const job = this.#store.find(running.id);
    if (job === undefined) return;
    switch (report.type) {
      case 'started':
        return;
      case 'image': {
        if (running.stop === 'cancel') return;
        try {
          const bytes = report.bytes === undefined ? undefined : Buffer.from(report.bytes, 'base64');
          await this.#options.receiveImage?.(report.result, bytes, report.worker === this.#options.localWorkerId);
          this.#store.addResult(running.id, report.result);
        } catch (error) {
          // The job goes on on its worker; its image is not recorded, and the job ends failed.
          this.#log(`job ${running.id}: refused an image from ${report.worker}: ${error instanceof Error ? error.message : String(error)}`);
          running.stop = 'cancel';
          this.#finish(running, { type: 'failed', error: this.#safeDescription(error, job) });
          await this.#redis.publish(this.#keys.control, JSON.stringify({ jobId: running.id, action: 'cancel' }));
          return;
        }
        if (report.atEnd !== true) this.#line.emit(running.id, { type: 'image-saved', jobId: running.id, result: report.result });
        return;
      }
      case 'done':
        return this.#finish(running, running.stop === 'cancel' ? { type: 'cancelled' } : { type: 'done' });
      case 'cancelled':
        return this.#finish(running, { type: 'cancelled' });
      case 'interrupted':
        return this.#finish(running, { type: 'interrupted', error: report.worker === this.#options.localWorkerId ? INTERRUPTED_MESSAGE : WORKER_STOPPED_MESSAGE });
      case 'failed':
        if (running.stop === 'cancel') return this.#finish(running, { type: 'cancelled' });
        this.#log(`job ${running.id} failed on ${report.worker}: ${report.error.message}`);
        return this.#finish(running, { type: 'failed', error: this.#safeDescription(reviveError(report.error), job) });
    }
  }

  #finish(running: Dispatched, end: { type: 'done' } | { type: 'cancelled' } | { type: 'failed'; error: string } | { type: 'interrupted'; error: string }): void {
    const id = running.id;
    if (this.#running.get(id) === running) this.#running.delete(id);
    this.#pins.delete(id);
    void this.#redis.multi().hdel(this.#keys.assigned, id).del(this.#keys.stop(id)).exec().catch(() => undefined);
    try {
      if (end.type === 'done') this.#line.emitLast(id, { type: 'finished', jobId: id, job: this.#store.markDone(id) });
      else if (end.type === 'cancelled') {
        this.#store.markCancelled(id);
        this.#line.emitLast(id, { type: 'cancelled', jobId: id });
      } else if (end.type === 'failed') {
        this.#store.markFailed(id, end.error);
        this.#line.emitLast(id, { type: 'failed', jobId: id, error: end.error });
      } else {
        const stopped = this.#store.markInterrupted(id, end.error);
        this.#line.emitLast(id, { type: 'interrupted', jobId: id, error: stopped.error ?? '' });
      }
    } catch (error) {
      this.#reportError(error);
    }
    this.#schedule();
  }

  #safeDescription(error: unknown, job: JobRecord): string {
    try {
      return this.#options.describeFailure?.(error, job) ?? GENERIC_FAILURE;
    } catch (describeError) {
      this.#reportError(describeError);
      return GENERIC_FAILURE;
    }
  }

}
