/**
 * Which uploads jobs still need: those named by queued jobs (read from the job store) and by the job running now
 * (tracked by wrapping the executor, which the queue calls in the same tick it marks the job running). Both are
 * synchronous, so the upload store can check and delete without a job slipping in between.
 */
import type { JobExecutor } from '../jobs/job-queue.ts';

export class UploadUsage {
  readonly #running = new Map<string, number>();

  constructor(
    /** The queued jobs' requests, read synchronously. */
    private readonly listQueuedRequests: () => readonly unknown[],
    /** The upload files a job's request names (its input image, its mask). */
    private readonly filesOf: (request: unknown) => readonly string[],
  ) {}

  /** The executor, counting the running job's uploads as in use until it settles. */
  track(executor: JobExecutor): JobExecutor {
    return (job, execution) => {
      const files = this.filesOf(job.request);
      if (files.length === 0) return executor(job, execution);
      for (const file of files) this.#running.set(file, (this.#running.get(file) ?? 0) + 1);
      const release = (): void => {
        for (const file of files) {
          const left = (this.#running.get(file) ?? 1) - 1;
          if (left === 0) this.#running.delete(file);
          else this.#running.set(file, left);
        }
      };
      try {
        return executor(job, execution).finally(release);
      } catch (error) {
        release();
        throw error;
      }
    };
  }

  filesInUse(): ReadonlySet<string> {
    const files = new Set(this.#running.keys());
    for (const request of this.listQueuedRequests()) for (const file of this.filesOf(request)) files.add(file);
    return files;
  }
}
