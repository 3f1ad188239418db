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
    /** The upload file a job's request names, if any. */
    private readonly inputFileOf: (request: unknown) => string | undefined,
  ) {}

  /** The executor, counting the running job's upload as in use until it settles. */
  track(executor: JobExecutor): JobExecutor {
    return (job, execution) => {
      const file = this.inputFileOf(job.request);
      if (file === undefined) return executor(job, execution);
      this.#running.set(file, (this.#running.get(file) ?? 0) + 1);
      const release = (): void => {
        const left = (this.#running.get(file) ?? 1) - 1;
        if (left === 0) this.#running.delete(file);
        else this.#running.set(file, left);
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
    for (const request of this.listQueuedRequests()) {
      const file = this.inputFileOf(request);
      if (file !== undefined) files.add(file);
    }
    return files;
  }
}
