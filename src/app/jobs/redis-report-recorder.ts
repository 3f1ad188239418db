/**
 * How the Redis queue applies what workers report: progress from the `P:progress` channel, and the reports of the
 * `results` queue (images, then the job's end) into the SQLite history and the job's events. A report counts only
 * when it carries the job's current dispatch and worker, so a worker given up for dead cannot change a job another
 * worker now runs. Nothing here throws at BullMQ (it would retry the report): what cannot be used is logged.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { reviveError } from '../../engine/index.ts';
import type { JobLedger } from './job-ledger.ts';
import { INTERRUPTED_MESSAGE } from './job-store.ts';
import type { JobPreview, JobRecord, JobResult } from './job-types.ts';
import { parseProgressReport, parseWorkerReport, redisKeys, RESULTS_QUEUE, type WorkerReport } from './remote-job-protocol.ts';

export const WORKER_STOPPED_MESSAGE = 'The worker running this job stopped. Retry it to run it again.';

/** One dispatch of a running job: which worker has it, under which dispatch id. */
export interface Dispatched {
  id: string;
  owner: string;
  dispatch: string;
  worker: string;
  /** The BullMQ job was added (so its absence later means Redis lost it). */
  sent: boolean;
  stop: 'cancel' | undefined;
  preview: JobPreview | null;
}

export type JobEnd = { type: 'done' } | { type: 'cancelled' } | { type: 'failed'; error: string } | { type: 'interrupted'; error: string };

export interface ReportRecorderOptions {
  ledger: JobLedger;
  redis: Redis;
  prefix: string;
  /** The running jobs by id, shared with the queue that dispatches them. */
  running: Map<string, Dispatched>;
  maxResultBytes: number;
  /** See `RedisJobQueueOptions.receiveImage`. */
  receiveImage: ((result: JobResult, bytes: Buffer | undefined, fromLocalWorker: boolean) => Promise<void>) | undefined;
  localWorkerId: string | undefined;
  reportError: (error: unknown) => void;
  log: (line: string) => void;
  /** A job has ended (recorded in the store): its worker slot is free. */
  onEnded: (id: string) => void;
}

export class ReportRecorder {
  readonly #o: ReportRecorderOptions;
  readonly #keys: ReturnType<typeof redisKeys>;

  constructor(options: ReportRecorderOptions) {
    this.#o = options;
    this.#keys = redisKeys(options.prefix);
  }

  onProgress(text: string): void {
    const { ledger } = this.#o;
    // Messages already read can still arrive while closing; progress is not worth keeping then.
    if (ledger.closed) return;
    let report;
    try {
      report = parseProgressReport(text);
    } catch (err) {
      this.#o.log(`ignored a message on ${this.#keys.progress}: ${(err as Error).message}`);
      return;
    }
    const running = this.#o.running.get(report.jobId);
    if (running?.dispatch !== report.dispatch || running.stop !== undefined) return;
    ledger.store.updateProgress(report.jobId, report.progress);
    running.preview = report.preview;
    ledger.line.emit(report.jobId, { type: 'progress', jobId: report.jobId, progress: report.progress, preview: report.preview });
  }

  /** One report from the results queue; never throws (BullMQ would retry it), logs and drops what it cannot use. */
  async onReport(bull: Job): Promise<void> {
    let report: WorkerReport;
    try {
      report = parseWorkerReport(bull.data, this.#o.maxResultBytes);
    } catch (err) {
      this.#o.log(`ignored a report in ${RESULTS_QUEUE}: ${(err as Error).message}`);
      return;
    }
    const running = this.#o.running.get(report.jobId);
    if (running?.dispatch !== report.dispatch || running.worker !== report.worker) {
      this.#o.log(`ignored a ${report.type} report for job ${report.jobId} from ${report.worker}: not its current dispatch`);
      return;
    }
    try {
      await this.#apply(running, report);
    } catch (error) {
      this.#o.reportError(error);
    }
  }

  /** Records the job's end, forgets its dispatch and frees its worker slot. */
  finish(running: Dispatched, end: JobEnd): void {
    const { ledger } = this.#o;
    const { store, line } = ledger;
    const id = running.id;
    if (this.#o.running.get(id) === running) this.#o.running.delete(id);
    void this.#o.redis.multi().hdel(this.#keys.assigned, id).del(this.#keys.stop(id)).exec().catch(() => undefined);
    try {
      if (end.type === 'done') line.emitLast(id, { type: 'finished', jobId: id, job: store.markDone(id) });
      else if (end.type === 'cancelled') {
        store.markCancelled(id);
        line.emitLast(id, { type: 'cancelled', jobId: id });
      } else if (end.type === 'failed') {
        store.markFailed(id, end.error);
        line.emitLast(id, { type: 'failed', jobId: id, error: end.error });
      } else {
        const stopped = store.markInterrupted(id, end.error);
        line.emitLast(id, { type: 'interrupted', jobId: id, error: stopped.error ?? '' });
      }
    } catch (error) {
      this.#o.reportError(error);
    }
    this.#o.onEnded(id);
  }

  async #apply(running: Dispatched, report: WorkerReport): Promise<void> {
    const { ledger, localWorkerId } = this.#o;
    const job = ledger.store.find(running.id);
    if (job === undefined) return;
    switch (report.type) {
      case 'started':
        return;
      case 'image':
        return this.#applyImage(running, job, report);
      case 'done':
        return this.finish(running, running.stop === 'cancel' ? { type: 'cancelled' } : { type: 'done' });
      case 'cancelled':
        return this.finish(running, { type: 'cancelled' });
      case 'interrupted':
        return this.finish(running, { type: 'interrupted', error: report.worker === localWorkerId ? INTERRUPTED_MESSAGE : WORKER_STOPPED_MESSAGE });
      case 'failed':
        if (running.stop === 'cancel') return this.finish(running, { type: 'cancelled' });
        this.#o.log(`job ${running.id} failed on ${report.worker}: ${report.error.message}`);
        return this.finish(running, { type: 'failed', error: ledger.describeFailure(reviveError(report.error), job) });
    }
  }

  async #applyImage(running: Dispatched, job: JobRecord, report: Extract<WorkerReport, { type: 'image' }>): Promise<void> {
    const { ledger } = this.#o;
    if (running.stop === 'cancel') return;
    try {
      const bytes = report.bytes === undefined ? undefined : Buffer.from(report.bytes, 'base64');
      await this.#o.receiveImage?.(report.result, bytes, report.worker === this.#o.localWorkerId);
      ledger.store.addResult(running.id, report.result);
    } catch (error) {
      // The job goes on on its worker; its image is not recorded, and the job ends failed.
      this.#o.log(`job ${running.id}: refused an image from ${report.worker}: ${error instanceof Error ? error.message : String(error)}`);
      running.stop = 'cancel';
      this.finish(running, { type: 'failed', error: ledger.describeFailure(error, job) });
      await this.#o.redis.publish(this.#keys.control, JSON.stringify({ jobId: running.id, action: 'cancel' }));
      return;
    }
    if (report.atEnd !== true) ledger.line.emit(running.id, { type: 'image-saved', jobId: running.id, result: report.result });
  }
}
