/**
 * The composition root of a worker machine (`fooocus worker`): its own verified model store (with the demo model
 * when empty, as the studio), one restricted inference process per concurrent job, and the Redis worker that takes
 * the jobs the studio hands it. Images are written to this machine's outputs folder, read back, sent to the studio
 * and removed here: the studio keeps the only copy.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureAppDirectories } from '../config/app-directories.ts';
import type { AppConfig } from '../config/config-schema.ts';
import { readShippedCatalog } from '../creative/creative-data.ts';
import { ensureDemoModel } from '../demo/demo-model.ts';
import { downloadFile, type DownloadPolicy } from '../downloads/downloader.ts';
import { RedisJobWorker } from '../jobs/redis-job-worker.ts';
import { readVerifiedCatalog, type Catalog, type CatalogEntry } from '../models/catalog.ts';
import type { CatalogKey } from '../models/catalog-signature.ts';
import { openModelStore } from '../models/model-store.ts';
import { pullModel } from '../models/pull-model.ts';
import { readContainedFile } from '../outputs/contained-file.ts';
import { InferenceWorker } from '../worker/inference-worker.ts';
import { verifyModelPins } from './model-pins.ts';
import { defaultWorkerId, readRedisSettings } from './redis-studio-queue.ts';
import { createRemoteJobExecutor } from './remote-job-executor.ts';

export interface WorkerNodeOptions {
  software: string;
  log: (line: string) => void;
  /** Worker id (default: host name and process id). */
  id?: string;
  /** Apply Node's permission model to the inference processes (default true). */
  restrict?: boolean;
  /** The signed catalog `"workerModels": "pull"` fetches from (default: the shipped one, with the built-in keys). */
  catalog?: { file: string; keys?: readonly CatalogKey[] };
  /** Extra download trust for a catalog served from a private address with its own CA (tests). */
  downloadTrust?: Pick<DownloadPolicy, 'ca' | 'allowPrivateAddresses'>;
}

export interface WorkerNode {
  worker: RedisJobWorker;
  /** Interrupts running jobs (reported to the studio as interrupted), then stops the inference processes. */
  close(): Promise<void>;
}

export async function startWorkerNode(config: AppConfig, options: WorkerNodeOptions): Promise<WorkerNode> {
  const { log } = options;
  for (const line of await ensureAppDirectories(config.paths, ['models', 'outputs', 'cache'])) log(line);
  const store = await openModelStore(config.paths.models);
  const demo = await ensureDemoModel(store);
  if (demo !== null) log(`the model store was empty: added the built-in demo model ${demo}`);
  const outputsDir = path.resolve(config.paths.outputs);
  const pool = Array.from({ length: config.queue.workerConcurrency }, () => new InferenceWorker({
    modelsDir: config.paths.models,
    outputsDir,
    cacheDir: config.paths.cache,
    threads: config.runtime.threads,
    executionProvider: config.runtime.executionProvider,
    precision: config.runtime.precision,
    memory: config.runtime.memory,
    software: options.software,
    ...(options.restrict === undefined ? {} : { restrict: options.restrict }),
  }));
  const pulls = config.queue.workerModels === 'pull';
  const catalog: readonly CatalogEntry[] = pulls ? ((await readWorkerCatalog(options, log))?.entries ?? []) : [];
  const policy = { allowedHosts: config.downloads.allowedHosts, pins: config.downloads.pins, maxRedirects: config.downloads.maxRedirects, ...options.downloadTrust };
  const pull = pulls
    ? {
        entries: catalog,
        fetch: async (entry: CatalogEntry): Promise<void> => {
          log(`pulling ${entry.kind}/${entry.fileName} (${entry.sha256}) for a job`);
          await pullModel(store, entry, { download: (request) => downloadFile({ ...request, policy }) });
        },
      }
    : undefined;
  const provider = config.runtime.executionProvider;
  const runJob = createRemoteJobExecutor({ pool, outputsDir });
  const worker = new RedisJobWorker({
    redis: await readRedisSettings(config),
    id: options.id ?? defaultWorkerId(String(process.pid)),
    concurrency: config.queue.workerConcurrency,
    provider,
    executor: (job, execution, remote) => {
      log(`job ${job.id}: running on ${provider}`);
      return runJob(job, execution, remote);
    },
    listModels: async () => [...(await store.list()).map((m) => m.sha256), ...catalog.map((e) => e.sha256)],
    prepare: (remote) => verifyModelPins(store, remote.models, pull),
    takeImage: async (result) => {
      const bytes = await readContainedFile(outputsDir, result.file, config.queue.maxResultBytes);
      await rm(path.join(outputsDir, ...result.file.split('/')), { force: true });
      return bytes;
    },
    maxResultBytes: config.queue.maxResultBytes,
    maxAttachmentPixels: config.server.quotas.maxPixels,
    log,
  });
  await worker.start();
  return {
    worker,
    close: async () => {
      await worker.close();
      await Promise.all(pool.map((p) => p.close()));
    },
  };
}

async function readWorkerCatalog(options: WorkerNodeOptions, log: (line: string) => void): Promise<Catalog | null> {
  const onError = (err: Error): void => log(`catalog: ${err.message}; nothing can be pulled`);
  if (options.catalog === undefined) return readShippedCatalog(onError);
  try {
    return (await readVerifiedCatalog(options.catalog.file, options.catalog.keys)).catalog;
  } catch (err) {
    onError(err as Error);
    return null;
  }
}
