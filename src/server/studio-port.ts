/**
 * What the HTTP server needs from the studio, and nothing more. The server depends on this interface only; an
 * adapter over the app (job queue, creative layer, model store) implements it, and tests use an in-memory fake.
 *
 * Owner scoping: every call about jobs, history or images names the owner the request acts for. That is the
 * signed-in user's name, `local` when auth is off, or ALL_OWNERS for an admin. A user name can never be `*`
 * (server options refuse it), so no request can widen its own scope.
 *
 * Errors: any FooocusError, answered by its kind (not-found also for another owner's things; invalid naming the
 * field and rule; see error-mapping.ts). Anything else is reported as a 500 without details.
 */
import type { GenerateRequestBody } from './schemas/generate-request-schema.ts';
import type { JOB_STATUSES } from './schemas/job-schemas.ts';
import type { SubmitLimits } from '../app/studio/create-studio.ts';
import type { JobReport, JobUpdate } from '../app/studio/job-report.ts';
import type { AspectRatioLists, ModelInfo, PresetInfo, StyleInfo } from '../app/studio/studio-catalog.ts';

export type { GenerateRequestBody } from './schemas/generate-request-schema.ts';
export type { AspectRatioInfo, AspectRatioLists, ModelInfo, PresetInfo, StyleInfo } from '../app/studio/studio-catalog.ts';

/** What Describe answers: the prompt text, and a tagger's tags with their scores. */
export interface ImageDescriptionView {
  type: 'photo' | 'anime';
  text: string;
  tags?: { name: string; score: number; category: 'general' | 'character' }[];
}

/** The owner scope of an admin: every owner's jobs, history and images. */
export const ALL_OWNERS = '*';
/** The single owner when the server runs without auth (loopback only). */
export const LOCAL_OWNER = 'local';

export type JobStatus = (typeof JOB_STATUSES)[number];
export type ImageContentType = 'image/png' | 'image/jpeg' | 'image/webp';

export interface ImageRef {
  imageId: string;
  /** Always `/api/v1/images/<imageId>`: the only route that serves files. */
  url: string;
  /** Decimal string (seeds reach 2^63 - 1). */
  seed?: string;
}

/** A job as the API shows it (see JobReport); `error` is never a stack trace or a server path. */
export type JobSummary = Omit<JobReport, 'images' | 'request'> & { images: ImageRef[]; request: GenerateRequestBody };

export interface HistoryPage {
  items: JobSummary[];
  /** Pass back as `cursor` for the next page; null when there is none. */
  nextCursor: string | null;
}

/** Events of one job, in order (`progress` may carry `previewPng`, a small PNG base64); an image gets its URL. */
export type StudioEvent = Exclude<JobUpdate, { type: 'image' }> | (Extract<JobUpdate, { type: 'image' }> & { url: string });

export type StudioEventListener = (event: StudioEvent) => void;

export interface UploadedImage {
  bytes: Buffer;
  contentType: ImageContentType;
  /** Read from the image header by the server, already a size a job can use. */
  width: number;
  height: number;
  /** `mask`: stored as its grey channel (alpha, else luminance) for `inpaint.mask`; default `image`. */
  purpose?: 'image' | 'mask';
}

/**
 * A client's `Idempotency-Key` and a fingerprint of the body it came with: the same owner, key and fingerprint
 * within 24 h return the job the first submit created; the same key with another fingerprint is refused (422).
 */
export interface SubmitKey {
  key: string;
  fingerprint: string;
}

/** Whether the studio can take jobs; `reason` (safe to show: model names, never paths) says why not. */
export interface Readiness {
  ready: boolean;
  reason?: string;
  /** With the Redis queue: whether Redis answers, and how many workers are announced. */
  redis?: 'connected' | 'unreachable';
  workers?: number;
  /** With the Redis queue: live workers per execution provider. */
  providers?: Record<string, number>;
}

export interface StudioPort {
  /**
   * `owner` is the submitting user's own name (never ALL_OWNERS). Validates names (model, styles, sampler...)
   * against what is installed; throws InvalidRequestError.
   */
  /** `limits.maxPixels` also bounds a size the request does not give but its mode makes (an upscale's result). */
  submitJob(owner: string, request: GenerateRequestBody, submitKey?: SubmitKey, limits?: SubmitLimits): Promise<{ id: string; position: number }>;
  getJob(owner: string, id: string): Promise<JobSummary>;
  /** Newest first. `limit` is 1..200. */
  listHistory(owner: string, page: { cursor: string | undefined; limit: number }): Promise<HistoryPage>;
  /** Removes the entry and its images; a queued or running job throws JobStateConflictError. */
  deleteHistoryEntry(owner: string, id: string): Promise<void>;
  cancelJob(owner: string, id: string): Promise<void>;
  /**
   * Queues an interrupted, failed or cancelled job again, as a new job with the same request and owner; a job in
   * any other state throws JobStateConflictError.
   */
  retryJob(owner: string, id: string): Promise<{ id: string; position: number }>;
  /** Skips the image being sampled; the job goes on with the next one. */
  skipImage(owner: string, id: string): Promise<void>;
  /**
   * Calls `listener` with each later event of the job (not a snapshot: the server takes that from getJob).
   * Throws NotFoundError when the owner may not see the job. Returns the function that unsubscribes.
   */
  subscribe(owner: string, id: string, listener: StudioEventListener): () => void;
  /** Where an output or uploaded image lies. The server still checks the real path is inside the outputs dir. */
  openImage(owner: string, imageId: string): Promise<{ absolutePath: string; contentType: string }>;
  /**
   * Decodes and stores an uploaded input image (or mask) for a later generate request's inputImageId (or inpaint.mask); `owner` as in
   * submitJob. Answers the decoded size. Throws UploadRefusedError, UploadQuotaError (app/uploads/upload-errors.ts).
   */
  saveUpload(owner: string, image: UploadedImage): Promise<{ imageId: string; width: number; height: number }>;
  /** Deletes an upload: NotFoundError when the owner may not see it, UploadInUseError while a job needs it. */
  deleteUpload(owner: string, imageId: string): Promise<void>;
  /**
   * The PyraCanny or CPDS map of an image as a PNG, for the page to show; nothing is stored. Throws
   * UploadRefusedError for bytes that do not decode or a size no job can use.
   */
  previewControlMap(owner: string, image: { bytes: Buffer; type: 'PyraCanny' | 'CPDS' }): Promise<Uint8Array>;
  /**
   * Describe: a prompt for an image by the type's describer; nothing is stored. Throws DescriberNotInstalledError
   * (field `type`) when its files are not installed, UploadRefusedError for bytes that do not decode.
   */
  describeImage(owner: string, image: { bytes: Buffer; type: 'photo' | 'anime' }): Promise<ImageDescriptionView>;
  listModels(): Promise<ModelInfo[]>;
  /** Styles with their templates (`{prompt}` marks the user's prompt); the built-in switches come first. */
  listStyles(): Promise<StyleInfo[]>;
  listPresets(): Promise<PresetInfo[]>;
  listAspectRatios(): Promise<AspectRatioLists>;
  /** Liveness: the process can answer. */
  health(): Promise<boolean>;
  /** Readiness: the default model is present and matches its recorded SHA-256, and the queue accepts jobs. */
  ready(): Promise<Readiness>;
  /** Called once on shutdown, after the HTTP server has closed. */
  close(): Promise<void>;
}
