/**
 * The StudioPort over the real app: requests become queued studio jobs, queue records become the API's job views,
 * queue events become the API's event stream. The studio checks a request against what is installed before
 * queueing it; its errors (ImageRequestError naming the field, the queue's own) reach error-mapping.ts as they are.
 */
import { EXPANSION_STYLE_NAME, RANDOM_STYLE_NAME } from '../app/creative/style-names.ts';
import type { ImageRequest } from '../app/generation/image-request.ts';
import { isUploadId, parseOutputImageId } from '../app/outputs/image-ids.ts';
import { findMissingPresetModels, resolvePresetModels } from '../app/creative/preset-models.ts';
import { parseAspectRatio } from '../app/generation/aspect-ratios.ts';
import { IdempotencyKeyReusedError } from '../app/jobs/job-errors.ts';
import { ANY_OWNER, type JobEvent, type JobView, type OwnerScope } from '../app/jobs/job-types.ts';
import { removeOutputs, type Studio } from '../app/studio/create-studio.ts';
import { NotFoundError } from './studio-errors.ts';
import { refuseReusedKey } from './idempotency-key.ts';
import { ALL_OWNERS, type GenerateRequestBody, type JobSummary, type StudioEvent, type StudioPort } from './studio-port.ts';

function scopeOf(owner: string): OwnerScope {
  return owner === ALL_OWNERS ? ANY_OWNER : owner;
}

/** A reused Idempotency-Key is refused by the server's own rule (422 naming the header); the rest pass as they are. */
async function refuseReusedKeys<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof IdempotencyKeyReusedError) throw refuseReusedKey();
    throw err;
  }
}

/** The stored request as the API shows it: the upload's denoise, never its path (the schema drops the rest). */
function toRequestView({ input, ...request }: ImageRequest): GenerateRequestBody {
  return { ...request, ...(input ? { denoise: input.denoise } : {}) } as GenerateRequestBody;
}

function toSummary(job: JobView): JobSummary {
  return {
    id: job.id,
    owner: job.owner,
    status: job.status,
    position: job.position,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: job.finishedAt === null ? null : new Date(job.finishedAt).toISOString(),
    progress: job.progress,
    images: job.results.map((r) => ({ imageId: r.imageId, url: `/api/v1/images/${r.imageId}`, seed: r.seed })),
    error: job.error,
    request: toRequestView(job.request as ImageRequest),
  };
}

function toEvent(e: JobEvent): StudioEvent | null {
  switch (e.type) {
    case 'snapshot':
      return null;
    case 'queued':
      return { type: 'queued', position: e.position };
    case 'started':
      return { type: 'started' };
    case 'progress':
      return { type: 'progress', ...e.progress, etaSeconds: e.progress.etaSeconds ?? null, ...(e.preview && 'png' in e.preview ? { previewPng: e.preview.png } : {}) };
    case 'image-saved':
      return { type: 'image', imageId: e.result.imageId, url: `/api/v1/images/${e.result.imageId}`, seed: e.result.seed };
    case 'finished':
      return { type: 'finished' };
    case 'failed':
      return { type: 'failed', message: e.error };
    case 'interrupted':
      return { type: 'failed', message: e.error };
    case 'cancelled':
      return { type: 'cancelled' };
  }
}

const CONTENT_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp' };

export function createAppStudioPort(studio: Studio): StudioPort {

  return {
    submitJob: async (owner, body, submitKey) => refuseReusedKeys(() => studio.submitImages(owner, body, submitKey)),
    getJob: async (owner, id) => toSummary(await studio.queue.get(id, scopeOf(owner))),
    listHistory: async (owner, page) => {
      const result = await studio.queue.list(scopeOf(owner), { ...(page.cursor === undefined ? {} : { cursor: page.cursor }), limit: page.limit });
      return { items: result.jobs.map(toSummary), nextCursor: result.nextCursor };
    },
    deleteHistoryEntry: async (owner, id) => {
      const { files } = await studio.queue.delete(id, scopeOf(owner));
      await removeOutputs(studio, files);
    },
    cancelJob: async (owner, id) => studio.queue.cancel(id, scopeOf(owner)),
    retryJob: async (owner, id) => studio.queue.retry(id, scopeOf(owner)),
    skipImage: async (owner, id) => studio.queue.skip(id, scopeOf(owner)),
    subscribe: (owner, id, listener) =>
      studio.queue.subscribe(id, scopeOf(owner), (e) => {
        const event = toEvent(e);
        if (event !== null) listener(event);
      }),
    openImage: async (owner, imageId) => {
      let file: string | undefined;
      const jobId = parseOutputImageId(imageId);
      if (isUploadId(imageId)) file = (await studio.uploads.find(owner === ALL_OWNERS ? null : owner, imageId)) ?? undefined;
      else if (jobId !== null) file = (await studio.queue.get(jobId, scopeOf(owner)).catch(() => null))?.results.find((r) => r.imageId === imageId)?.file;
      if (file === undefined) throw new NotFoundError('image');
      const absolutePath = await studio.resolveOutput(file).catch(() => {
        throw new NotFoundError('image');
      });
      return { absolutePath, contentType: CONTENT_TYPES[file.slice(file.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream' };
    },
    saveUpload: async (owner, image) => {
      const saved = await studio.uploads.save(owner, image.bytes);
      return { imageId: saved.id, width: saved.width, height: saved.height };
    },
    deleteUpload: async (owner, imageId) => {
      if (!(await studio.uploads.remove(owner === ALL_OWNERS ? null : owner, imageId))) throw new NotFoundError('image');
    },
    listModels: async () => [
      ...(await studio.listModels()).map((m) => ({ name: m.name, kind: 'checkpoint' as const, ...(m.family ? { family: m.family } : {}), ...(m.demo ? { demo: true } : {}) })),
      ...(await studio.store.list()).filter((m) => m.kind === 'loras').map((m) => ({ name: m.name, kind: 'lora' as const })),
      ...(await studio.store.list()).filter((m) => m.kind === 'vae').map((m) => ({ name: m.name, kind: 'vae' as const })),
    ],
    listStyles: async () => [
      { name: EXPANSION_STYLE_NAME, prompt: '', negative: '' },
      { name: RANDOM_STYLE_NAME, prompt: '', negative: '' },
      ...[...studio.styles.values()].map((s) => ({ name: s.name, prompt: s.prompt, negative: s.negative })),
    ],
    listPresets: async () => {
      const installed = new Set((await studio.store.list()).map((m) => `${m.kind}/${m.name}`));
      return [...studio.presets].map(([name, p]) => ({
        name,
        label: p.label,
        ...resolvePresetModels(p, studio.catalogFiles),
        refinerSwitch: p.refinerSwitch,
        cfg: p.cfg,
        sharpness: p.sharpness,
        sampler: p.sampler,
        scheduler: p.scheduler,
        styles: [...p.styles],
        performance: p.performance,
        aspectRatio: p.aspectRatio,
        imageCount: p.imageCount,
        missing: findMissingPresetModels(p, studio.catalogFiles, installed).map((m) => ({
          kind: m.kind === 'loras' ? ('lora' as const) : ('checkpoint' as const),
          name: m.fileName,
          catalogId: m.catalogId,
        })),
      }));
    },
    listAspectRatios: async () => ({
      sdxl: studio.aspectRatios.sdxl.map((id) => ({ id, ...parseAspectRatio(id) })),
      sd15: studio.aspectRatios.sd15.map((id) => ({ id, ...parseAspectRatio(id) })),
    }),
    health: async () => true,
    ready: () => studio.checkDefaultModel(),
    close: () => studio.close(),
  };
}
