/**
 * Errors a StudioPort may throw itself. Any FooocusError may cross the port (the app's own errors do, as they
 * are); these are the ones the server has no app error for. error-mapping.ts turns each kind into one status.
 */
import { FooocusError } from '../engine/index.ts';

/** The job, history entry or image does not exist, or belongs to someone else (the two are indistinguishable). */
export class NotFoundError extends FooocusError {
  constructor(readonly resource: 'job' | 'image' | 'history') {
    super('not-found', `${resource} not found`);
  }
}

/** The owner has used up a quota (queued jobs, stored images). `limit` is safe to show the user. */
export class QuotaExceededError extends FooocusError {
  constructor(readonly quota: string, limit: number, retryAfterSeconds: number | null = null) {
    super('quota', `quota ${quota} exceeded (limit ${limit})`, { rule: quota, limit, ...(retryAfterSeconds === null ? {} : { retryAfterSeconds }) });
  }
}

/** A request field passed the schema but the app refuses it: an unknown model, style or sampler, say. */
export class InvalidRequestError extends FooocusError {
  /** `limit` is the bound the rule compares against, when it has one (a quota, a maximum). */
  constructor(field: string, rule: string, message?: string, limit?: number) {
    super('invalid', message ?? `${field} breaks rule ${rule}`, { field, rule, ...(limit === undefined ? {} : { limit }) });
  }
}

/** The job is not in a state that allows the action (cancelling a finished job, skipping a queued one). */
export class JobStateConflictError extends FooocusError {
  constructor(readonly jobId: string, readonly status: string) {
    super('conflict', `job is ${status}`);
  }
}
