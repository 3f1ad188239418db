/**
 * Runs one queued job: for each image, the creative layer composes the engine request (styles, expansion,
 * wildcards with the image's seed, performance mode), and the inference worker makes and saves the image.
 * Skip stops the current image and goes on with the next; cancel stops the job.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { encodePng, type GenerationProgress, type RgbImage } from '../../engine/index.ts';
import { composedGenerationFields, composeRequest, type CreativeContext } from '../creative/compose-request.ts';
import type { JobExecutor } from '../jobs/job-queue.ts';
import type { JobResult } from '../jobs/job-types.ts';
import type { InferenceWorker } from '../worker/inference-worker.ts';
import { findLoraName } from '../generation/lora-selection.ts';
import { createEtaEstimator } from './eta.ts';
import type { ModelListing } from '../models/model-store.ts';
import type { StudioJobRequest } from './studio-request.ts';

export interface StudioExecutorOptions {
  worker: InferenceWorker;
  creative: CreativeContext;
  outputsDir: string;
  /** The model store's listing, read once per job: which LoRAs a performance mode can use. */
  listModels: () => Promise<ModelListing[]>;
  /** The checkpoint to use when neither the request nor the preset names one. */
  defaultModel: () => Promise<string>;
  /** The pixels of an image-to-image input (a path relative to outputs), read through the upload store's checks. */
  readInput: (file: string) => Promise<RgbImage>;
}

/** A small PNG of the sampler's preview, for the event stream. */
export function encodePreview(preview: NonNullable<GenerationProgress['preview']>): string {
  const { width, height, rgba } = preview;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) rgb.set(rgba.subarray(i * 4, i * 4 + 3), i * 3);
  return Buffer.from(encodePng(rgb, width, height)).toString('base64');
}

/** Image ids name the job they belong to, so the owner check is the job's. */
export function imageIdFor(jobId: string): string {
  return `${jobId}-${randomBytes(6).toString('base64url')}`;
}

export function createStudioExecutor(options: StudioExecutorOptions): JobExecutor {
  return async (job, execution) => {
    const request = job.request as StudioJobRequest;
    const results: JobResult[] = [];
    const eta = createEtaEstimator();
    const listing = await options.listModels();
    const creative: CreativeContext = { ...options.creative, loraAvailable: (file) => findLoraName(listing, file) !== null };
    const input = request.input === undefined ? undefined : await options.readInput(request.input.file);
    for (let index = 0; index < request.imageCount; index++) {
      execution.signal.throwIfAborted();
      const composed = composeRequest(
        {
          prompt: request.prompt,
          negative: request.negative,
          styles: request.styles,
          performance: request.performance,
          seed: BigInt(request.seed),
          imageIndex: index,
          ...(request.steps === undefined ? {} : { steps: request.steps }),
          choices: {
            ...(request.model ? { model: request.model } : {}),
            ...(request.refiner ? { refiner: request.refiner } : {}),
            ...(request.refinerSwitch === undefined ? {} : { refinerSwitch: request.refinerSwitch }),
            ...(request.loras === undefined ? {} : { loras: request.loras.map((l) => ({ ...l })) }),
            ...(request.cfg === undefined ? {} : { cfg: request.cfg }),
            ...(request.sharpness === undefined ? {} : { sharpness: request.sharpness }),
            ...(request.sampler ? { sampler: request.sampler } : {}),
            ...(request.scheduler ? { scheduler: request.scheduler } : {}),
          },
        },
        creative,
      );
      const s = composed.settings;
      const skip = execution.skipSignal();
      try {
        const [saved] = await options.worker.generate(
          {
            model: s.model ?? (await options.defaultModel()),
            ...(s.refiner ? { refiner: s.refiner } : {}),
            ...(s.loras.length > 0 ? { loras: s.loras.map((l) => ({ name: l.name, weight: l.weight })) } : {}),
            ...composedGenerationFields(composed),
            performance: request.performance,
            width: request.width,
            height: request.height,
            clipSkip: 2,
            format: request.format,
            scheme: 'fooocus',
            ...(input && request.input ? { input: { image: input, denoise: request.input.denoise } } : {}),
          },
          {
            signal: skip,
            onProgress: (p) => {
              if (p.phase !== 'sample') return;
              const position = { step: p.step, steps: p.steps, image: index + 1, images: request.imageCount };
              const left = eta.update(position, performance.now());
              const progress = { ...position, etaSeconds: left === null ? null : Math.round(left * 10) / 10 };
              execution.onProgress(progress, p.preview ? { png: encodePreview(p.preview) } : undefined);
            },
          },
        );
        const result: JobResult = { imageId: imageIdFor(job.id), file: path.relative(options.outputsDir, saved!.path).split(path.sep).join('/'), seed: String(saved!.seed) };
        results.push(result);
        execution.onImage(result);
      } catch (err) {
        // A skip aborts only this image; a cancel (or anything else) ends the job.
        if (skip.aborted && !execution.signal.aborted) continue;
        throw err;
      }
    }
    return results;
  };
}
