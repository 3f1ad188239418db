/**
 * Test doubles for the job queue: an executor whose jobs finish when the test says so, and an event recorder
 * whose waits resolve on the event itself (no sleeps).
 */
import type { JobExecution, JobExecutor, JobQueue } from '../../../src/app/jobs/job-queue.ts';
import type { JobEvent, JobRecord, JobResult, OwnerScope } from '../../../src/app/jobs/job-types.ts';

export interface ExecutorCall {
  job: JobRecord;
  execution: JobExecution;
  finish(results?: JobResult[]): void;
  fail(error: unknown): void;
}

/** Each call waits for `finish` or `fail`; an abort of its signal rejects it, like a sampler stopping at a step. */
export function createFakeExecutor() {
  const calls: ExecutorCall[] = [];
  const waiting = new Map<number, (call: ExecutorCall) => void>();
  let taken = 0;
  const executor: JobExecutor = (job, execution) =>
    new Promise<JobResult[]>((resolve, reject) => {
      execution.signal.addEventListener('abort', () => reject(execution.signal.reason), { once: true });
      const call: ExecutorCall = { job, execution, finish: (results = []) => resolve(results), fail: reject };
      calls.push(call);
      waiting.get(calls.length - 1)?.(call);
    });
  /** The next call not yet handed out, in start order. */
  function nextCall(): Promise<ExecutorCall> {
    const index = taken++;
    const call = calls[index];
    return call !== undefined ? Promise.resolve(call) : new Promise((resolve) => waiting.set(index, resolve));
  }
  return { executor, calls, nextCall };
}

export function resultFor(jobId: string, image: number): JobResult {
  return { imageId: `${jobId}-${image}`, file: `outputs-day/${jobId}-${image}.png`, seed: String(1000 + image) };
}

/** Subscribes and keeps every event; `until(type)` resolves with the first event of that type. */
export function recordEvents(queue: JobQueue, id: string, owner: OwnerScope) {
  const events: JobEvent[] = [];
  const waiters: { type: JobEvent['type']; resolve: (event: JobEvent) => void }[] = [];
  const unsubscribe = queue.subscribe(id, owner, (event) => {
    events.push(event);
    for (const waiter of waiters.filter((w) => w.type === event.type)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(event);
    }
  });
  function until<T extends JobEvent['type']>(type: T): Promise<Extract<JobEvent, { type: T }>> {
    const seen = events.find((e) => e.type === type);
    if (seen !== undefined) return Promise.resolve(seen as Extract<JobEvent, { type: T }>);
    return new Promise((resolve) => waiters.push({ type, resolve: (e) => resolve(e as Extract<JobEvent, { type: T }>) }));
  }
  return { events, until, unsubscribe, types: () => events.map((e) => e.type) };
}

export function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once `signal` aborts (at once if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}
