/**
 * The job queue: what the server and CLI call to run generations one at a time, fairly between clients, with a
 * history that survives restarts. `JobQueue` is the contract, with two backends: `LocalJobQueue` runs one worker in
 * this process over a `JobStore`, and knows nothing of models (the work is an injected `JobExecutor`);
 * `RedisJobQueue` (redis-job-queue.ts) keeps the same store and turns and runs jobs on worker machines.
 */
import { JobInterruptedError, JobNotFoundError, JobStateError } from './job-errors.ts';
import { JobLedger, type JobLedgerOptions } from './job-ledger.ts';
import type { JobStore, SubmitKey } from './job-store.ts';
import type {
  JobListener,
  JobPage,
  JobPageRequest,
  JobPreview,
  JobProgress,
  JobRecord,
  JobResult,
  JobView,
  OwnerScope,
} from './job-types.ts';
import type { JobLine } from './job-line.ts';

export interface JobSubmission {
  id: string;
  /** Place in line when submitted, 1 = starts next; 0 when the job returned is no longer queued. */
  position: number;
}

export interface SubmitOptions {
  /**
   * The client's key for this submit and a fingerprint of its request: the same key again within 24 h returns
   * the job the first submit created (`IdempotencyKeyReusedError` when the fingerprint differs).
   */
  submitKey?: SubmitKey;
}

/** What the executor gets besides the job: how to stop, and where to report. */
export interface JobExecution {
  /** Aborts when the job is cancelled or the queue shuts down: stop within a step and reject (or return). */
  signal: AbortSignal;
  /**
   * Call once at the start of each image: the signal aborts when the user skips that image (carry on with the
   * next) or when `signal` aborts (stop: check `signal.aborted` to tell the two apart).
   */
  skipSignal(): AbortSignal;
  onProgress(progress: JobProgress, preview?: JobPreview): void;
  /** Call once per saved image; throws if the result is malformed (a file path outside outputs). */
  onImage(result: JobResult): void;
}

/**
 * Runs one job. The results it returns that were not already reported through `onImage` are recorded too, so an
 * executor may report images as they are saved, at the end, or both.
 */
export type JobExecutor = (job: JobRecord, execution: JobExecution) => Promise<JobResult[]>;

export type Unsubscribe = () => void;

/**
 * Every method that names a job takes the caller's `OwnerScope`: another owner's job is `JobNotFoundError`,
 * exactly like a job that does not exist. Failures are typed (`job-errors.ts`).
 */
export interface JobQueue {
  /** Queues a job; `QueueQuotaError` when the owner already has too many queued. */
  submit(owner: string, request: unknown, options?: SubmitOptions): Promise<JobSubmission>;
  /** Removes a queued job, or aborts a running one (it becomes `cancelled` when the executor stops). */
  cancel(id: string, owner: OwnerScope): Promise<void>;
  /** Skips the image a running job is making and carries on with the next; `JobStateError` unless running. */
  skip(id: string, owner: OwnerScope): Promise<void>;
  /**
   * Queues an interrupted, failed or cancelled job again, as a new job with the same request; a job already
   * retried returns the job that retry created (queued again only once).
   */
  retry(id: string, owner: OwnerScope): Promise<JobSubmission>;
  get(id: string, owner: OwnerScope): Promise<JobView>;
  /** History, newest first. */
  list(owner: OwnerScope, page?: JobPageRequest): Promise<JobPage>;
  /** Deletes a finished job; returns its image files (relative to outputs) for the caller to remove. */
  delete(id: string, owner: OwnerScope): Promise<{ files: string[] }>;
  /**
   * Delivers the job's events in order, starting with a `snapshot` of its current state (delivered before this
   * returns). Listeners are dropped after the job's last event.
   */
  subscribe(id: string, owner: OwnerScope, listener: JobListener): Unsubscribe;
  /**
   * The id of the job being generated now, or null: what a shutdown waits for.
   */
  runningJobId(): string | null;
  /**
   * Stops taking jobs, interrupts the running one (retryable later), waits for it to stop, closes the store.
   * Queued jobs stay queued for the next start. Every other method then throws `QueueClosedError`. (The Redis
   * backend interrupts only a job of the server's own worker: jobs on other machines go on.)
   */
  close(): Promise<void>;
}

/** `reportError` takes the problems that must not stop the queue (a listener that throws). */
export interface LocalJobQueueOptions extends JobLedgerOptions {
  /** The queue owns the store from now on and closes it in `close()`. */
  store: JobStore;
  executor: JobExecutor;
}

interface RunningJob {
  id: string;
  abort: AbortController;
  skip: AbortController | undefined;
  /** The user asked to cancel (`cancelled`), or the queue is closing (`interrupted`). */
  stop: 'cancel' | 'close' | undefined;
  preview: JobPreview | null;
  reported: Set<string>;
  active: boolean;
  settled: Promise<void>;
}

export class LocalJobQueue implements JobQueue {
  readonly #ledger: JobLedger;
  readonly #store: JobStore;
  readonly #line: JobLine;
  readonly #executor: JobExecutor;
  readonly #reportError: (error: unknown) => void;
  #running: RunningJob | undefined;
  #startScheduled = false;

  /** Restores the queued jobs from the store in their order and starts working on the next microtask. */
  constructor(options: LocalJobQueueOptions) {
    this.#ledger = new JobLedger(options, () => this.#scheduleStart());
    this.#reportError = this.#ledger.reportError;
    this.#store = options.store;
    this.#line = this.#ledger.line;
    this.#executor = options.executor;
    this.#scheduleStart();
  }

  async submit(owner: string, request: unknown, options: SubmitOptions = {}): Promise<JobSubmission> {
    return this.#ledger.submit(owner, request, options);
  }

  async cancel(id: string, owner: OwnerScope): Promise<void> {
    const job = this.#ledger.cancelQueued(id, owner);
    if (job === null) return;
    const running = this.#running;
    if (job.status !== 'running' || running?.id !== id) this.#ledger.refuseCancel(job);
    running.stop ??= 'cancel';
    running.abort.abort(new Error('job cancelled'));
  }

  async skip(id: string, owner: OwnerScope): Promise<void> {
    this.#ledger.assertOpen();
    const job = this.#store.get(id, owner);
    const running = this.#running;
    if (job.status !== 'running' || running?.id !== id) this.#ledger.refuseSkip(job);
    running.skip?.abort(new Error('image skipped'));
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
    const preview = this.#running?.id === id ? this.#running.preview : null;
    return this.#line.subscribe(job, preview, listener);
  }

  runningJobId(): string | null {
    return this.#running?.id ?? null;
  }

  async close(): Promise<void> {
    if (!this.#ledger.markClosed()) return;
    const running = this.#running;
    if (running !== undefined) {
      running.stop ??= 'close';
      running.abort.abort(new Error('queue closing'));
      await running.settled;
    }
    this.#ledger.release();
  }

  #scheduleStart(): void {
    if (this.#startScheduled || this.#ledger.closed) return;
    this.#startScheduled = true;
    queueMicrotask(() => {
      this.#startScheduled = false;
      this.#startNext();
    });
  }

  /** Starts the next job if the worker is free: one job at a time, since one inference owns the device. */
  #startNext(): void {
    if (this.#running !== undefined || this.#ledger.closed) return;
    const pick = this.#line.rotation.next();
    if (pick === undefined) return;
    let job: JobRecord;
    try {
      job = this.#store.markRunning(pick.id);
    } catch (error) {
      // Another process changed it under us (shared database file): leave it and go on.
      if (!(error instanceof JobStateError || error instanceof JobNotFoundError)) this.#reportError(error);
      this.#line.refreshPositions();
      this.#scheduleStart();
      return;
    }
    const running: RunningJob = {
      id: job.id,
      abort: new AbortController(),
      skip: undefined,
      stop: undefined,
      preview: null,
      reported: new Set(),
      active: true,
      settled: Promise.resolve(),
    };
    this.#running = running;
    this.#line.refreshPositions();
    this.#line.emit(job.id, { type: 'started', jobId: job.id, startedAt: job.startedAt ?? Date.now() });
    running.settled = this.#execute(running, job);
  }

  async #execute(running: RunningJob, job: JobRecord): Promise<void> {
    let outcome: { ok: true; results: JobResult[] } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, results: await this.#executor(job, this.#executionFor(running)) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    running.active = false;
    try {
      this.#recordOutcome(running, job, outcome);
    } catch (error) {
      this.#reportError(error);
    } finally {
      this.#running = undefined;
      this.#line.forget(running.id);
      this.#scheduleStart();
    }
  }

  #executionFor(running: RunningJob): JobExecution {
    const id = running.id;
    return {
      signal: running.abort.signal,
      skipSignal: () => {
        running.skip = new AbortController();
        return AbortSignal.any([running.abort.signal, running.skip.signal]);
      },
      onProgress: (progress, preview) => {
        if (!running.active) return;
        this.#store.updateProgress(id, progress);
        running.preview = preview ?? null;
        this.#line.emit(id, { type: 'progress', jobId: id, progress, preview: running.preview });
      },
      onImage: (result) => {
        if (!running.active) return;
        this.#store.addResult(id, result);
        running.reported.add(result.imageId);
        this.#line.emit(id, { type: 'image-saved', jobId: id, result });
      },
    };
  }

  #recordOutcome(
    running: RunningJob,
    job: JobRecord,
    outcome: { ok: true; results: JobResult[] } | { ok: false; error: unknown },
  ): void {
    const id = running.id;
    if (running.stop === 'close') {
      const stopped = this.#store.markInterrupted(id);
      this.#line.emitLast(id, { type: 'interrupted', jobId: id, error: stopped.error ?? '' });
    } else if (running.stop === 'cancel') {
      this.#store.markCancelled(id);
      this.#line.emitLast(id, { type: 'cancelled', jobId: id });
    } else if (outcome.ok) {
      for (const result of outcome.results) {
        if (!running.reported.has(result.imageId)) this.#store.addResult(id, result);
      }
      this.#line.emitLast(id, { type: 'finished', jobId: id, job: this.#store.markDone(id) });
    } else if (outcome.error instanceof JobInterruptedError) {
      // Not the request's fault (the process running it died): retryable, like a job cut off by a shutdown.
      const stopped = this.#store.markInterrupted(id, outcome.error.message);
      this.#line.emitLast(id, { type: 'interrupted', jobId: id, error: stopped.error ?? '' });
    } else {
      const message = this.#ledger.describeFailure(outcome.error, job);
      this.#store.markFailed(id, message);
      this.#line.emitLast(id, { type: 'failed', jobId: id, error: message });
    }
  }
}
