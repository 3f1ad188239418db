/**
 * A studio job as a client sees it: times as ISO 8601, saved images by id and seed (never their files), the request
 * as submitted (an upload's denoise and a mask's upload id, never their paths); and the job's events reduced to what a client follows.
 */
import type { ImagePromptChoice, ImageRequest, InpaintChoice } from '../generation/image-request.ts';
import type { JobEvent, JobView } from '../jobs/job-types.ts';
import type { StudioImagePrompt, StudioImageRequest } from './create-studio.ts';

export type JobReport = Pick<JobView, 'id' | 'owner' | 'status' | 'position' | 'waitingFor' | 'progress' | 'error'> & {
  createdAt: string;
  finishedAt: string | null;
  images: { imageId: string; seed: string }[];
  request: StudioImageRequest;
};

/** Events of one job, in order; `finished`, `failed` (also for an interrupted job) and `cancelled` come last. */
export type JobUpdate =
  | { type: 'queued'; position: number; waitingFor: string | null }
  | { type: 'started' }
  | { type: 'progress'; step: number; steps: number; image: number; images: number; etaSeconds: number | null; previewPng?: string; message?: string }
  | { type: 'image'; imageId: string; seed: string }
  | { type: 'finished' }
  | { type: 'failed'; message: string }
  | { type: 'cancelled' };

/** An upload as the client named it: its id (the file's name), never its place under outputs. */
function toUploadId(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1).replace(/\.png$/, '');
}

function reportInpaint(inpaint: InpaintChoice): InpaintChoice {
  if (inpaint.mask === undefined) return inpaint;
  return { ...inpaint, mask: toUploadId(inpaint.mask) };
}

function reportImagePrompts(prompts: ImagePromptChoice[]): StudioImagePrompt[] {
  return prompts.map(({ file, ...prompt }) => ({ imageId: toUploadId(file), ...prompt }));
}

export function reportJob(job: JobView): JobReport {
  const { input, inpaint, imagePrompts, ...request } = job.request as ImageRequest;
  return {
    id: job.id,
    owner: job.owner,
    status: job.status,
    position: job.position,
    waitingFor: job.waitingFor,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    progress: job.progress,
    images: job.results.map((r) => ({ imageId: r.imageId, seed: r.seed })),
    error: job.error,
    request: {
      ...request,
      ...(input ? { denoise: input.denoise } : {}),
      ...(inpaint ? { inpaint: reportInpaint(inpaint) } : {}),
      ...(imagePrompts ? { imagePrompts: reportImagePrompts(imagePrompts) } : {}),
    },
  };
}

/** The update a client receives for a queue event; null for the snapshot (a client reads the job itself). */
export function toJobUpdate(e: JobEvent): JobUpdate | null {
  switch (e.type) {
    case 'snapshot':
      return null;
    case 'queued':
      return { type: 'queued', position: e.position, waitingFor: e.waitingFor };
    case 'started':
      return { type: 'started' };
    case 'progress':
      return { type: 'progress', ...e.progress, etaSeconds: e.progress.etaSeconds ?? null, ...(e.preview && 'png' in e.preview ? { previewPng: e.preview.png } : {}) };
    case 'image-saved':
      return { type: 'image', imageId: e.result.imageId, seed: e.result.seed };
    case 'finished':
      return { type: 'finished' };
    case 'failed':
    case 'interrupted':
      return { type: 'failed', message: e.error };
    case 'cancelled':
      return { type: 'cancelled' };
  }
}
