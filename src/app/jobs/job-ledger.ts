/**
 * The store-backed half of a job queue that does not depend on where jobs run, shared by both backends (each holds
 * one): submitting with the per-owner quota and submit keys, retrying, reading and listing the history, deleting,
 * cancelling a job still in line, and refusing every call once the queue is closed. The backend keeps what differs:
 * starting jobs, stopping a running one, and how results come back.
 */
import { JobStateError, QueueClosedError, QueueQuotaError } from './job-errors.ts';
import { GENERIC_FAILURE } from './job-failure.ts';
import { JobLine, type LinePlace } from './job-line.ts';
import type { JobStore, SubmitKey } from './job-store.ts';
import type { JobPage, JobPageRequest, JobRecord, JobView, OwnerScope } from './job-types.ts';

/** The settings both queue backends take for their ledger (their own options extend these). */
export interface JobLedgerOptions {
  store: JobStore;
  /** Queued (not yet running) jobs allowed per owner; default 10. */
  maxQueuedPerOwner?: number | undefined;
  /** Where errors no caller can receive go; default a process warning. */
  reportError?: ((error: unknown) => void) | undefined;
  /** Turns a failure into a message safe to show the user; also the place to log it. */
  describeFailure?: ((error: unknown, job: JobRecord) => string) | undefined;
}

export class JobLedger {
  readonly store: JobStore;
  readonly line: JobLine;
  readonly #maxQueued: number;
  readonly #onEnqueued: () => void;
  /** The backend reports its own background errors here too, so both go to one place. */
  readonly reportError: (error: unknown) => void;
  readonly #describeFailure: ((error: unknown, job: JobRecord) => string) | undefined;
  #closed = false;

  /** `onEnqueued` runs after a job joins the line (a submit or a retry): the backend's cue to start work. */
  constructor(options: JobLedgerOptions, onEnqueued: () => void) {
    const max = options.maxQueuedPerOwner ?? 10;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`maxQueuedPerOwner must be a positive integer, got ${max}`);
    this.store = options.store;
    this.#maxQueued = max;
    this.#onEnqueued = onEnqueued;
    this.reportError = options.reportError ?? ((error) => process.emitWarning(error instanceof Error ? error : String(error)));
    this.#describeFailure = options.describeFailure;
    this.line = new JobLine(this.store, this.reportError);
  }

  get closed(): boolean {
    return this.#closed;
  }

  assertOpen(): void {
    if (this.#closed) throw new QueueClosedError();
  }

  /** Marks the queue closed; false when it already was (close is idempotent). */
  markClosed(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    return true;
  }

  /** The last step of a close: forgets the listeners and closes the store. */
  release(): void {
    this.line.clear();
    this.store.close();
  }

  submit(owner: string, request: unknown, options: { submitKey?: SubmitKey | undefined } = {}): LinePlace {
    this.assertOpen();
    const { submitKey } = options;
    if (submitKey === undefined) {
      this.#assertQuota(owner);
      return this.#enqueue(this.store.create(owner, request));
    }
    const earlier = this.store.findBySubmitKey(owner, submitKey);
    if (earlier !== undefined) return this.line.placeOf(earlier);
    this.#assertQuota(owner);
    return this.#enqueue(this.store.createWithSubmitKey(owner, request, submitKey));
  }

  retry(id: string, owner: OwnerScope): LinePlace {
    this.assertOpen();
    const earlier = this.store.findRetry(id, owner);
    if (earlier !== undefined) return this.line.placeOf(earlier);
    this.#assertQuota(this.store.get(id, owner).owner);
    return this.#enqueue(this.store.retry(id, owner));
  }

  get(id: string, owner: OwnerScope): JobView {
    this.assertOpen();
    return this.line.view(this.store.get(id, owner));
  }

  list(owner: OwnerScope, page?: JobPageRequest): JobPage {
    this.assertOpen();
    const { jobs, nextCursor } = this.store.list(owner, page);
    return { jobs: jobs.map((job) => this.line.view(job)), nextCursor };
  }

  delete(id: string, owner: OwnerScope): { files: string[] } {
    this.assertOpen();
    return this.store.delete(id, owner);
  }

  /**
   * Cancels the job if it is still in line and returns null; otherwise returns its record for the backend to stop
   * it where it runs (`refuseCancel` when it does not run there either).
   */
  cancelQueued(id: string, owner: OwnerScope): JobRecord | null {
    this.assertOpen();
    const job = this.store.get(id, owner);
    if (job.status === 'queued' && this.line.rotation.remove(id)) {
      this.store.markCancelled(id);
      this.line.refreshPositions();
      this.line.emitLast(id, { type: 'cancelled', jobId: id });
      return null;
    }
    return job;
  }

  refuseCancel(job: JobRecord): never {
    throw new JobStateError(job.id, job.status, 'cancel', 'Only queued or running jobs can be cancelled.');
  }

  refuseSkip(job: JobRecord): never {
    throw new JobStateError(job.id, job.status, 'skip an image of', 'Only a running job has an image to skip.');
  }

  /** What the user is shown of a failed job: never throws, and says nothing internal. */
  describeFailure(error: unknown, job: JobRecord): string {
    try {
      return this.#describeFailure?.(error, job) ?? GENERIC_FAILURE;
    } catch (describeError) {
      this.reportError(describeError);
      return GENERIC_FAILURE;
    }
  }

  #assertQuota(owner: string): void {
    if (this.store.countQueued(owner) >= this.#maxQueued) throw new QueueQuotaError(owner, this.#maxQueued);
  }

  #enqueue(job: JobRecord): LinePlace {
    const place = this.line.enqueue(job);
    this.#onEnqueued();
    return place;
  }
}
