/**
 * The app's composition root for the studio (what `fooocus serve` runs): the verified model store (with the demo
 * model when it is empty), the creative layer's data, the inference worker, and the persistent job queue.
 */
import { realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FooocusError, type RgbImage } from '../../engine/index.ts';
import { formatCliCommand } from '../cli-invocation.ts';
import { ensureAppDirectories } from '../config/app-directories.ts';
import type { AppConfig } from '../config/config-schema.ts';
import { getPerformanceMode, PERFORMANCE_MODE_NAMES } from '../creative/performance-modes.ts';
import { loadCreativeData, readShippedCatalog } from '../creative/creative-data.ts';
import type { CatalogFileNames } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import type { StyleLibrary } from '../creative/style-library.ts';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../demo/demo-model.ts';
import { describeJobFailure } from '../jobs/job-failure.ts';
import { GENERATION_DEFAULTS } from '../generation/generation-defaults.ts';
import { prepareImageRequest, type ImageRequestDraft } from '../generation/generate-images.ts';
import { ImageRequestError, type ImagePromptDraft, type ImageRequest } from '../generation/image-request.ts';
import { LocalJobQueue, type JobQueue } from '../jobs/job-queue.ts';
import { readUnetInChannels } from '../generation/inpaint-run.ts';
import { readUpscalerScale } from '../generation/upscaler-selection.ts';
import { openJobStore, type SubmitKey } from '../jobs/job-store.ts';
import { RedisJobQueue, type WorkerStatus } from '../jobs/redis-job-queue.ts';
import { allowsProvider } from '../jobs/remote-job-protocol.ts';
import { ModelChangedError, ModelNotFoundError, UntrustedModelError } from '../models/model-errors.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { InferenceWorker } from '../worker/inference-worker.ts';
import { UploadDecoder } from '../uploads/upload-decoder.ts';
import { previewControlMap } from '../image-prompts/control-map-preview.ts';
import { checkDescriberInstalled, type ImageDescriptionResult } from '../describe/describe-image.ts';
import { describeUpload } from '../describe/describe-upload.ts';
import { createDescriberRegistry, type DescribeType } from '../describe/describer-registry.ts';
import type { ControlPromptType } from '../../engine/index.ts';
import { UploadStore } from '../uploads/upload-store.ts';
import { UploadUsage } from '../uploads/upload-usage.ts';
import { openRedisStudioQueue } from './redis-studio-queue.ts';
import { createStudioExecutor } from './studio-executor.ts';
import { sweepJobOutputs } from '../outputs/output-sweep.ts';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A generate request as a client sends it: an uploaded image (and inpaint mask) by id instead of a file. */
/** Quotas of the submitting side (the HTTP server's) that the request's resolved values must also meet. */
export interface SubmitLimits {
  /** Pixels of a result whose size the mode decides (an upscale's). */
  maxPixels?: number;
}

export type StudioImageRequest = Omit<ImageRequestDraft, 'input' | 'imagePrompts'> & { inputImageId?: string; denoise?: number; imagePrompts?: StudioImagePrompt[] };

/** An image prompt as a client names it: an upload's id instead of a file. */
export type StudioImagePrompt = Omit<ImagePromptDraft, 'file'> & { imageId: string };

/** The upload files a stored request names: its input image and its inpaint mask. */
export function uploadFilesOf(request: unknown): string[] {
  const { input, inpaint, imagePrompts } = request as ImageRequest;
  return [input?.file, inpaint?.mask, ...(imagePrompts ?? []).map((p) => p.file)].filter((file): file is string => file !== undefined);
}

export interface Studio {
  queue: JobQueue;
  store: ModelStore;
  outputsDir: string;
  styles: StyleLibrary;
  presets: Map<string, Preset>;
  /** Catalog id -> model-store file, for the model names presets use. */
  catalogFiles: CatalogFileNames;
  /** Uploaded input images: decoded in a restricted process, capped per owner, expired when unused. */
  uploads: UploadStore;
  /** The PyraCanny or CPDS map of an image (decoded as uploads are), as a PNG; nothing is stored. */
  previewControlMap(type: ControlPromptType, bytes: Uint8Array): Promise<Uint8Array>;
  /**
   * Describe: a prompt for an image (decoded as uploads are) from the type's describer, run in the inference
   * process; nothing is stored.
   */
  describeImage(type: DescribeType, bytes: Uint8Array): Promise<ImageDescriptionResult>;
  /** The inference process that runs jobs and Describe (started on first use). */
  inference: InferenceWorker;
  /**
   * Checks a request against what is installed (ImageRequestError naming the field), resolves its defaults and
   * queues it for `owner`.
   */
  submitImages(owner: string, request: StudioImageRequest, submitKey?: SubmitKey, limits?: SubmitLimits): Promise<{ id: string; position: number }>;
  /** The real path of an output file, refusing anything outside the outputs directory. */
  resolveOutput(relative: string): Promise<string>;
  /**
   * Whether the default model is in the store and matches its recorded size and SHA-256 (hashed once, then
   * checked against the file's stamp); `reason` names the model, never a path.
   */
  checkDefaultModel(): Promise<StudioReadiness>;
  /** Stops taking jobs, interrupts the running one (retryable later), closes the job store and the inference process. */
  close(): Promise<void>;
}

/** Whether the studio can take jobs; with Redis, also whether Redis answers and how many workers are live. */
export interface StudioReadiness {
  ready: boolean;
  reason?: string;
  redis?: 'connected' | 'unreachable';
  workers?: number;
  /** Live workers per execution provider (counts only: the probe is public, so worker names stay out of it). */
  providers?: Record<string, number>;
}

export interface StudioOptions {
  /** Written into image metadata. */
  software: string;
  log?: (line: string) => void;
  /**
   * How long `close()` lets the running job reach its next step and stop before stopping the inference process
   * (default 10 s). Either way the job is recorded as interrupted, so shutdown stays bounded on a slow machine.
   */
  jobStopGraceMs?: number;
}

const JOB_STOP_GRACE_MS = 10_000;

export async function createStudio(config: AppConfig, options: StudioOptions = { software: 'Fooocus-TS' }): Promise<Studio> {
  const log = options.log ?? (() => undefined);
  for (const line of await ensureAppDirectories(config.paths, ['models', 'outputs', 'cache'])) log(line);
  const store = await openModelStore(config.paths.models);
  const demo = await ensureDemoModel(store);
  if (demo !== null) log(`using the built-in demo model ${demo} (random weights: abstract images). Get a real model with \`${formatCliCommand('models pull <id>')}\`.`);

  const catalog = await readShippedCatalog((err) => log(`catalog: ${err.message}; preset model names are taken as file names`));
  const data = await loadCreativeData({ store, catalog, dataDir: path.join(appRoot, 'data') });
  const { styles, styleProblems: problems, presets } = data;
  for (const p of problems) log(`style file ${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.message} (skipped)`);
  for (const mode of PERFORMANCE_MODE_NAMES) getPerformanceMode(mode);

  const worker = new InferenceWorker({
    modelsDir: config.paths.models,
    outputsDir: config.paths.outputs,
    cacheDir: config.paths.cache,
    threads: config.runtime.threads,
    executionProvider: config.runtime.executionProvider,
    precision: config.runtime.precision,
    memory: config.runtime.memory,
    software: options.software,
  });
  const defaultModel = async (): Promise<string> => {
    if (config.generation.defaultModel !== null) return config.generation.defaultModel;
    const first = (await store.list()).find((m) => m.kind === 'checkpoints' && m.name !== DEMO_MODEL_NAME) ?? (await store.list()).find((m) => m.kind === 'checkpoints');
    if (first === undefined) throw new FooocusError('not-found', 'no checkpoint in the model store');
    return first.name;
  };
  const maskedFolders = Object.entries(config.paths).map(([label, dir]) => ({ dir: path.resolve(dir), label }));
  const outputsReal = await realpath(config.paths.outputs);
  const redisBackend = config.queue.backend === 'redis';
  // With Redis, running jobs live on workers and outlast a server restart; their uploads stay in use too.
  const jobStore = openJobStore(path.join(config.paths.cache, 'jobs.sqlite'), { keepRunning: redisBackend });
  const uploadUsage = new UploadUsage(() => [...jobStore.listQueued(), ...(redisBackend ? jobStore.listRunning() : [])].map((job) => job.request), uploadFilesOf);
  const uploadDecoder = new UploadDecoder();
  const uploads = new UploadStore({
    outputsDir: outputsReal,
    maxPerOwner: config.uploads.maxPerOwner,
    maxBytesPerOwner: config.uploads.maxBytesPerOwner,
    expireAfterMs: config.uploads.expireAfterMinutes * 60_000,
    maxPixels: config.server.quotas.maxPixels,
    decoder: uploadDecoder,
    filesInUse: () => uploadUsage.filesInUse(),
  });
  uploads.start(log);
  // Whatever a killed process left behind before this start (nothing is writing yet).
  const sweepOutputs = async (): Promise<void> => {
    const removed = await sweepJobOutputs(outputsReal, jobStore.listResultFiles());
    if (removed.length > 0) log(`outputs: removed ${removed.length} file(s) no job records (left by a stopped process): ${removed.join(', ')}`);
  };
  await sweepOutputs();
  const describeFailure = (error: unknown): string => {
    log(`job failed: ${error instanceof Error ? error.message : String(error)}`);
    return describeJobFailure(error, maskedFolders);
  };
  const readPixels = (file: string): Promise<RgbImage> => uploads.readPixels(file);
  let queue: JobQueue;
  if (redisBackend) {
    queue = await openRedisStudioQueue({ config, jobStore, models: store, outputsDir: outputsReal, defaultModel, readPixels, imagesOf: uploadFilesOf, inference: worker, describeFailure, log }).catch((error: unknown) => {
      uploads.close();
      uploadDecoder.close();
      jobStore.close();
      throw error;
    });
  } else {
    const executor = createStudioExecutor({
      worker,
      outputsDir: config.paths.outputs,
      defaultModel,
      readInput: readPixels,
      readMask: (file) => uploads.readMask(file),
      sweepOutputs,
    });
    queue = new LocalJobQueue({ store: jobStore, executor: uploadUsage.track(executor), maxQueuedPerOwner: config.server.maxQueuedJobs, describeFailure });
  }
  // Describe runs in the inference process (its describers stay loaded there): ONNX Runtime's runs would hold up
  // every other request in this one. Only the check that the type is installed happens here.
  const describerRegistry = createDescriberRegistry();
  // Probes arrive every few seconds; while a large model is being hashed they share the one check in flight.
  let modelCheck: Promise<StudioReadiness> | null = null;
  const checkDefaultModel = async (): Promise<StudioReadiness> => {
    const name = await defaultModel().catch(() => null);
    if (name === null) return { ready: false, reason: 'the model store has no checkpoint' };
    try {
      await store.resolve('checkpoints', name);
      if (queue instanceof RedisJobQueue) return describeWorkers(await queue.workerStatus(), config.queue.providers);
      return { ready: true };
    } catch (err) {
      log(`readiness: ${err instanceof Error ? err.message : String(err)}`);
      return { ready: false, reason: describeUnverifiedModel(name, err) };
    }
  };

  return {
    queue,
    store,
    outputsDir: outputsReal,
    styles,
    presets,
    catalogFiles: data.catalogFiles,
    uploads,
    previewControlMap: (type, bytes) => previewControlMap({ decoder: uploadDecoder, maxPixels: config.server.quotas.maxPixels }, type, bytes),
    inference: worker,
    describeImage: (type, bytes) =>
      describeUpload(
        { decoder: uploadDecoder, maxPixels: config.server.quotas.maxPixels, checkInstalled: (t) => checkDescriberInstalled(store, describerRegistry, t), describe: (t, image) => worker.describe(t, image) },
        type,
        bytes,
      ),
    submitImages: async (owner, { inputImageId, denoise, imagePrompts, ...studioChoices }, submitKey, limits) => {
      const choices: ImageRequestDraft = { ...studioChoices };
      if (imagePrompts !== undefined) {
        choices.imagePrompts = [];
        for (const [i, { imageId, ...prompt }] of imagePrompts.entries()) {
          choices.imagePrompts.push({ ...prompt, file: await findUpload(uploads, owner, imageId, `imagePrompts[${i}].imageId`) });
        }
      }
      let input: ImageRequestDraft['input'];
      if (inputImageId !== undefined) {
        input = { file: await findUpload(uploads, owner, inputImageId, 'inputImageId'), denoise: denoise ?? GENERATION_DEFAULTS.denoise };
      }
      if (choices.inpaint?.mask !== undefined) choices.inpaint = { ...choices.inpaint, mask: await findUpload(uploads, owner, choices.inpaint.mask, 'inpaint.mask') };
      const context = { data, listing: await store.list() };
      const request = await prepareImageRequest({ ...choices, ...(input ? { input } : {}) }, context, {
        defaultModel,
        readInput: (file) => uploads.readPixels(file),
        // The mask's size and content (after erode and invert), and the engine against the checkpoint's UNet, are
        // refused here, at submit, rather than when the job runs.
        readMask: (file) => uploads.readMask(file),
        readUpscalerScale: (name) => readUpscalerScale(store, name),
        readUnetInChannels: (name) => readUnetInChannels(store, name),
        ...(limits?.maxPixels === undefined ? {} : { maxPixels: limits.maxPixels }),
      });
      return queue.submit(owner, request, submitKey === undefined ? {} : { submitKey });
    },
    resolveOutput: async (relative) => {
      const real = await realpath(path.join(outputsReal, relative));
      if (!real.startsWith(outputsReal + path.sep)) throw new Error('outside the outputs directory');
      return real;
    },
    checkDefaultModel: () => {
      modelCheck ??= checkDefaultModel().finally(() => {
        modelCheck = null;
      });
      return modelCheck;
    },
    close: async () => {
      // Shutdown can take seconds; say what it waits for, so a quiet terminal is not mistaken for a hang.
      const running = queue.runningJobId();
      const graceMs = options.jobStopGraceMs ?? JOB_STOP_GRACE_MS;
      if (running !== null) log(`stopping: waiting up to ${formatSeconds(graceMs)} for job ${running} to stop at its next step`);
      // One SDXL step on a slow CPU (or a native call that hangs) can outlast any sensible wait for a stop signal.
      const grace = setTimeout(() => {
        if (running !== null) log(`stopping: job ${running} did not stop within ${formatSeconds(graceMs)}; stopping the inference process`);
        void worker.close();
      }, graceMs);
      try {
        await queue.close();
      } finally {
        clearTimeout(grace);
      }
      if (running !== null) log(`stopping: job ${running} recorded as interrupted (it can be retried)`);
      uploads.close();
      uploadDecoder.close();
      await worker.close();
      log('stopping: inference process ended, job database closed');
    },
  };
}

/**
 * With Redis: ready while Redis answers and at least one worker is announced that runs a provider jobs may use
 * (queue.providers; any when empty).
 */
function describeWorkers(status: WorkerStatus, allowed: readonly string[]): StudioReadiness {
  const providers: Record<string, number> = {};
  for (const worker of status.workers) providers[worker.provider] = (providers[worker.provider] ?? 0) + 1;
  const counts = { redis: status.connected ? ('connected' as const) : ('unreachable' as const), workers: status.workers.length, providers };
  if (!status.connected) return { ready: false, reason: 'Redis does not answer', ...counts };
  if (status.workers.length === 0) return { ready: false, reason: 'no worker is connected (start one with fooocus worker --redis <url>)', ...counts };
  if (!status.workers.some((w) => allowsProvider(allowed, w.provider))) {
    return { ready: false, reason: `no live worker runs an execution provider queue.providers allows (${allowed.join(', ')})`, ...counts };
  }
  return { ready: true, ...counts };
}

/** The file of an owner's upload, marked used; `field` names it in the refusal when there is none. */
async function findUpload(uploads: UploadStore, owner: string, id: string, field: string): Promise<string> {
  const file = await uploads.find(owner, id);
  // Marking it used restarts its expiry time, so it cannot expire before the job is queued (a queued job's upload is kept).
  if (file === null || !(await uploads.markUsed(file))) throw new ImageRequestError(field, 'uploaded', `${field}: no such uploaded image`);
  return file;
}

/** Why the default model cannot be used, by its store name (absolute paths go only to the log). */
function describeUnverifiedModel(name: string, err: unknown): string {
  if (err instanceof ModelChangedError) return `the default model ${name} does not match its recorded SHA-256 or size`;
  if (err instanceof ModelNotFoundError) return `the default model ${name} is missing from the model store`;
  if (err instanceof UntrustedModelError) return `the default model ${name} is not in the trust manifest`;
  return `the default model ${name} could not be verified`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

export async function removeOutputs(studio: Studio, files: readonly string[]): Promise<void> {
  for (const f of files) {
    const real = await studio.resolveOutput(f).catch(() => null);
    if (real !== null) await rm(real, { force: true });
  }
}
