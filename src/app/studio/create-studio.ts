/**
 * The app's composition root for the studio (what `fooocus serve` runs): the verified model store (with the demo
 * model when it is empty), the creative layer's data, the inference worker, and the persistent job queue.
 */
import { realpath, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FooocusError } from '../../engine/index.ts';
import { ensureAppDirectories } from '../config/app-directories.ts';
import type { AppConfig } from '../config/config-schema.ts';
import { getPerformanceMode, PERFORMANCE_MODE_NAMES } from '../creative/performance-modes.ts';
import { loadCreativeData } from '../creative/creative-data.ts';
import type { CatalogFileNames } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import type { StyleLibrary, StyleProblem } from '../creative/style-library.ts';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../demo/demo-model.ts';
import { SD15_ASPECT_RATIOS, SDXL_ASPECT_RATIOS } from '../generation/aspect-ratios.ts';
import { describeJobFailure } from '../jobs/job-failure.ts';
import { LocalJobQueue, type JobQueue } from '../jobs/job-queue.ts';
import { openJobStore } from '../jobs/job-store.ts';
import { readVerifiedCatalog } from '../models/catalog.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../models/model-store.ts';
import { InferenceWorker } from '../worker/inference-worker.ts';
import { UploadDecoder } from '../uploads/upload-decoder.ts';
import { UploadStore } from '../uploads/upload-store.ts';
import { UploadUsage } from '../uploads/upload-usage.ts';
import type { StudioJobRequest } from './studio-request.ts';
import { createStudioExecutor } from './studio-executor.ts';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface Studio {
  queue: JobQueue;
  store: ModelStore;
  outputsDir: string;
  styles: StyleLibrary;
  styleProblems: StyleProblem[];
  presets: Map<string, Preset>;
  /** Catalog id -> model-store file, for the model names presets use. */
  catalogFiles: CatalogFileNames;
  performanceModes: readonly string[];
  aspectRatios: { sdxl: readonly string[]; sd15: readonly string[] };
  listModels(): Promise<(ModelListing & { demo: boolean })[]>;
  /** Uploaded input images: decoded in a restricted process, capped per owner, expired when unused. */
  uploads: UploadStore;
  /** The real path of an output file, refusing anything outside the outputs directory. */
  resolveOutput(relative: string): Promise<string>;
  /** Stops taking jobs, interrupts the running one (retryable later), closes the job store and the inference process. */
  close(): Promise<void>;
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
  if (demo !== null) log(`using the built-in demo model ${demo} (random weights: abstract images). Get a real model with \`fooocus models pull <id>\`.`);

  const catalog = await readVerifiedCatalog(path.join(appRoot, 'catalog', 'catalog.json')).then(
    (verified) => verified.catalog,
    (err: unknown) => {
      log(`catalog: ${err instanceof Error ? err.message : String(err)}; preset model names are taken as file names`);
      return null;
    },
  );
  // The same loader as `fooocus generate`, so the studio and the CLI compose identical requests.
  const data = await loadCreativeData({ store, catalog, dataDir: path.join(appRoot, 'data') });
  const { styles, styleProblems: problems, presets } = data;
  for (const p of problems) log(`style file ${p.file}${p.line === undefined ? '' : `:${p.line}`}: ${p.message} (skipped)`);
  const creative = {
    ...data.context,
    loraAvailable: () => false,
  };
  for (const mode of PERFORMANCE_MODE_NAMES) getPerformanceMode(mode);

  const worker = new InferenceWorker({
    modelsDir: config.paths.models,
    outputsDir: config.paths.outputs,
    cacheDir: config.paths.cache,
    threads: config.runtime.threads,
    executionProvider: config.runtime.executionProvider,
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
  const jobStore = openJobStore(path.join(config.paths.cache, 'jobs.sqlite'));
  const uploadUsage = new UploadUsage(
    () => jobStore.listQueued().map((job) => job.request),
    (request) => (request as StudioJobRequest).input?.file,
  );
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
  const executor = createStudioExecutor({
    worker,
    creative,
    outputsDir: config.paths.outputs,
    defaultModel,
    listModels: () => store.list(),
    readInput: (file) => uploads.readPixels(file),
  });
  const queue = new LocalJobQueue({
    store: jobStore,
    executor: uploadUsage.track(executor),
    maxQueuedPerOwner: config.server.maxQueuedJobs,
    describeFailure: (error) => {
      log(`job failed: ${error instanceof Error ? error.message : String(error)}`);
      return describeJobFailure(error, maskedFolders);
    },
  });

  return {
    queue,
    store,
    outputsDir: outputsReal,
    styles,
    styleProblems: problems,
    presets,
    catalogFiles: data.catalogFiles,
    performanceModes: PERFORMANCE_MODE_NAMES,
    aspectRatios: { sdxl: SDXL_ASPECT_RATIOS, sd15: SD15_ASPECT_RATIOS },
    listModels: async () => (await store.list()).filter((m) => m.kind === 'checkpoints').map((m) => ({ ...m, demo: m.name === DEMO_MODEL_NAME })),
    uploads,
    resolveOutput: async (relative) => {
      const real = await realpath(path.join(outputsReal, relative));
      if (!real.startsWith(outputsReal + path.sep)) throw new Error('outside the outputs directory');
      return real;
    },
    close: async () => {
      // One SDXL step on a slow CPU (or a native call that hangs) can outlast any sensible wait for a stop signal.
      const grace = setTimeout(() => void worker.close(), options.jobStopGraceMs ?? JOB_STOP_GRACE_MS);
      try {
        await queue.close();
      } finally {
        clearTimeout(grace);
      }
      uploads.close();
      uploadDecoder.close();
      await worker.close();
    },
  };
}

export async function removeOutputs(studio: Studio, files: readonly string[]): Promise<void> {
  for (const f of files) {
    const real = await studio.resolveOutput(f).catch(() => null);
    if (real !== null) await rm(real, { force: true });
  }
}
