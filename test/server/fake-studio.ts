/**
 * An in-memory StudioPort for server tests: jobs, owner scoping, events pushed by the test, images mapped to
 * files the test writes. Records every call so tests can assert what reached the port (and what did not).
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ALL_OWNERS, type GenerateRequestBody, type ImageDescriptionView, type JobSummary, type StudioEvent, type StudioEventListener, type StudioPort, type UploadedImage } from '../../src/server/studio-port.ts';
import { InvalidRequestError, JobStateConflictError, NotFoundError } from '../../src/server/studio-errors.ts';
import { computeControlMap, grayToRgb } from '../../src/engine/index.ts';
import { decodePng, encodePng } from '../../src/engine/output/png.ts';

export const KNOWN_SAMPLERS = ['euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_2m_sde_gpu'];

export class FakeStudio implements StudioPort {
  readonly calls: { method: string; owner?: string; id?: string }[] = [];
  readonly jobs = new Map<string, JobSummary>();
  readonly images = new Map<string, { owner: string; absolutePath: string; contentType: string }>();
  readonly uploads: { id: string; owner: string; image: UploadedImage }[] = [];
  readonly listeners = new Map<string, Set<StudioEventListener>>();
  /** Thrown by the next call of any method, then cleared. */
  failWith: Error | null = null;
  isReady = true;
  closed = false;

  constructor(readonly outputsDir: string) {}

  addJob(owner: string, overrides: Partial<JobSummary> = {}): JobSummary {
    const id = randomBytes(16).toString('base64url');
    const job: JobSummary = {
      id,
      owner,
      status: 'queued',
      position: 1,
      waitingFor: null,
      createdAt: new Date(0).toISOString(),
      finishedAt: null,
      progress: null,
      images: [],
      error: null,
      request: { prompt: 'a cat' },
      ...overrides,
    };
    this.jobs.set(id, job);
    return job;
  }

  /** Registers an image; `file` is relative to the outputs dir unless absolute. */
  addImage(owner: string, imageId: string, file: string, contentType = 'image/png'): void {
    this.images.set(imageId, { owner, absolutePath: path.resolve(this.outputsDir, file), contentType });
  }

  emit(jobId: string, event: StudioEvent): void {
    for (const listener of this.listeners.get(jobId) ?? []) listener(event);
  }

  async submitJob(owner: string, request: GenerateRequestBody): Promise<{ id: string; position: number }> {
    this.#record('submitJob', owner);
    if (request.sampler !== undefined && !KNOWN_SAMPLERS.includes(request.sampler)) {
      throw new InvalidRequestError('sampler', 'known', `unknown sampler ${request.sampler}`);
    }
    const job = this.addJob(owner, { request, position: this.jobs.size + 1 });
    return { id: job.id, position: job.position ?? 0 };
  }

  async getJob(owner: string, id: string): Promise<JobSummary> {
    this.#record('getJob', owner, id);
    return this.#visible(owner, id);
  }

  async listHistory(owner: string, page: { cursor: string | undefined; limit: number }) {
    this.#record('listHistory', owner);
    const items = [...this.jobs.values()].filter((job) => owner === ALL_OWNERS || job.owner === owner);
    return { items: items.slice(0, page.limit), nextCursor: items.length > page.limit ? 'next' : null };
  }

  async deleteHistoryEntry(owner: string, id: string): Promise<void> {
    this.#record('deleteHistoryEntry', owner, id);
    const job = this.#visible(owner, id);
    if (job.status === 'queued' || job.status === 'running') throw new JobStateConflictError(id, job.status);
    this.jobs.delete(id);
  }

  async cancelJob(owner: string, id: string): Promise<void> {
    this.#record('cancelJob', owner, id);
    const job = this.#visible(owner, id);
    if (job.status !== 'queued' && job.status !== 'running') throw new JobStateConflictError(id, job.status);
    job.status = 'cancelled';
    this.emit(id, { type: 'cancelled' });
  }

  async retryJob(owner: string, id: string): Promise<{ id: string; position: number }> {
    this.#record('retryJob', owner, id);
    const job = this.#visible(owner, id);
    if (!['interrupted', 'failed', 'cancelled'].includes(job.status)) throw new JobStateConflictError(id, job.status);
    const again = this.addJob(job.owner, { request: job.request, position: 1 });
    return { id: again.id, position: again.position ?? 1 };
  }

  async skipImage(owner: string, id: string): Promise<void> {
    this.#record('skipImage', owner, id);
    this.#visible(owner, id);
  }

  subscribe(owner: string, id: string, listener: StudioEventListener): () => void {
    this.#record('subscribe', owner, id);
    this.#visible(owner, id);
    const set = this.listeners.get(id) ?? new Set();
    set.add(listener);
    this.listeners.set(id, set);
    return () => set.delete(listener);
  }

  async openImage(owner: string, imageId: string) {
    this.#record('openImage', owner, imageId);
    const image = this.images.get(imageId);
    if (image === undefined || (owner !== ALL_OWNERS && image.owner !== owner)) throw new NotFoundError('image');
    return { absolutePath: image.absolutePath, contentType: image.contentType };
  }

  async saveUpload(owner: string, image: UploadedImage): Promise<{ imageId: string; width: number; height: number }> {
    this.#record('saveUpload', owner);
    const imageId = `upload${this.uploads.length + 1}`;
    this.uploads.push({ id: imageId, owner, image });
    return { imageId, width: image.width, height: image.height };
  }

  /** Decodes PNG bodies in process (the real studio decodes in its restricted process) and preprocesses them. */
  async previewControlMap(owner: string, image: { bytes: Buffer; type: 'PyraCanny' | 'CPDS' }): Promise<Uint8Array> {
    this.#record('previewControlMap', owner);
    const map = grayToRgb(computeControlMap(image.type, decodePng(image.bytes)));
    return encodePng(map.rgb, map.width, map.height);
  }

  /** Decodes PNG bodies in process and answers their size as the text: the route's tests check what reaches the port. */
  async describeImage(owner: string, image: { bytes: Buffer; type: 'photo' | 'anime' }): Promise<ImageDescriptionView> {
    this.#record('describeImage', owner, image.type);
    const { width, height } = decodePng(image.bytes);
    return { type: image.type, text: `${image.type} ${width}x${height}` };
  }

  async deleteUpload(owner: string, imageId: string): Promise<void> {
    this.#record('deleteUpload', owner, imageId);
    const index = this.uploads.findIndex((u) => u.id === imageId && (owner === ALL_OWNERS || u.owner === owner));
    if (index === -1) throw new NotFoundError('image');
    this.uploads.splice(index, 1);
  }

  async listModels() {
    this.#record('listModels');
    return [{ name: 'sd_xl_base_1.0.safetensors', kind: 'checkpoint' as const, family: 'sdxl', secretPath: '/models/x' }];
  }
  async listStyles() {
    this.#record('listStyles');
    return [
      { name: 'Fooocus V2', prompt: '', negative: '' },
      { name: 'Fooocus Photograph', prompt: 'photograph {prompt}, 50mm', negative: 'cartoon' },
    ];
  }
  async listPresets() {
    this.#record('listPresets');
    const preset = {
      label: 'General',
      model: 'sd_xl_base_1.0.safetensors',
      refiner: null,
      refinerSwitch: 0.8,
      loras: [],
      cfg: 4,
      sharpness: 2,
      sampler: 'dpmpp_2m_sde_gpu',
      scheduler: 'karras',
      styles: ['Fooocus V2'],
      performance: 'Speed',
      aspectRatio: '1152*896',
      imageCount: 2,
      missing: [],
    };
    return [
      { name: 'default', ...preset, secretPath: '/presets/default.json' },
      { name: 'anime', ...preset, label: 'Anime', cfg: 6, missing: [{ kind: 'checkpoint' as const, name: 'anime.safetensors', catalogId: 'anime-xl' }] },
    ];
  }
  async listAspectRatios() {
    this.#record('listAspectRatios');
    return { sdxl: [{ id: '1024*1024', width: 1024, height: 1024 }], sd15: [{ id: '512*512', width: 512, height: 512 }] };
  }
  async health() {
    return true;
  }
  async ready() {
    return this.isReady ? { ready: true } : { ready: false, reason: 'the default model is missing' };
  }
  async close() {
    this.closed = true;
  }

  #visible(owner: string, id: string): JobSummary {
    const job = this.jobs.get(id);
    if (job === undefined || (owner !== ALL_OWNERS && job.owner !== owner)) throw new NotFoundError('job');
    return job;
  }

  #record(method: string, owner?: string, id?: string): void {
    this.calls.push({ method, owner, id });
    const failure = this.failWith;
    if (failure !== null) {
      this.failWith = null;
      throw failure;
    }
  }
}
