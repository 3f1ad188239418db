/**
 * Errors a StudioPort may throw, typed by what the caller can do about them. The server maps each to one HTTP
 * status in error-mapping.ts; any other error is a 500 whose body says nothing about it.
 */

/** The job, history entry or image does not exist, or belongs to someone else (the two are indistinguishable). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
  constructor(readonly resource: 'job' | 'image' | 'history') {
    super(`${resource} not found`);
  }
}

/** The owner has used up a quota (queued jobs, stored images). `limit` is safe to show the user. */
export class QuotaExceededError extends Error {
  override readonly name = 'QuotaExceededError';
  constructor(
    readonly quota: string,
    readonly limit: number,
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(`quota ${quota} exceeded (limit ${limit})`);
  }
}

/** A request field passed the schema but the app refuses it: an unknown model, style or sampler, say. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(
    readonly field: string,
    readonly rule: string,
    message?: string,
    /** The bound the rule compares against, when it has one (a quota, a maximum). */
    readonly limit?: number,
  ) {
    super(message ?? `${field} breaks rule ${rule}`);
  }
}

/** The job is not in a state that allows the action (cancelling a finished job, skipping a queued one). */
export class JobStateConflictError extends Error {
  override readonly name = 'JobStateConflictError';
  constructor(
    readonly jobId: string,
    readonly status: string,
  ) {
    super(`job is ${status}`);
  }
}
