/**
 * What the studio and its workers exchange through Redis, and the parsers that check every message before it is
 * used. Nothing read from Redis is trusted: anyone who can write to it could put anything there, so each message is
 * checked field by field (a malformed one is refused with `MalformedMessageError`, logged and dropped; it never
 * stops the server or a worker).
 *
 * Keys and channels, all under the configured prefix `P`:
 * - BullMQ queue `work-<worker id>`: the jobs the server gave that worker (`RemoteJob`), one BullMQ job per dispatch.
 * - BullMQ queue `results`: what workers report (`WorkerReport`: started, image with its bytes, done, failed,
 *   cancelled, interrupted); the server consumes it, so reports made while it is down wait for it.
 * - `P:workers` (sorted set, member = worker id, score = when its announcement expires) and `P:worker-info`
 *   (hash, worker id -> `WorkerAnnouncement`).
 * - `P:assigned` (hash, job id -> `Assignment`): which dispatch of a running job is current; the server writes it.
 * - `P:stop:<job id>`: set when a job is cancelled, read by a worker before it starts the job.
 * - pub/sub `P:progress` (`ProgressReport`) and `P:control` (`ControlMessage`).
 */
import { ERROR_KINDS, FooocusError, type ErrorData, type ErrorKind, type RgbImage } from '../../engine/index.ts';
import type { JobPreview, JobProgress, JobResult } from './job-types.ts';

export const RESULTS_QUEUE = 'results';
/** Worker ids are also BullMQ queue names, so they are plain. */
export const WORKER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const JOB_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;
const PROVIDER_PATTERN = /^[a-z]{1,16}$/;
const MAX_TEXT = 4096;

export function workQueueName(workerId: string): string {
  return `work-${workerId}`;
}

export function redisKeys(prefix: string) {
  return {
    workers: `${prefix}:workers`,
    workerInfo: `${prefix}:worker-info`,
    assigned: `${prefix}:assigned`,
    stop: (jobId: string) => `${prefix}:stop:${jobId}`,
    progress: `${prefix}:progress`,
    control: `${prefix}:control`,
  };
}

/** Whether a worker running `provider` may take a job limited to `providers` (empty: any provider). */
export function allowsProvider(providers: readonly string[], provider: string): boolean {
  return providers.length === 0 || providers.includes(provider);
}

/** A model a job needs, named as in the studio's store and pinned by its SHA-256. */
export interface ModelPin {
  kind: string;
  name: string;
  sha256: string;
}

/** An image the job reads (its input, a mask), decoded by the studio through its upload checks, by the file the request names. */
export interface Attachment {
  file: string;
  width: number;
  height: number;
  /** Interleaved 8-bit RGB, base64. */
  rgb: string;
  /** SHA-256 of the file's bytes, for an image prompt (its image's metadata records it). */
  sha256?: string;
}

/** One dispatch of a job to one worker. */
export interface RemoteJob {
  jobId: string;
  /** Unique per dispatch: a report carrying an older dispatch (a worker given up for dead) is ignored. */
  dispatch: string;
  owner: string;
  createdAt: number;
  retryOf: string | null;
  /** The application request, exactly as the queue stored it. */
  request: unknown;
  models: ModelPin[];
  /** The execution providers the studio lets this job run on (`queue.providers`); empty: any. */
  providers: string[];
  attachments: Attachment[];
}

export interface WorkerAnnouncement {
  id: string;
  concurrency: number;
  /** ONNX Runtime execution provider the worker runs (cpu, cuda, …). */
  provider: string;
  /** SHA-256 of every model the worker has verified, or can pull from the catalog. */
  models: string[];
  startedAt: number;
}

export interface Assignment {
  dispatch: string;
  worker: string;
}

interface ReportBase {
  jobId: string;
  dispatch: string;
  worker: string;
}

export type WorkerReport =
  /** Sent by earlier workers before a job ran; the server records nothing for it (the job runs from its dispatch). */
  | (ReportBase & { type: 'started' })
  /**
   * `bytes`: the saved file, base64 (absent only from executors that write no file, as in tests). `atEnd`: an image
   * the executor returned at the end without reporting it, recorded as the local queue does (no event of its own).
   */
  | (ReportBase & { type: 'image'; result: JobResult; bytes?: string; atEnd?: boolean })
  | (ReportBase & { type: 'done' })
  | (ReportBase & { type: 'failed'; error: ErrorData })
  | (ReportBase & { type: 'cancelled' })
  /** The worker shut down while running the job (retryable, like a job cut off by a server shutdown). */
  | (ReportBase & { type: 'interrupted' });

export interface ProgressReport {
  jobId: string;
  dispatch: string;
  progress: JobProgress;
  preview: JobPreview | null;
}

export interface ControlMessage {
  jobId: string;
  action: 'cancel' | 'skip';
}

/** A message in Redis that is not what this version writes; `field` names the first part at fault. */
export class MalformedMessageError extends FooocusError {
  constructor(what: string, field: string, rule: string) {
    super('invalid', `malformed ${what}: ${field} ${rule}`, { field, rule });
  }
}

type Fields = Record<string, unknown>;

function readObject(value: unknown, what: string, field = 'message'): Fields {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new MalformedMessageError(what, field, 'must be an object');
  return value as Fields;
}

function readString(o: Fields, key: string, what: string, pattern?: RegExp, max = MAX_TEXT): string {
  const value = o[key];
  if (typeof value !== 'string' || value.length > max || (pattern !== undefined && !pattern.test(value))) {
    throw new MalformedMessageError(what, key, pattern === undefined ? `must be a string of at most ${max} characters` : `must match ${pattern.source}`);
  }
  return value;
}

function readInteger(o: Fields, key: string, what: string, min: number, max: number): number {
  const value = o[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) throw new MalformedMessageError(what, key, `must be an integer in ${min}..${max}`);
  return value;
}

function parseJsonText(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new MalformedMessageError(what, 'message', 'must be JSON');
  }
}

/** Checks a dispatch as a worker receives it; `maxAttachmentPixels` bounds each attached image. */
export function parseRemoteJob(data: unknown, maxAttachmentPixels: number): RemoteJob {
  const what = 'job';
  const o = readObject(data, what);
  const request = readObject(o.request, what, 'request');
  if (!Array.isArray(o.models) || o.models.length > 64) throw new MalformedMessageError(what, 'models', 'must be a list of at most 64 models');
  if (!Array.isArray(o.attachments) || o.attachments.length > 8) throw new MalformedMessageError(what, 'attachments', 'must be a list of at most 8 images');
  const models = o.models.map((m: unknown) => {
    const pin = readObject(m, what, 'models[]');
    return { kind: readString(pin, 'kind', what, /^[a-z]{1,32}$/), name: readString(pin, 'name', what, undefined, 1024), sha256: readString(pin, 'sha256', what, SHA256_PATTERN) };
  });
  const attachments = o.attachments.map((a: unknown) => parseAttachment(readObject(a, what, 'attachments[]'), maxAttachmentPixels));
  // Absent in jobs of a studio that predates the field: any provider.
  const providers = o.providers === undefined ? [] : o.providers;
  if (!Array.isArray(providers) || providers.length > 8 || !providers.every((p: unknown) => typeof p === 'string' && PROVIDER_PATTERN.test(p))) {
    throw new MalformedMessageError(what, 'providers', 'must be a list of at most 8 provider names');
  }
  const retryOf = o.retryOf === null ? null : readString(o, 'retryOf', what, JOB_ID_PATTERN);
  return {
    jobId: readString(o, 'jobId', what, JOB_ID_PATTERN),
    dispatch: readString(o, 'dispatch', what, JOB_ID_PATTERN),
    owner: readString(o, 'owner', what, undefined, 256),
    createdAt: readInteger(o, 'createdAt', what, 0, Number.MAX_SAFE_INTEGER),
    retryOf,
    request,
    models,
    providers: providers as string[],
    attachments,
  };
}

function parseAttachment(o: Fields, maxPixels: number): Attachment {
  const what = 'job attachment';
  const width = readInteger(o, 'width', what, 1, 65535);
  const height = readInteger(o, 'height', what, 1, 65535);
  if (width * height > maxPixels) throw new MalformedMessageError(what, 'width', `x height must be at most ${maxPixels} pixels`);
  const rgb = readString(o, 'rgb', what, /^[A-Za-z0-9+/]*={0,2}$/, Math.ceil((width * height * 3) / 3) * 4 + 4);
  if (Buffer.byteLength(rgb, 'base64') !== width * height * 3) throw new MalformedMessageError(what, 'rgb', 'must hold width x height x 3 bytes');
  const sha256 = o.sha256 === undefined ? undefined : readString(o, 'sha256', what, /^[0-9a-f]{64}$/, 64);
  return { file: readString(o, 'file', what, undefined, 4096), width, height, rgb, ...(sha256 === undefined ? {} : { sha256 }) };
}

export function encodeAttachment(file: string, image: RgbImage, sha256?: string): Attachment {
  const rgb = Buffer.from(image.rgb.buffer, image.rgb.byteOffset, image.rgb.byteLength).toString('base64');
  return { file, width: image.width, height: image.height, rgb, ...(sha256 === undefined ? {} : { sha256 }) };
}

export function decodeAttachment(attachment: Attachment): RgbImage {
  return { width: attachment.width, height: attachment.height, rgb: new Uint8Array(Buffer.from(attachment.rgb, 'base64')) };
}

const REPORT_TYPES = ['started', 'image', 'done', 'failed', 'cancelled', 'interrupted'] as const;

/** Checks a worker's report as the server receives it; an image's bytes must fit `maxResultBytes`. */
export function parseWorkerReport(data: unknown, maxResultBytes: number): WorkerReport {
  const what = 'worker report';
  const o = readObject(data, what);
  const type = o.type;
  if (typeof type !== 'string' || !(REPORT_TYPES as readonly string[]).includes(type)) throw new MalformedMessageError(what, 'type', `must be one of ${REPORT_TYPES.join(', ')}`);
  const base = { jobId: readString(o, 'jobId', what, JOB_ID_PATTERN), dispatch: readString(o, 'dispatch', what, JOB_ID_PATTERN), worker: readString(o, 'worker', what, WORKER_ID_PATTERN) };
  switch (type as WorkerReport['type']) {
    case 'image': {
      const r = readObject(o.result, what, 'result');
      const sha256 = r.sha256 === undefined ? undefined : readString(r, 'sha256', what, SHA256_PATTERN);
      const result: JobResult = { imageId: readString(r, 'imageId', what, /^[A-Za-z0-9_.-]{1,128}$/), file: readString(r, 'file', what, undefined, 1024), seed: readString(r, 'seed', what, /^\d{1,19}$/), ...(sha256 === undefined ? {} : { sha256 }) };
      if (o.atEnd !== undefined && typeof o.atEnd !== 'boolean') throw new MalformedMessageError(what, 'atEnd', 'must be a boolean');
      const atEnd = o.atEnd === true ? { atEnd: true } : {};
      if (o.bytes === undefined) return { ...base, type: 'image', result, ...atEnd };
      const bytes = readString(o, 'bytes', what, undefined, Math.ceil(maxResultBytes / 3) * 4 + 4);
      if (Buffer.byteLength(bytes, 'base64') > maxResultBytes) throw new MalformedMessageError(what, 'bytes', `must be at most ${maxResultBytes} bytes`);
      return { ...base, type: 'image', result, bytes, ...atEnd };
    }
    case 'failed': {
      const e = readObject(o.error, what, 'error');
      const kind = e.kind;
      if (typeof kind !== 'string' || !(ERROR_KINDS as readonly string[]).includes(kind)) throw new MalformedMessageError(what, 'error.kind', 'must be an error kind');
      const optional = (key: string): string | undefined => (e[key] === undefined ? undefined : readString(e, key, what, undefined, 256));
      const field = optional('field');
      const rule = optional('rule');
      const error: ErrorData = {
        name: readString(e, 'name', what, /^[A-Za-z0-9_]{1,64}$/),
        kind: kind as ErrorKind,
        message: readString(e, 'message', what),
        publicMessage: readString(e, 'publicMessage', what),
        ...(field === undefined ? {} : { field }),
        ...(rule === undefined ? {} : { rule }),
      };
      return { ...base, type: 'failed', error };
    }
    default:
      return { ...base, type: type as 'started' | 'done' | 'cancelled' | 'interrupted' };
  }
}

export function parseProgressReport(text: string): ProgressReport {
  const what = 'progress report';
  const o = readObject(parseJsonText(text, what), what);
  const p = readObject(o.progress, what, 'progress');
  const eta = p.etaSeconds;
  if (eta !== undefined && eta !== null && (typeof eta !== 'number' || !Number.isFinite(eta) || eta < 0)) throw new MalformedMessageError(what, 'etaSeconds', 'must be a number of seconds or null');
  const progress: JobProgress = {
    step: readInteger(p, 'step', what, 0, 100_000),
    steps: readInteger(p, 'steps', what, 0, 100_000),
    image: readInteger(p, 'image', what, 0, 100_000),
    images: readInteger(p, 'images', what, 0, 100_000),
    ...(eta === undefined ? {} : { etaSeconds: eta as number | null }),
    ...(p.message === undefined ? {} : { message: readString(p, 'message', what, undefined, 500) }),
  };
  let preview: JobPreview | null = null;
  if (o.preview !== null && o.preview !== undefined) {
    const pv = readObject(o.preview, what, 'preview');
    preview = { png: readString(pv, 'png', what, /^[A-Za-z0-9+/]*={0,2}$/, 4 * 1024 * 1024) };
  }
  return { jobId: readString(o, 'jobId', what, JOB_ID_PATTERN), dispatch: readString(o, 'dispatch', what, JOB_ID_PATTERN), progress, preview };
}

export function parseControlMessage(text: string): ControlMessage {
  const what = 'control message';
  const o = readObject(parseJsonText(text, what), what);
  const action = o.action;
  if (action !== 'cancel' && action !== 'skip') throw new MalformedMessageError(what, 'action', 'must be cancel or skip');
  return { jobId: readString(o, 'jobId', what, JOB_ID_PATTERN), action };
}

export function parseAnnouncement(text: string): WorkerAnnouncement {
  const what = 'worker announcement';
  const o = readObject(parseJsonText(text, what), what);
  if (!Array.isArray(o.models) || o.models.length > 100_000) throw new MalformedMessageError(what, 'models', 'must be a list');
  const models = o.models.map((m: unknown) => {
    if (typeof m !== 'string' || !SHA256_PATTERN.test(m)) throw new MalformedMessageError(what, 'models[]', 'must be SHA-256 hex digests');
    return m;
  });
  return {
    id: readString(o, 'id', what, WORKER_ID_PATTERN),
    concurrency: readInteger(o, 'concurrency', what, 1, 64),
    provider: readString(o, 'provider', what, PROVIDER_PATTERN),
    models,
    startedAt: readInteger(o, 'startedAt', what, 0, Number.MAX_SAFE_INTEGER),
  };
}

export function parseAssignment(text: string): Assignment {
  const what = 'assignment';
  const o = readObject(parseJsonText(text, what), what);
  return { dispatch: readString(o, 'dispatch', what, JOB_ID_PATTERN), worker: readString(o, 'worker', what, WORKER_ID_PATTERN) };
}
