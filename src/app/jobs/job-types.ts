/**
 * The shape of a generation job as the queue, the store and the server see it. The request is opaque here: it is
 * validated by whoever builds it (the server's schema, the CLI) and read only by the executor.
 */

/**
 * `interrupted`: the process stopped (crash or shutdown) while the job ran; it can be retried as a new job.
 * `queued` and `running` are the only active states; every other state is final.
 */
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

export const ACTIVE_JOB_STATUSES: readonly JobStatus[] = ['queued', 'running'];

/** Statuses a job can be retried from (as a new job with the same request). */
export const RETRYABLE_JOB_STATUSES: readonly JobStatus[] = ['interrupted', 'failed', 'cancelled'];

/** Where a running job is: sampler `step` of `steps` (1-based) within image `image` of `images` (1-based). */
export interface JobProgress {
  step: number;
  steps: number;
  image: number;
  images: number;
  /** Seconds left in the job, from the pace of its steps so far; null while unknown. */
  etaSeconds?: number | null;
  /**
   * What the job does besides sampling, for the user: describing its input, loading or hashing a model, an
   * upscaler's tiles, an Enhance tab finding, skipping or repainting its region (kept on that repaint's steps).
   */
  message?: string;
}

/** One saved image. */
export interface JobResult {
  imageId: string;
  /** Path relative to the outputs directory, with `/` separators, never absolute and never containing `..`. */
  file: string;
  /** Decimal string: seeds go up to 2^63 - 1, past what a JSON number holds exactly. */
  seed: string;
  /** SHA-256 of the file's bytes as written (absent for images recorded before digests were kept). */
  sha256?: string;
}

export interface JobRecord {
  /** 128 random bits, base64url (22 characters). */
  id: string;
  /** The client or user the job belongs to; only they (or an admin) can see it. */
  owner: string;
  status: JobStatus;
  /** JSON value, opaque to the queue. */
  request: unknown;
  /** Milliseconds since the Unix epoch. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  progress: JobProgress | null;
  /** A message safe to show the user (never a stack trace or a server path), set for failed and interrupted jobs. */
  error: string | null;
  results: JobResult[];
  /** The job this one retries, if any. */
  retryOf: string | null;
}

/**
 * A job as the queue reports it: the record plus its place in line (1 = starts next), null unless queued, and
 * `waitingFor`: why no connected worker can take it at all (a model or provider no live worker has), null when it
 * only waits for its turn.
 */
export interface JobView extends JobRecord {
  position: number | null;
  waitingFor: string | null;
}

/** A preview of the image being sampled: the PNG bytes in base64, or an id to fetch it by. */
export type JobPreview = { png: string } | { previewId: string };

/**
 * What subscribers of a job receive, in order. A subscriber first receives a `snapshot` of the job as it is, so one
 * that joins late misses nothing it needs. `finished`, `failed`, `cancelled` and `interrupted` (the queue shut down
 * while the job ran) are the last event of a job.
 */
export type JobEvent =
  | { type: 'snapshot'; job: JobView; preview: JobPreview | null }
  | { type: 'queued'; jobId: string; position: number; waitingFor: string | null }
  | { type: 'started'; jobId: string; startedAt: number }
  | { type: 'progress'; jobId: string; progress: JobProgress; preview: JobPreview | null }
  | { type: 'image-saved'; jobId: string; result: JobResult }
  | { type: 'finished'; jobId: string; job: JobRecord }
  | { type: 'failed'; jobId: string; error: string }
  | { type: 'cancelled'; jobId: string }
  | { type: 'interrupted'; jobId: string; error: string };

export type JobListener = (event: JobEvent) => void;

/**
 * Who is asking: an owner id, or `ANY_OWNER` for an admin. A symbol, so no string coming from a request can
 * ever mean "everyone".
 */
export const ANY_OWNER: unique symbol = Symbol('any job owner');
export type OwnerScope = string | typeof ANY_OWNER;

/** A page of history, newest first; pass `nextCursor` back as `cursor` for the next page (null: no more). */
export interface JobPage {
  jobs: JobView[];
  nextCursor: string | null;
}

export interface JobPageRequest {
  /** 1..200, default 50. */
  limit?: number;
  cursor?: string;
}
