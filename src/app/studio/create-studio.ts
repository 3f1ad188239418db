/**
 * The app's composition root for the studio (what `fooocus serve` runs): the verified model store (with the demo
 * model when it is empty), the creative layer's data, the inference worker, and the persistent job queue.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FooocusError, type ImageFormat } from '../../engine/index.ts';
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
  /** Stores an uploaded input image under the outputs directory; returns its path relative to outputs. */
  saveUpload(owner: string, bytes: Uint8Array, format: ImageFormat): Promise<{ id: string; file: string }>;
  /**
   * An uploaded image by id, as a path relative to outputs: the owner's own (any owner's when `owner` is null,
   * for admins), or null. Uploads are found on disk, so they outlive a restart.
   */
  findUpload(owner: string | null, id: string): Promise<string | null>;
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
  await mkdir(config.paths.models, { recursive: true, mode: 0o755 });
  await mkdir(config.paths.outputs, { recursive: true, mode: 0o750 });
  await mkdir(config.paths.cache, { recursive: true, mode: 0o750 });
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
  const queue = new LocalJobQueue({
    store: openJobStore(path.join(config.paths.cache, 'jobs.sqlite')),
    executor: createStudioExecutor({ worker, creative, outputsDir: config.paths.outputs, defaultModel, listModels: () => store.list() }),
    maxQueuedPerOwner: config.server.maxQueuedJobs,
    describeFailure: (error) => {
      log(`job failed: ${error instanceof Error ? error.message : String(error)}`);
      return describeJobFailure(error, maskedFolders);
    },
  });
  const outputsReal = await realpath(config.paths.outputs);

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
    saveUpload: async (owner, bytes, format) => {
      const ownerDir = ownerDirectory(owner);
      const dir = path.join(outputsReal, 'uploads', ownerDir);
      await mkdir(dir, { recursive: true, mode: 0o750 });
      const id = `up-${randomBytes(12).toString('base64url')}`;
      const file = path.join(dir, `${id}.${format === 'jpeg' ? 'jpg' : format}`);
      await writeFile(file, bytes, { flag: 'wx', mode: 0o640 });
      return { id, file: path.relative(outputsReal, file).split(path.sep).join('/') };
    },
    findUpload: async (owner, id) => {
      if (!UPLOAD_ID.test(id)) return null;
      const root = path.join(outputsReal, 'uploads');
      const dirs = owner !== null ? [ownerDirectory(owner)] : await readdir(root).catch(() => []);
      for (const dir of dirs) {
        for (const ext of ['png', 'jpg', 'webp']) {
          const file = path.join(root, dir, `${id}.${ext}`);
          if (await stat(file).then((s) => s.isFile(), () => false)) return path.relative(outputsReal, file).split(path.sep).join('/');
        }
      }
      return null;
    },
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
      await worker.close();
    },
  };
}

/** Upload ids as `saveUpload` makes them: only these ever become part of a path. */
const UPLOAD_ID = /^up-[A-Za-z0-9_-]{16}$/;

/** A directory name per owner that reveals nothing about the name and cannot climb out. */
function ownerDirectory(owner: string): string {
  return createHash('sha256').update(owner).digest('hex').slice(0, 24);
}

export async function removeOutputs(studio: Studio, files: readonly string[]): Promise<void> {
  for (const f of files) {
    const real = await studio.resolveOutput(f).catch(() => null);
    if (real !== null) await rm(real, { force: true });
  }
}
