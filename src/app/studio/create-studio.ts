/**
 * The app's composition root for the studio (what `fooocus serve` runs): the verified model store (with the demo
 * model when it is empty), the creative layer's data, the inference worker, and the persistent job queue.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, realpath, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ImageFormat } from '../../engine/index.ts';
import type { AppConfig } from '../config/config-schema.ts';
import { getPerformanceMode, PERFORMANCE_MODE_NAMES } from '../creative/performance-modes.ts';
import { loadCreativeData, readShippedCatalog } from '../creative/creative-data.ts';
import type { CatalogFileNames } from '../creative/preset-models.ts';
import type { Preset } from '../creative/presets.ts';
import type { StyleLibrary, StyleProblem } from '../creative/style-library.ts';
import { DEMO_MODEL_NAME, ensureDemoModel } from '../demo/demo-model.ts';
import { GENERATION_DEFAULTS } from '../generation/generation-defaults.ts';
import { SD15_ASPECT_RATIOS, SDXL_ASPECT_RATIOS } from '../generation/aspect-ratios.ts';
import { prepareImageRequest, readInputImage, type ImageRequestDraft } from '../generation/generate-images.ts';
import { ImageRequestError } from '../generation/image-request.ts';
import { LocalJobQueue, type JobQueue } from '../jobs/job-queue.ts';
import { openJobStore } from '../jobs/job-store.ts';
import { openModelStore, type ModelListing, type ModelStore } from '../models/model-store.ts';
import { InferenceWorker } from '../worker/inference-worker.ts';
import { createStudioExecutor } from './studio-executor.ts';

const appRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** A generate request as a client sends it: an uploaded image by id instead of a file. */
export type StudioImageRequest = Omit<ImageRequestDraft, 'input'> & { inputImageId?: string; denoise?: number };

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
  /**
   * Checks a request against what is installed (ImageRequestError naming the field), resolves its defaults and
   * queues it for `owner`.
   */
  submitImages(owner: string, request: StudioImageRequest): Promise<{ id: string; position: number }>;
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

  const catalog = await readShippedCatalog((err) => log(`catalog: ${err.message}; preset model names are taken as file names`));
  // The same loader as `fooocus generate`, so the studio and the CLI compose identical requests.
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
    software: options.software,
  });
  const defaultModel = async (): Promise<string> => {
    if (config.generation.defaultModel !== null) return config.generation.defaultModel;
    const first = (await store.list()).find((m) => m.kind === 'checkpoints' && m.name !== DEMO_MODEL_NAME) ?? (await store.list()).find((m) => m.kind === 'checkpoints');
    if (first === undefined) throw new Error('no checkpoint in the model store');
    return first.name;
  };
  const queue = new LocalJobQueue({
    store: openJobStore(path.join(config.paths.cache, 'jobs.sqlite')),
    executor: createStudioExecutor({ worker, outputsDir: config.paths.outputs, defaultModel }),
    maxQueuedPerOwner: config.server.maxQueuedJobs,
    describeFailure: (error) => {
      log(`job failed: ${error instanceof Error ? error.message : String(error)}`);
      return error instanceof Error && /not supported|not in the trust manifest|changed|must be|LoRA|no checkpoint/.test(error.message) ? error.message : 'Generation failed. The server log has the details.';
    },
  });
  const outputsReal = await realpath(config.paths.outputs);
  const findUpload = async (owner: string | null, id: string): Promise<string | null> => {
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
  };

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
    findUpload,
    submitImages: async (owner, { inputImageId, denoise, ...choices }) => {
      let input: ImageRequestDraft['input'];
      if (inputImageId !== undefined) {
        const file = await findUpload(owner, inputImageId);
        if (file === null) throw new ImageRequestError('inputImageId', 'uploaded', 'no such uploaded image');
        input = { file, denoise: denoise ?? GENERATION_DEFAULTS.denoise };
      }
      const request = await prepareImageRequest({ ...choices, ...(input ? { input } : {}) }, { data, listing: await store.list() }, { defaultModel, readInput: (file) => readInputImage(outputsReal, file) });
      return queue.submit(owner, request);
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
