/**
 * Errors of the job queue and store, typed by what the caller can do about them: not found, wrong state, over
 * quota, bad input, or an operator problem with the database file.
 */
import { FooocusError } from '../../engine/index.ts';
import type { JobStatus } from './job-types.ts';

/** No such job, or it belongs to someone else: the two are indistinguishable on purpose. */
export class JobNotFoundError extends FooocusError {
  constructor(readonly jobId: string) {
    super('not-found', `job ${JSON.stringify(jobId)} not found`);
  }
}

/** The job exists but is in a state where the action makes no sense (skip a queued job, delete a running one). */
export class JobStateError extends FooocusError {
  constructor(readonly jobId: string, readonly status: JobStatus, readonly action: string, hint: string) {
    super('conflict', `cannot ${action} job ${JSON.stringify(jobId)}: it is ${status}. ${hint}`);
  }
}

/** The owner already has as many queued jobs as allowed; wait for one to start or cancel one. */
export class QueueQuotaError extends FooocusError {
  constructor(readonly owner: string, limit: number) {
    const message = `you already have ${limit} queued job${limit === 1 ? '' : 's'}, the most allowed; wait for one to start or cancel one`;
    super('quota', message, { rule: 'maxQueuedJobs', limit, retryAfterSeconds: 30 });
  }
}

/**
 * The job stopped for a reason outside its request (the process running it died): the queue records it as
 * `interrupted`, retryable, with this message, which must be safe to show the user.
 */
export class JobInterruptedError extends FooocusError {
  constructor(message: string) {
    super('unavailable', message);
  }
}

/** An idempotency key the owner already used, within its lifetime, for a different request. */
export class IdempotencyKeyReusedError extends Error {
  override readonly name = 'IdempotencyKeyReusedError';
  readonly jobId: string;

  constructor(jobId: string) {
    super('this Idempotency-Key was already used for a different request; send a new key for a new request');
    this.jobId = jobId;
  }
}

/** The queue is shutting down and takes no more work. */
export class QueueClosedError extends FooocusError {
  constructor() {
    super('unavailable', 'the job queue is shutting down and accepts no new jobs');
  }
}

/** An argument the caller controls is malformed (a page cursor, a limit, a result path). */
export class InvalidJobInputError extends FooocusError {
  constructor(field: string, rule: string) {
    super('invalid', `${field}: ${rule}`, { field });
  }
}

/** The database was written by a newer version of this program; refuse rather than misread it. */
export class JobStoreVersionError extends FooocusError {
  constructor(file: string, readonly found: number, readonly supported: number) {
    super(
      'invalid',
      `${file}: job database schema version ${found} is newer than this program supports (${supported}); ` +
        'upgrade Fooocus-TS, or move the file aside to start an empty history',
      { file },
    );
  }
}
