/**
 * The StudioPort over the real app, a mapping only: an HTTP owner becomes the app's owner scope, a request body a
 * studio submission, the app's job reports and updates the API's summaries and events (each image gets its URL).
 * The studio checks a request before queueing it; its errors reach error-mapping.ts as they are.
 */
import { IdempotencyKeyReusedError } from '../app/jobs/job-errors.ts';
import { ANY_OWNER, type OwnerScope } from '../app/jobs/job-types.ts';
import { removeOutputs, type Studio } from '../app/studio/create-studio.ts';
import { findStudioImage } from '../app/studio/image-lookup.ts';
import { reportJob, toJobUpdate } from '../app/studio/job-report.ts';
import { createStudioCatalog } from '../app/studio/studio-catalog.ts';
import type { JobView } from '../app/jobs/job-types.ts';
import { refuseReusedKey } from './idempotency-key.ts';
import { NotFoundError } from './studio-errors.ts';
import { ALL_OWNERS, type GenerateRequestBody, type JobSummary, type StudioPort } from './studio-port.ts';

function scopeOf(owner: string): OwnerScope {
  return owner === ALL_OWNERS ? ANY_OWNER : owner;
}

function withUrl<T extends { imageId: string }>(image: T): T & { url: string } {
  return { ...image, url: `/api/v1/images/${image.imageId}` };
}

function toSummary(job: JobView): JobSummary {
  const report = reportJob(job);
  return { ...report, images: report.images.map(withUrl), request: report.request as GenerateRequestBody };
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

export function createAppStudioPort(studio: Studio): StudioPort {
  return {
    ...createStudioCatalog(studio),
    submitJob: async (owner, body, submitKey, limits) => refuseReusedKeys(() => studio.submitImages(owner, body, submitKey, limits)),
    getJob: async (owner, id) => toSummary(await studio.queue.get(id, scopeOf(owner))),
    listHistory: async (owner, page) => {
      const result = await studio.queue.list(scopeOf(owner), { ...(page.cursor === undefined ? {} : { cursor: page.cursor }), limit: page.limit });
      return { items: result.jobs.map(toSummary), nextCursor: result.nextCursor };
    },
    deleteHistoryEntry: async (owner, id) => removeOutputs(studio, (await studio.queue.delete(id, scopeOf(owner))).files),
    cancelJob: async (owner, id) => studio.queue.cancel(id, scopeOf(owner)),
    retryJob: async (owner, id) => studio.queue.retry(id, scopeOf(owner)),
    skipImage: async (owner, id) => studio.queue.skip(id, scopeOf(owner)),
    subscribe: (owner, id, listener) =>
      studio.queue.subscribe(id, scopeOf(owner), (e) => {
        const update = toJobUpdate(e);
        if (update !== null) listener(update.type === 'image' ? withUrl(update) : update);
      }),
    openImage: async (owner, imageId) => {
      const image = await findStudioImage(studio, scopeOf(owner), imageId);
      if (image === null) throw new NotFoundError('image');
      return image;
    },
    saveUpload: async (owner, image) => {
      const saved = await studio.uploads.save(owner, image.bytes, image.purpose ?? 'image');
      return { imageId: saved.id, width: saved.width, height: saved.height };
    },
    previewControlMap: async (_owner, image) => studio.previewControlMap(image.type, image.bytes),
    describeImage: async (_owner, image) => studio.describeImage(image.type, image.bytes),
    deleteUpload: async (owner, imageId) => {
      if (!(await studio.uploads.remove(owner === ALL_OWNERS ? null : owner, imageId))) throw new NotFoundError('image');
    },
    health: async () => true,
    ready: () => studio.checkDefaultModel(),
    close: () => studio.close(),
  };
}
