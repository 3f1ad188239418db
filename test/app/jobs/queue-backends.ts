/**
 * The job queue under test, on either backend: the local SQLite queue, or the Redis queue with a worker in this
 * process that runs the same test executor. The queue suite runs once per backend through `openQueue`.
 */
import { LocalJobQueue, type JobExecutor, type JobQueue } from '../../../src/app/jobs/job-queue.ts';
import { openJobStore } from '../../../src/app/jobs/job-store.ts';
import type { JobRecord } from '../../../src/app/jobs/job-types.ts';
import { RedisJobQueue } from '../../../src/app/jobs/redis-job-queue.ts';
import { RedisJobWorker } from '../../../src/app/jobs/redis-job-worker.ts';
import type { TestRedis } from './redis-server.ts';

export interface QueueOptions {
  maxQueuedPerOwner?: number;
  describeFailure?: (error: unknown, job: JobRecord) => string;
  reportError?: (error: unknown) => void;
}

export interface QueueBackend {
  name: 'local' | 'redis';
  /** A queue over the job database `file` (the same file again: the same queue after a restart). */
  openQueue(executor: JobExecutor, file: string, options?: QueueOptions): Promise<JobQueue>;
  /** Closes whatever a failed test left open, so the run ends. */
  closeAll(): Promise<void>;
}

export const localBackend: QueueBackend = {
  name: 'local',
  openQueue: async (executor, file, options = {}) => new LocalJobQueue({ store: openJobStore(file), executor, ...options }),
  closeAll: async () => undefined,
};

/** Each job database gets its own key prefix, kept across reopenings of that file. */
export function createRedisBackend(redis: () => TestRedis): QueueBackend {
  const prefixes = new Map<string, string>();
  const opened: JobQueue[] = [];
  return {
    name: 'redis',
    openQueue: async (executor, file, options = {}) => {
      const prefix = prefixes.get(file) ?? `t${prefixes.size}`;
      prefixes.set(file, prefix);
      const settings = { url: redis().url, prefix };
      const worker = new RedisJobWorker({
        redis: settings,
        id: `local-${prefix}`,
        concurrency: 1,
        provider: 'cpu',
        executor,
        listModels: async () => [],
        maxResultBytes: 1024 * 1024,
        maxAttachmentPixels: 1024 * 1024,
        announceEveryMs: 200,
      });
      await worker.start();
      const queue = await RedisJobQueue.open({
        store: openJobStore(file, { keepRunning: true }),
        redis: settings,
        maxResultBytes: 1024 * 1024,
        localWorkerId: worker.id,
        closeLocalWorker: () => worker.close(),
        checkEveryMs: 100,
        ...options,
      });
      opened.push(queue);
      return queue;
    },
    closeAll: async () => {
      await Promise.all(opened.map((queue) => queue.close()));
    },
  };
}
