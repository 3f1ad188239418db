/**
 * Errors of the job queue and store, typed by what the caller can do about them: not found (404), wrong state
 * (409), over quota (429), bad input (400), or an operator problem with the database file.
 */
import type { JobStatus } from './job-types.ts';

/** No such job, or it belongs to someone else: the two are indistinguishable on purpose. */
export class JobNotFoundError extends Error {
  override readonly name = 'JobNotFoundError';
  readonly jobId: string;

  constructor(jobId: string) {
    super(`job ${JSON.stringify(jobId)} not found`);
    this.jobId = jobId;
  }
}

/** The job exists but is in a state where the action makes no sense (skip a queued job, delete a running one). */
export class JobStateError extends Error {
  override readonly name = 'JobStateError';
  readonly jobId: string;
  readonly status: JobStatus;
  readonly action: string;

  constructor(jobId: string, status: JobStatus, action: string, hint: string) {
    super(`cannot ${action} job ${JSON.stringify(jobId)}: it is ${status}. ${hint}`);
    this.jobId = jobId;
    this.status = status;
    this.action = action;
  }
}

/** The owner already has as many queued jobs as allowed; wait for one to start or cancel one. */
export class QueueQuotaError extends Error {
  override readonly name = 'QueueQuotaError';
  readonly owner: string;
  readonly limit: number;

  constructor(owner: string, limit: number) {
    super(`you already have ${limit} queued job${limit === 1 ? '' : 's'}, the most allowed; wait for one to start or cancel one`);
    this.owner = owner;
    this.limit = limit;
  }
}

/**
 * The job stopped for a reason outside its request (the process running it died): the queue records it as
 * `interrupted`, retryable, with this message, which must be safe to show the user.
 */
export class JobInterruptedError extends Error {
  override name = 'JobInterruptedError';
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
export class QueueClosedError extends Error {
  override readonly name = 'QueueClosedError';

  constructor() {
    super('the job queue is shutting down and accepts no new jobs');
  }
}

/** An argument the caller controls is malformed (a page cursor, a limit, a result path). */
export class InvalidJobInputError extends Error {
  override readonly name = 'InvalidJobInputError';
  readonly field: string;

  constructor(field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.field = field;
  }
}

/** The database was written by a newer version of this program; refuse rather than misread it. */
export class JobStoreVersionError extends Error {
  override readonly name = 'JobStoreVersionError';
  readonly file: string;
  readonly found: number;
  readonly supported: number;

  constructor(file: string, found: number, supported: number) {
    super(
      `${file}: job database schema version ${found} is newer than this program supports (${supported}); ` +
        'upgrade Fooocus-TS, or move the file aside to start an empty history',
    );
    this.file = file;
    this.found = found;
    this.supported = supported;
  }
}
