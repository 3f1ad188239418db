/**
 * The StudioPort over the real app: requests become queued studio jobs, queue records become the API's job views,
 * queue events become the API's event stream. Validation of names (models, styles, samplers) happens here, so a
 * bad request is a 400 naming the field before anything is queued.
 */
import { EXPANSION_STYLE_NAME, RANDOM_STYLE_NAME } from '../app/creative/style-names.ts';
import { findLoraName } from '../app/generation/lora-selection.ts';
import { getSampler, isSchedulerName, randomSeed } from '../engine/index.ts';
import { findMissingPresetModels, resolvePresetModels } from '../app/creative/preset-models.ts';
import { parseAspectRatio } from '../app/generation/aspect-ratios.ts';
import { ANY_OWNER, type JobEvent, type JobView, type OwnerScope } from '../app/jobs/job-types.ts';
import { removeOutputs, type Studio } from '../app/studio/create-studio.ts';
import type { StudioJobRequest } from '../app/studio/studio-request.ts';
import { InvalidRequestError, NotFoundError } from './studio-errors.ts';
import { ALL_OWNERS, type GenerateRequestBody, type JobSummary, type StudioEvent, type StudioPort } from './studio-port.ts';

function scopeOf(owner: string): OwnerScope {
  return owner === ALL_OWNERS ? ANY_OWNER : owner;
}

function toBody(r: StudioJobRequest): GenerateRequestBody {
  return {
    prompt: r.prompt,
    negative: r.negative,
    styles: r.styles,
    performance: r.performance as GenerateRequestBody['performance'],
    width: r.width,
    height: r.height,
    imageCount: r.imageCount,
    seed: r.seed,
    ...(r.model ? { model: r.model } : {}),
    ...(r.refiner ? { refiner: r.refiner } : {}),
    ...(r.refinerSwitch === undefined ? {} : { refinerSwitch: r.refinerSwitch }),
    ...(r.loras === undefined ? {} : { loras: r.loras.map((l) => ({ ...l })) }),
    ...(r.steps === undefined ? {} : { steps: r.steps }),
    ...(r.cfg === undefined ? {} : { cfg: r.cfg }),
    ...(r.sharpness === undefined ? {} : { sharpness: r.sharpness }),
    ...(r.sampler ? { sampler: r.sampler } : {}),
    ...(r.scheduler ? { scheduler: r.scheduler } : {}),
    ...(r.input ? { denoise: r.input.denoise } : {}),
    format: r.format,
  };
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
    request: toBody(job.request as StudioJobRequest),
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
      return { type: 'image', imageId: e.result.imageId, url: `/api/v1/images/${e.result.imageId}` };
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

  async function buildRequest(owner: string, body: GenerateRequestBody): Promise<StudioJobRequest> {
    const models = await studio.listModels();
    const model = body.model === undefined ? undefined : models.find((m) => m.name === body.model);
    if (body.model !== undefined && model === undefined) throw new InvalidRequestError('model', 'installed', `model "${body.model}" is not in the model store`);
    if (body.refiner !== undefined && !models.some((m) => m.name === body.refiner)) throw new InvalidRequestError('refiner', 'installed', `refiner "${body.refiner}" is not in the model store`);
    const listing = await studio.store.list();
    const missingLora = (body.loras ?? []).findIndex((l) => findLoraName(listing, l.name) === null);
    if (missingLora !== -1) throw new InvalidRequestError(`loras[${missingLora}].name`, 'installed', `LoRA "${body.loras![missingLora]!.name}" is not in the model store`);
    const unknownStyle = (body.styles ?? []).find((s) => !studio.styles.has(s) && s !== 'Random Style' && s !== 'FooocusTS Expansion' && s !== 'Fooocus V2');
    if (unknownStyle !== undefined) throw new InvalidRequestError('styles', 'known', `style "${unknownStyle}" does not exist`);
    if (body.sampler !== undefined) {
      try {
        getSampler(body.sampler);
      } catch {
        throw new InvalidRequestError('sampler', 'known', `sampler "${body.sampler}" does not exist`);
      }
    }
    if (body.scheduler !== undefined && !isSchedulerName(body.scheduler)) throw new InvalidRequestError('scheduler', 'known', `scheduler "${body.scheduler}" does not exist`);
    const family = (model ?? models.find((m) => !m.demo) ?? models[0])?.family ?? 'sdxl';
    const size = body.aspectRatio !== undefined ? parseAspectRatio(body.aspectRatio) : body.width !== undefined && body.height !== undefined ? { width: body.width, height: body.height } : parseAspectRatio(family === 'sd15' ? '512*512' : '1152*896');
    let input: StudioJobRequest['input'];
    if (body.inputImageId !== undefined) {
      const upload = await studio.uploads.find(owner, body.inputImageId);
      if (upload === null) throw new InvalidRequestError('inputImageId', 'uploaded', 'no such uploaded image');
      // Restarts its expiry time, so it cannot expire before the job is queued (a queued job's upload is kept).
      await studio.uploads.markUsed(upload);
      input = { file: upload, denoise: body.denoise ?? 0.5 };
    }
    return {
      prompt: body.prompt,
      negative: body.negative ?? '',
      styles: body.styles ?? [],
      performance: body.performance ?? 'Speed',
      width: size.width,
      height: size.height,
      imageCount: body.imageCount ?? 1,
      seed: body.seed ?? String(randomSeed()),
      ...(body.model ? { model: body.model } : {}),
      ...(body.refiner ? { refiner: body.refiner } : {}),
      ...(body.refinerSwitch === undefined ? {} : { refinerSwitch: body.refinerSwitch }),
      ...(body.loras === undefined ? {} : { loras: body.loras.map((l) => ({ name: l.name, weight: l.weight })) }),
      ...(body.steps === undefined ? {} : { steps: body.steps }),
      ...(body.cfg === undefined ? {} : { cfg: body.cfg }),
      ...(body.sharpness === undefined ? {} : { sharpness: body.sharpness }),
      ...(body.sampler ? { sampler: body.sampler } : {}),
      ...(body.scheduler ? { scheduler: body.scheduler } : {}),
      format: body.format ?? 'png',
      ...(input ? { input } : {}),
    };
  }

  return {
    submitJob: async (owner, body) => studio.queue.submit(owner, await buildRequest(owner, body)),
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
      if (imageId.startsWith('up-')) file = (await studio.uploads.find(owner === ALL_OWNERS ? null : owner, imageId)) ?? undefined;
      else {
        const job = await studio.queue.get(imageId.slice(0, -9), scopeOf(owner)).catch(() => null);
        file = job?.results.find((r) => r.imageId === imageId)?.file;
      }
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
    ready: async () => (await studio.listModels()).length > 0,
    close: () => studio.close(),
  };
}
