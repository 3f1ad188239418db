/**
 * What both queue backends (the local one and the Redis one) keep in memory about the jobs in line: whose turn is
 * next (OwnerRotation, restored from the store), each queued job's place, and who listens to which job. A listener
 * hears a job's events in order; one that throws is reported and the others still hear.
 */
import type { JobStore } from './job-store.ts';
import type { JobEvent, JobListener, JobPreview, JobRecord, JobView } from './job-types.ts';
import { OwnerRotation } from './owner-rotation.ts';

export interface LinePlace {
  id: string;
  /** 1-based place in line; 0 for a job past the line (running or finished). */
  position: number;
}

export class JobLine {
  readonly rotation: OwnerRotation;
  readonly #listeners = new Map<string, Set<JobListener>>();
  readonly #reportError: (error: unknown) => void;
  #positions: Map<string, number>;
  readonly #waiting = new Map<string, string>();

  /** The queued jobs of the store, in the order they were in. */
  constructor(store: JobStore, reportError: (error: unknown) => void) {
    this.rotation = new OwnerRotation(store.readStartOrders());
    for (const job of store.listQueued()) this.rotation.enqueue(job.owner, job.id);
    this.#positions = this.rotation.positions();
    this.#reportError = reportError;
  }

  /** Puts a new job at the end of its owner's line. */
  enqueue(job: JobRecord): LinePlace {
    this.rotation.enqueue(job.owner, job.id);
    this.refreshPositions();
    return { id: job.id, position: this.#positions.get(job.id) ?? 1 };
  }

  /** A job an earlier submit or retry created: already in line (or past it), so it is not queued again. */
  placeOf(job: JobRecord): LinePlace {
    return { id: job.id, position: job.status === 'queued' ? (this.#positions.get(job.id) ?? 1) : 0 };
  }

  view(job: JobRecord): JobView {
    const queued = job.status === 'queued';
    return { ...job, position: queued ? (this.#positions.get(job.id) ?? null) : null, waitingFor: queued ? (this.#waiting.get(job.id) ?? null) : null };
  }

  /** Records why no worker can take a queued job (null: none), telling its listeners when that changes. */
  setWaiting(jobId: string, reason: string | null): void {
    if ((this.#waiting.get(jobId) ?? null) === reason) return;
    if (reason === null) this.#waiting.delete(jobId);
    else this.#waiting.set(jobId, reason);
    const position = this.#positions.get(jobId);
    if (position !== undefined) this.emit(jobId, { type: 'queued', jobId, position, waitingFor: reason });
  }

  /** Recomputes places in line and tells each queued job whose place changed. */
  refreshPositions(): void {
    const previous = this.#positions;
    this.#positions = this.rotation.positions();
    for (const jobId of this.#waiting.keys()) if (!this.#positions.has(jobId)) this.#waiting.delete(jobId);
    for (const [jobId, position] of this.#positions) {
      if (previous.get(jobId) !== position) this.emit(jobId, { type: 'queued', jobId, position, waitingFor: this.#waiting.get(jobId) ?? null });
    }
  }

  /** Sends the job's snapshot, then its events while it can still change; returns the unsubscribe. */
  subscribe(job: JobRecord, preview: JobPreview | null, listener: JobListener): () => void {
    this.#deliver(listener, { type: 'snapshot', job: this.view(job), preview });
    if (job.status !== 'queued' && job.status !== 'running') return () => {};
    const id = job.id;
    const listeners = this.#listeners.get(id) ?? new Set<JobListener>();
    listeners.add(listener);
    this.#listeners.set(id, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(id) === listeners) this.#listeners.delete(id);
    };
  }

  emit(jobId: string, event: JobEvent): void {
    const listeners = this.#listeners.get(jobId);
    if (listeners === undefined) return;
    for (const listener of [...listeners]) this.#deliver(listener, event);
  }

  /** Emits a job's final event and forgets its listeners. */
  emitLast(jobId: string, event: JobEvent): void {
    this.emit(jobId, event);
    this.forget(jobId);
  }

  forget(jobId: string): void {
    this.#listeners.delete(jobId);
  }

  /** Forgets every listener (the queue is closing). */
  clear(): void {
    this.#listeners.clear();
  }

  #deliver(listener: JobListener, event: JobEvent): void {
    try {
      listener(event);
    } catch (error) {
      this.#reportError(error);
    }
  }
}
