/**
 * The job history and queue on disk, in one SQLite file.
 *
 * Why node:sqlite and not better-sqlite3: Node 22.5+ ships SQLite in the runtime (`node:sqlite`, no flag and no
 * warning since Node 22.13 / 23.4), so the job store needs no native addon. better-sqlite3 would have to run its
 * install script and compile (or download a prebuilt binary) against the exact Node ABI in use, which breaks
 * whenever the machine's Node differs from the project's and adds a binary we would have to audit. The built-in
 * module gives the same synchronous API shape (prepared statements, `exec` for transactions); what we give up is
 * better-sqlite3's `transaction()` helper (replaced by `transact` below) and a few years of API stability
 * (`node:sqlite` is still marked release candidate, so an upgrade of Node may need small changes here).
 *
 * What must stay true: state changes are conditional on the current status and run in a transaction, so the
 * file never holds a job in two states or a result without its job; WAL mode lets readers (the history page)
 * proceed while the worker writes progress; a job found `running` when the store opens belongs to a process that
 * died, so it becomes `interrupted` (retryable) before anything else reads the file.
 */
import { randomBytes } from 'node:crypto';
import { DatabaseSync, type SQLOutputValue } from 'node:sqlite';
import { IdempotencyKeyReusedError, InvalidJobInputError, JobNotFoundError, JobStateError } from './job-errors.ts';
import { migrateJobSchema } from './job-store-schema.ts';
import {
  ANY_OWNER,
  RETRYABLE_JOB_STATUSES,
  type JobPageRequest,
  type JobProgress,
  type JobRecord,
  type JobResult,
  type JobStatus,
  type OwnerScope,
} from './job-types.ts';

type Row = Record<string, SQLOutputValue>;

export interface JobStoreOptions {
  /** Clock in milliseconds since the epoch; injectable for tests. */
  now?: () => number;
  /** How long a write waits for another connection's lock before failing, in milliseconds (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Leave jobs found `running` as they are (default false: they become `interrupted`). For the Redis backend, whose
   * running jobs live on worker machines and go on while the server restarts.
   */
  keepRunning?: boolean;
}

export interface JobRecordPage {
  jobs: JobRecord[];
  nextCursor: string | null;
}

/** How long a submit's idempotency key is remembered. */
export const SUBMIT_KEY_TTL_MS = 24 * 60 * 60 * 1000;

/** A client's key for one submit (`Idempotency-Key`) and a fingerprint of the request it came with. */
export interface SubmitKey {
  key: string;
  fingerprint: string;
}

export const INTERRUPTED_MESSAGE = 'The server stopped while this job was running. Retry it to run it again.';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;
const JOB_COLUMNS = 'seq, id, owner, status, request, created_at, started_at, finished_at, progress, error, retry_of';

/** Opens (creating if needed) the job database at `file`, migrates it and marks jobs of a dead process interrupted. */
export function openJobStore(file: string, options: JobStoreOptions = {}): JobStore {
  const db = new DatabaseSync(file, { timeout: options.busyTimeoutMs ?? 5000, enableForeignKeyConstraints: true });
  try {
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL in WAL mode loses at most the last commits on power loss, never consistency; progress writes are frequent.
    db.exec('PRAGMA synchronous = NORMAL');
    migrateJobSchema(db, file);
    return new JobStore(db, options.now ?? Date.now, options.keepRunning ?? false);
  } catch (error) {
    db.close();
    throw error;
  }
}

export class JobStore {
  readonly #db: DatabaseSync;
  readonly #now: () => number;
  readonly #sql: ReturnType<typeof prepareStatements>;

  /** Use `openJobStore`. */
  constructor(db: DatabaseSync, now: () => number, keepRunning = false) {
    this.#db = db;
    this.#now = now;
    this.#sql = prepareStatements(db);
    if (!keepRunning) this.#transact(() => this.#sql.interruptAll.run(this.#now(), INTERRUPTED_MESSAGE));
  }

  /** Adds a queued job. `request` must be JSON-serialisable (it is stored as JSON). */
  create(owner: string, request: unknown, retryOf: string | null = null): JobRecord {
    if (owner.length === 0) throw new InvalidJobInputError('owner', 'must not be empty');
    const json = encodeRequest(request);
    const id = randomBytes(16).toString('base64url');
    this.#sql.insert.run(id, owner, json, this.#now(), retryOf);
    return this.#require(id);
  }

  /**
   * The job an earlier submit of `owner` with this key created, if the key is younger than SUBMIT_KEY_TTL_MS;
   * `IdempotencyKeyReusedError` when that submit carried a different request.
   */
  findBySubmitKey(owner: string, submitKey: SubmitKey): JobRecord | undefined {
    const row = this.#sql.submitKey.get(owner, submitKey.key, this.#now() - SUBMIT_KEY_TTL_MS);
    if (row === undefined) return undefined;
    const jobId = readText(row, 'job_id');
    if (readText(row, 'fingerprint') !== submitKey.fingerprint) throw new IdempotencyKeyReusedError(jobId);
    return this.find(jobId);
  }

  /** Adds a queued job and remembers its key; the same key again (see `findBySubmitKey`) returns this job. */
  createWithSubmitKey(owner: string, request: unknown, submitKey: SubmitKey): JobRecord {
    return this.#transact(() => {
      const earlier = this.findBySubmitKey(owner, submitKey);
      if (earlier !== undefined) return earlier;
      const now = this.#now();
      this.#sql.forgetSubmitKeys.run(now - SUBMIT_KEY_TTL_MS);
      const job = this.create(owner, request);
      this.#sql.insertSubmitKey.run(owner, submitKey.key, submitKey.fingerprint, job.id, now);
      return job;
    });
  }

  /** The job if it exists and `scope` may see it; otherwise `JobNotFoundError` (also for someone else's job). */
  get(id: string, scope: OwnerScope): JobRecord {
    const job = this.find(id);
    if (job === undefined || !isVisible(job, scope)) throw new JobNotFoundError(id);
    return job;
  }

  /** The job by id with no owner check, for the queue's own bookkeeping. */
  find(id: string): JobRecord | undefined {
    const row = this.#sql.byId.get(id);
    return row === undefined ? undefined : this.#toRecord(row);
  }

  /** The history `scope` may see, newest first. */
  list(scope: OwnerScope, page: JobPageRequest = {}): JobRecordPage {
    const limit = page.limit ?? DEFAULT_PAGE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
      throw new InvalidJobInputError('limit', `must be an integer in 1..${MAX_PAGE}`);
    }
    const before = decodeCursor(page.cursor);
    const rows = scope === ANY_OWNER
      ? this.#sql.pageAll.all(before, limit + 1)
      : this.#sql.pageOwner.all(scope, before, limit + 1);
    const jobs = rows.slice(0, limit).map((row) => this.#toRecord(row));
    const last = rows.length > limit ? rows[limit - 1] : undefined;
    return { jobs, nextCursor: last === undefined ? null : String(readInt(last, 'seq')) };
  }

  /** Every image file any job records (relative to the outputs directory). */
  listResultFiles(): Set<string> {
    return new Set(this.#sql.allResultFiles.all().map((row) => readText(row, 'file')));
  }

  /** Every queued job in submission order. */
  listQueued(): JobRecord[] {
    return this.#sql.queued.all().map((row) => this.#toRecord(row));
  }

  /** Every running job in start order. */
  listRunning(): JobRecord[] {
    return this.#sql.running.all().map((row) => this.#toRecord(row));
  }

  countQueued(owner: string): number {
    return readInt(this.#sql.countQueued.get(owner) ?? {}, 'n');
  }

  /** For each owner, the rank of their most recently started job (higher is more recent). */
  readStartOrders(): Map<string, number> {
    const orders = new Map<string, number>();
    for (const row of this.#sql.startOrders.all()) orders.set(readText(row, 'owner'), readInt(row, 'last'));
    return orders;
  }

  markRunning(id: string): JobRecord {
    return this.#transition(id, 'start', () => this.#sql.start.run(this.#now(), id));
  }

  /**
   * Puts a running job back in line (its worker died before finishing it): it keeps its id, its place in history
   * and the images already recorded, so the job shows once, not twice.
   */
  requeue(id: string): JobRecord {
    return this.#transition(id, 'requeue', () => this.#sql.requeue.run(id));
  }

  /** Records where a running job is; ignored once the job has left `running` (a late report after a cancel). */
  updateProgress(id: string, progress: JobProgress): void {
    this.#sql.progress.run(JSON.stringify(progress), id);
  }

  /** Records a saved image of a running job. */
  addResult(id: string, result: JobResult): void {
    checkResult(result);
    this.#transact(() => {
      const job = this.find(id);
      if (job === undefined) throw new JobNotFoundError(id);
      if (job.status !== 'running') throw new JobStateError(id, job.status, 'record an image for', 'Only running jobs save images.');
      this.#sql.insertResult.run(id, id, result.imageId, result.file, result.seed, result.sha256 ?? null);
    });
  }

  markDone(id: string): JobRecord {
    return this.#finish(id, 'done', null);
  }

  /** `message` must be safe to show the user. */
  markFailed(id: string, message: string): JobRecord {
    return this.#finish(id, 'failed', message);
  }

  /** Cancels a queued or running job. */
  markCancelled(id: string): JobRecord {
    return this.#finish(id, 'cancelled', null, 'queued');
  }

  /** A running job whose process is stopping or died: it can be retried later. `message` must be safe to show. */
  markInterrupted(id: string, message: string = INTERRUPTED_MESSAGE): JobRecord {
    return this.#finish(id, 'interrupted', message);
  }

  /** The job an earlier retry of `id` created (while that job exists), or undefined. */
  findRetry(id: string, scope: OwnerScope): JobRecord | undefined {
    this.get(id, scope);
    const row = this.#sql.retryOf.get(id);
    return row === undefined ? undefined : this.find(readText(row, 'retry'));
  }

  /**
   * Queues a new job with the same owner and request as a failed, cancelled or interrupted one, once: a job that
   * was already retried returns the job its retry created, so a repeated or concurrent retry queues nothing more.
   */
  retry(id: string, scope: OwnerScope): JobRecord {
    return this.#transact(() => {
      const earlier = this.findRetry(id, scope);
      if (earlier !== undefined) return earlier;
      const job = this.get(id, scope);
      if (!RETRYABLE_JOB_STATUSES.includes(job.status)) {
        throw new JobStateError(id, job.status, 'retry', 'Only interrupted, failed or cancelled jobs can be retried.');
      }
      const retry = this.create(job.owner, job.request, job.id);
      this.#sql.insertRetry.run(job.id, retry.id);
      return retry;
    });
  }

  /**
   * Deletes a finished job and its result rows, and returns the result files (relative to the outputs directory)
   * for the caller to remove. Active jobs must be cancelled first.
   */
  delete(id: string, scope: OwnerScope): { files: string[] } {
    return this.#transact(() => {
      const job = this.get(id, scope);
      if (job.status === 'queued' || job.status === 'running') {
        throw new JobStateError(id, job.status, 'delete', 'Cancel it first.');
      }
      this.#sql.deleteResults.run(id);
      this.#sql.deleteJob.run(id);
      return { files: job.results.map((r) => r.file) };
    });
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #finish(id: string, status: JobStatus, error: string | null, alsoFrom: JobStatus = 'running'): JobRecord {
    return this.#transition(id, status, () => this.#sql.finish.run(status, this.#now(), error, id, alsoFrom));
  }

  /** Runs a conditional update; when it matched nothing, says why (no such job, or the wrong state). */
  #transition(id: string, action: string, update: () => { changes: number | bigint }): JobRecord {
    return this.#transact(() => {
      if (Number(update().changes) === 0) {
        const job = this.find(id);
        if (job === undefined) throw new JobNotFoundError(id);
        throw new JobStateError(id, job.status, action === 'start' ? 'start' : `mark ${action}`, 'The job already moved on.');
      }
      return this.#require(id);
    });
  }

  #transact<T>(body: () => T): T {
    if (this.#db.isTransaction) return body();
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const result = body();
      this.#db.exec('COMMIT');
      return result;
    } catch (error) {
      this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  #require(id: string): JobRecord {
    const job = this.find(id);
    if (job === undefined) throw new JobNotFoundError(id);
    return job;
  }

  #toRecord(row: Row): JobRecord {
    const id = readText(row, 'id');
    const progress = readOptionalText(row, 'progress');
    return {
      id,
      owner: readText(row, 'owner'),
      status: readText(row, 'status') as JobStatus,
      request: JSON.parse(readText(row, 'request')) as unknown,
      createdAt: readInt(row, 'created_at'),
      startedAt: readOptionalInt(row, 'started_at'),
      finishedAt: readOptionalInt(row, 'finished_at'),
      progress: progress === null ? null : (JSON.parse(progress) as JobProgress),
      error: readOptionalText(row, 'error'),
      results: this.#sql.results.all(id).map((r) => {
        const sha256 = readOptionalText(r, 'sha256');
        return { imageId: readText(r, 'image_id'), file: readText(r, 'file'), seed: readText(r, 'seed'), ...(sha256 === null ? {} : { sha256 }) };
      }),
      retryOf: readOptionalText(row, 'retry_of'),
    };
  }
}

function prepareStatements(db: DatabaseSync) {
  return {
    insert: db.prepare(
      'INSERT INTO jobs (id, owner, status, request, created_at, retry_of) VALUES (?, ?, \'queued\', ?, ?, ?)',
    ),
    byId: db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = ?`),
    pageOwner: db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE owner = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
    pageAll: db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE seq < ? ORDER BY seq DESC LIMIT ?`),
    queued: db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = 'queued' ORDER BY seq`),
    running: db.prepare(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status = 'running' ORDER BY start_order`),
    requeue: db.prepare('UPDATE jobs SET status = \'queued\', started_at = NULL, progress = NULL WHERE id = ? AND status = \'running\''),
    countQueued: db.prepare('SELECT COUNT(*) AS n FROM jobs WHERE owner = ? AND status = \'queued\''),
    startOrders: db.prepare('SELECT owner, MAX(start_order) AS last FROM jobs WHERE start_order IS NOT NULL GROUP BY owner'),
    results: db.prepare('SELECT image_id, file, seed, sha256 FROM job_results WHERE job_id = ? ORDER BY ord'),
    allResultFiles: db.prepare('SELECT file FROM job_results'),
    insertResult: db.prepare(
      'INSERT INTO job_results (job_id, ord, image_id, file, seed, sha256) ' +
        'VALUES (?, (SELECT COUNT(*) FROM job_results WHERE job_id = ?), ?, ?, ?, ?)',
    ),
    start: db.prepare(
      'UPDATE jobs SET status = \'running\', started_at = ?, ' +
        'start_order = (SELECT COALESCE(MAX(start_order), 0) + 1 FROM jobs) WHERE id = ? AND status = \'queued\'',
    ),
    progress: db.prepare('UPDATE jobs SET progress = ? WHERE id = ? AND status = \'running\''),
    finish: db.prepare(
      'UPDATE jobs SET status = ?, finished_at = ?, error = ? WHERE id = ? AND status IN (\'running\', ?)',
    ),
    interruptAll: db.prepare(
      'UPDATE jobs SET status = \'interrupted\', finished_at = ?, error = ? WHERE status = \'running\'',
    ),
    retryOf: db.prepare('SELECT retry FROM job_retries WHERE original = ?'),
    insertRetry: db.prepare('INSERT INTO job_retries (original, retry) VALUES (?, ?)'),
    submitKey: db.prepare('SELECT fingerprint, job_id FROM submit_keys WHERE owner = ? AND key = ? AND created_at >= ?'),
    insertSubmitKey: db.prepare(
      'INSERT INTO submit_keys (owner, key, fingerprint, job_id, created_at) VALUES (?, ?, ?, ?, ?) ' +
        'ON CONFLICT (owner, key) DO UPDATE SET fingerprint = excluded.fingerprint, job_id = excluded.job_id, created_at = excluded.created_at',
    ),
    forgetSubmitKeys: db.prepare('DELETE FROM submit_keys WHERE created_at < ?'),
    deleteResults: db.prepare('DELETE FROM job_results WHERE job_id = ?'),
    deleteJob: db.prepare('DELETE FROM jobs WHERE id = ?'),
  };
}

function isVisible(job: JobRecord, scope: OwnerScope): boolean {
  return scope === ANY_OWNER || job.owner === scope;
}

function encodeRequest(request: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(request);
  } catch {
    json = undefined;
  }
  if (json === undefined) throw new InvalidJobInputError('request', 'must be a JSON value (no bigint, function or undefined)');
  return json;
}

function decodeCursor(cursor: string | undefined): number {
  if (cursor === undefined) return Number.MAX_SAFE_INTEGER;
  if (!/^[1-9]\d{0,15}$/.test(cursor)) throw new InvalidJobInputError('cursor', 'must be a cursor returned by a previous page');
  return Number(cursor);
}

/** Result files are later deleted relative to the outputs directory, so they must not be able to point outside it. */
function checkResult(result: JobResult): void {
  const parts = result.file.split('/');
  const escapes = parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0') || p.includes(':'));
  if (escapes) throw new InvalidJobInputError('file', `must be a plain relative path inside outputs, got ${JSON.stringify(result.file)}`);
  if (!/^\d{1,19}$/.test(result.seed)) throw new InvalidJobInputError('seed', `must be a decimal integer, got ${JSON.stringify(result.seed)}`);
  if (result.imageId.length === 0) throw new InvalidJobInputError('imageId', 'must not be empty');
  if (result.sha256 !== undefined && !/^[0-9a-f]{64}$/.test(result.sha256)) throw new InvalidJobInputError('sha256', 'must be 64 lowercase hex digits');
}

function readText(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`jobs database: ${column} is not text`);
  return value;
}

function readOptionalText(row: Row, column: string): string | null {
  return row[column] === null ? null : readText(row, column);
}

function readInt(row: Row, column: string): number {
  const value = row[column];
  if (typeof value !== 'number') throw new TypeError(`jobs database: ${column} is not an integer`);
  return value;
}

function readOptionalInt(row: Row, column: string): number | null {
  return row[column] === null ? null : readInt(row, column);
}
