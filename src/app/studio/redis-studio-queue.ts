/**
 * The studio's job queue on Redis (queue.backend "redis"): the history and the line stay in the studio's SQLite
 * file, jobs run on `fooocus worker` machines (and on the studio's own inference process when queue.localWorker),
 * and the images they make come back through Redis, checked, into the studio's outputs (outputs/received-image.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { AppConfig } from '../config/config-schema.ts';
import type { ImageRequest } from '../generation/image-request.ts';
import type { JobStore } from '../jobs/job-store.ts';
import type { JobRecord } from '../jobs/job-types.ts';
import { readRedisPasswordFile, type RedisSettings } from '../jobs/redis-connection.ts';
import { RedisJobQueue } from '../jobs/redis-job-queue.ts';
import { RedisJobWorker } from '../jobs/redis-job-worker.ts';
import { encodeAttachment, type Attachment } from '../jobs/remote-job-protocol.ts';
import type { ModelStore } from '../models/model-store.ts';
import { checkLocalImage, writeReceivedImage } from '../outputs/received-image.ts';
import type { RgbImage } from '../../engine/index.ts';
import type { InferenceWorker } from '../worker/inference-worker.ts';
import { pinRequestModels, verifyModelPins } from './model-pins.ts';
import { createRemoteJobExecutor } from './remote-job-executor.ts';

/** Redis settings from the configuration, the password read from queue.redisPasswordFile when set. */
export async function readRedisSettings(config: AppConfig): Promise<RedisSettings> {
  const { redisUrl, redisPrefix, redisPasswordFile } = config.queue;
  if (redisUrl === null) throw new Error('queue.redisUrl is not set');
  const password = redisPasswordFile === null ? undefined : await readRedisPasswordFile(redisPasswordFile);
  return { url: redisUrl, prefix: redisPrefix, ...(password === undefined ? {} : { password }) };
}

/** A worker id from the host name: what `fooocus worker` uses unless given --name. */
export function defaultWorkerId(suffix: string): string {
  const host = os.hostname().replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 40) || 'worker';
  return `${host}-${suffix}`;
}

export interface RedisStudioQueueOptions {
  config: AppConfig;
  jobStore: JobStore;
  models: ModelStore;
  /** The studio's outputs, real path. */
  outputsDir: string;
  defaultModel: () => Promise<string>;
  readPixels: (file: string) => Promise<RgbImage>;
  /** The upload files a request reads (its input image, its mask): sent with the job, decoded. */
  imagesOf: (request: unknown) => string[];
  /** The studio's inference process, for queue.localWorker. */
  inference: InferenceWorker;
  describeFailure: (error: unknown, job: JobRecord) => string;
  log: (line: string) => void;
}

export async function openRedisStudioQueue(options: RedisStudioQueueOptions): Promise<RedisJobQueue> {
  const { config, models, outputsDir, log } = options;
  const redis = await readRedisSettings(config);
  const maxResultBytes = config.queue.maxResultBytes;
  let local: RedisJobWorker | undefined;
  if (config.queue.localWorker) {
    local = new RedisJobWorker({
      redis,
      id: defaultWorkerId('studio'),
      concurrency: 1,
      provider: config.runtime.executionProvider,
      executor: createRemoteJobExecutor({ pool: [options.inference], outputsDir }),
      listModels: async () => (await models.list()).map((m) => m.sha256),
      prepare: (remote) => verifyModelPins(models, remote.models),
      maxResultBytes,
      maxAttachmentPixels: config.server.quotas.maxPixels,
      log,
    });
    await local.start();
  }
  // Each image goes with the SHA-256 of its file, which an image prompt's metadata records.
  const attach = async (request: unknown): Promise<Attachment[]> =>
    Promise.all([...new Set(options.imagesOf(request))].map(async (file) => encodeAttachment(file, await options.readPixels(file), createHash('sha256').update(await readFile(path.resolve(outputsDir, file))).digest('hex'))));
  try {
    return await RedisJobQueue.open({
      store: options.jobStore,
      redis,
      maxQueuedPerOwner: config.server.maxQueuedJobs,
      providers: config.queue.providers,
      describeFailure: options.describeFailure,
      log,
      pinModels: (request) => pinRequestModels(models, request as ImageRequest, options.defaultModel),
      attach,
      receiveImage: async (result, bytes, fromLocalWorker) => {
        if (bytes !== undefined) await writeReceivedImage(outputsDir, result, bytes);
        else if (fromLocalWorker) await checkLocalImage(outputsDir, result, maxResultBytes);
        else throw new Error(`worker sent image ${result.file} without its bytes`);
      },
      maxResultBytes,
      ...(local === undefined ? {} : { localWorkerId: local.id, closeLocalWorker: () => (local as RedisJobWorker).close() }),
    });
  } catch (error) {
    await local?.close();
    throw error;
  }
}
