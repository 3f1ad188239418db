/**
 * Runs one queued job: image after image, the inference process makes and saves the image from the request as
 * the queue stored it (the generation use case composes it there); an uploaded input image and inpaint mask are
 * decoded here, through the upload store's checks, and sent with it. Progress is the sampler's steps and the
 * message of every other step (describing, loading, upscaling, Enhance tabs). Skip stops the current image and
 * goes on with the next; cancel stops the job.
 */
import path from 'node:path';
import { encodePng, type GenerationProgress, type RgbImage } from '../../engine/index.ts';
import type { GreyImage } from '../../engine/output/mask-image.ts';
import type { ProvidedImage } from '../generation/image-prompt-files.ts';
import { formatStageProgress, type ServiceProgress } from '../generation/service-progress.ts';
import type { ImageRequest } from '../generation/image-request.ts';
import { createOutputImageId } from '../outputs/image-ids.ts';
import type { JobExecution, JobExecutor } from '../jobs/job-queue.ts';
import type { JobResult } from '../jobs/job-types.ts';
import { WorkerCrashedError, WorkerJobError, type InferenceWorker } from '../worker/inference-worker.ts';
import { createEtaEstimator } from './eta.ts';

export interface StudioExecutorOptions {
  worker: InferenceWorker;
  outputsDir: string;
  /** The checkpoint for a request stored without one (history from before submit resolved the model). */
  defaultModel: () => Promise<string>;
  /** The pixels of an image-to-image input (a path relative to outputs), read through the upload store's checks. */
  readInput: (file: string) => Promise<RgbImage>;
  /** The grey pixels of an inpaint mask (a path relative to outputs), read through the upload store's checks. */
  readMask?: (file: string) => Promise<GreyImage>;
  /** The request's image prompt images when they came with the job (a Redis worker); without it the inference process reads their files. */
  readImagePrompts?: (request: ImageRequest) => ProvidedImage[];
  /** Removes files a killed inference process left in outputs that no job records (while this job still runs). */
  sweepOutputs?: () => Promise<void>;
}

/** A small PNG of the sampler's preview, for the event stream. */
export function encodePreview(preview: NonNullable<GenerationProgress['preview']>): string {
  const { width, height, rgba } = preview;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(rgba.subarray(i * 4, i * 4 + 3), i * 3);
  return Buffer.from(encodePng(rgb, width, height)).toString('base64');
}

/** A progress message is one status line: a longer one (a long model name) is cut, as the page and Redis limit it. */
const MAX_PROGRESS_MESSAGE = 200;

/**
 * Turns image `index`'s progress into job progress: each sampler step (with the stage it samples for, such as an
 * Enhance tab's repaint), and every other step's message with how far it has come, on the position of the last
 * sampler step. A message that reads as the previous one is not sent again (hashing reports every chunk).
 */
function createStageReport(index: number, images: number, eta: ReturnType<typeof createEtaEstimator>, report: JobExecution['onProgress']): (p: ServiceProgress) => void {
  let position = { step: 0, steps: 0, image: index + 1, images };
  let etaSeconds: number | null = null;
  let last: string | undefined;
  return (p) => {
    if (p.phase !== 'sample') {
      const message = formatStageProgress(p).slice(0, MAX_PROGRESS_MESSAGE);
      if (message === last) return;
      last = message;
      report({ ...position, etaSeconds, message });
      return;
    }
    last = undefined;
    position = { step: p.step, steps: p.steps, image: index + 1, images };
    const left = eta.update(position, performance.now());
    etaSeconds = left === null ? null : Math.round(left * 10) / 10;
    const message = p.message?.slice(0, MAX_PROGRESS_MESSAGE);
    report({ ...position, etaSeconds, ...(message === undefined ? {} : { message }) }, p.preview ? { png: encodePreview(p.preview) } : undefined);
  };
}

export function createStudioExecutor(options: StudioExecutorOptions): JobExecutor {
  return async (job, execution) => {
    const stored = job.request as ImageRequest;
    const request = stored.model === undefined ? { ...stored, model: await options.defaultModel() } : stored;
    const results: JobResult[] = [];
    const eta = createEtaEstimator();
    const input = request.input === undefined ? undefined : await options.readInput(request.input.file);
    const maskFile = request.inpaint?.mask;
    const mask = maskFile === undefined || options.readMask === undefined ? undefined : await options.readMask(maskFile);
    const imagePromptImages = options.readImagePrompts?.(request) ?? [];
    for (let index = 0; index < request.imageCount; index++) {
      execution.signal.throwIfAborted();
      const skip = execution.skipSignal();
      const stage = createStageReport(index, request.imageCount, eta, execution.onProgress);
      try {
        const [saved] = await options.worker.generate(request, index, {
          signal: skip,
          jobTag: job.id,
          ...(input ? { input } : {}),
          ...(mask ? { mask } : {}),
          ...(imagePromptImages.length > 0 ? { imagePromptImages } : {}),
          onProgress: stage,
        });
        const result: JobResult = { imageId: createOutputImageId(job.id), file: path.relative(options.outputsDir, saved!.path).split(path.sep).join('/'), seed: String(saved!.seed), sha256: saved!.sha256 };
        results.push(result);
        execution.onImage(result);
      } catch (err) {
        // A process that was killed (crash, or a cancel it could not answer) may have left a file it never reported.
        if (err instanceof WorkerCrashedError || (err instanceof WorkerJobError && err.cancelled)) await options.sweepOutputs?.();
        // A skip aborts only this image; a cancel (or anything else) ends the job.
        if (skip.aborted && !execution.signal.aborted) continue;
        throw err;
      }
    }
    return results;
  };
}
