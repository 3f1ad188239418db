/**
 * Typed wrappers over `fetch` for `/api/v1`. Every failure, from a refused connection to a 400 naming a field,
 * comes out as an ApiError; every success is checked by api-responses.ts before it is returned.
 * Same-origin requests carry the session cookie and the browser's Origin header on their own.
 */
import { ApiError, readErrorBody } from './api-error.ts';
import {
  readAspectRatios,
  readHistoryPage,
  readJob,
  readModels,
  readPresets,
  readStyles,
  readSubmitResult,
  readUploadId,
  readDescription,
} from './api-responses.ts';
import { readGenerateContract, type GenerateContract } from './request-contract.ts';
import type { AspectRatios, GenerateRequest, HistoryPage, Job, ModelInfo, PresetInfo, StyleInfo, SubmitResult } from './api-types.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClient {
  generate(request: GenerateRequest): Promise<SubmitResult>;
  getJob(id: string): Promise<Job>;
  cancelJob(id: string): Promise<void>;
  /** Queues an interrupted, failed or cancelled job again; returns the new job. */
  retryJob(id: string): Promise<SubmitResult>;
  skipImage(id: string): Promise<void>;
  listHistory(page?: { cursor?: string | null; limit?: number }): Promise<HistoryPage>;
  deleteHistoryEntry(id: string): Promise<void>;
  /** Uploads an input image, or (`mask`) an inpaint mask read by its alpha or luminance; answers the upload id. */
  uploadImage(image: Blob, purpose?: 'image' | 'mask'): Promise<string>;
  /** The PyraCanny or CPDS map the server makes of an image (a PNG), for showing beside its slot. */
  previewControlMap(image: Blob, type: string): Promise<Blob>;
  /** Describe: a prompt for the image from the server's describer of `type` (`photo` or `anime`). */
  describeImage(image: Blob, type: string): Promise<{ type: string; text: string }>;
  listModels(): Promise<ModelInfo[]>;
  listStyles(): Promise<StyleInfo[]>;
  listPresets(): Promise<PresetInfo[]>;
  listAspectRatios(): Promise<AspectRatios>;
  /** Modes, formats and number bounds of the generate request, from the server's OpenAPI document. */
  getGenerateContract(): Promise<GenerateContract>;
  signIn(name: string, password: string): Promise<void>;
  /** Address of the job's Server-Sent Events stream. */
  eventsUrl(id: string): string;
}

const JSON_HEADERS = { 'content-type': 'application/json', accept: 'application/json' };

export function createApiClient(fetchImpl: FetchLike, base = '/api/v1'): ApiClient {
  // The document sits beside the versioned API: /api/openapi.json for /api/v1.
  const openApiPath = `${base.replace(/\/v\d+$/, '')}/openapi.json`;
  const jobPath = (id: string): string => `${base}/jobs/${encodeURIComponent(id)}`;

  async function call(path: string, init: RequestInit = {}): Promise<unknown> {
    let response: Response;
    try {
      response = await fetchImpl(path, { credentials: 'same-origin', ...init });
    } catch {
      throw new ApiError(0, 'network', 'Cannot reach the server. Check that it is running, then try again.');
    }
    const text = await response.text().catch(() => '');
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        if (response.ok) throw new ApiError(response.status, 'bad_response', 'The server sent a reply that is not JSON.');
      }
    }
    if (!response.ok) throw readErrorBody(response.status, response.statusText, body);
    return body;
  }

  const post = (path: string, body?: unknown): Promise<unknown> =>
    call(path, body === undefined ? { method: 'POST' } : { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });

  return {
    generate: async (request) => readSubmitResult(await post(`${base}/generate`, request)),
    getJob: async (id) => readJob(await call(jobPath(id))),
    cancelJob: async (id) => void (await post(`${jobPath(id)}/cancel`)),
    retryJob: async (id) => readSubmitResult(await post(`${jobPath(id)}/retry`)),
    skipImage: async (id) => void (await post(`${jobPath(id)}/skip`)),
    listHistory: async (page = {}) => {
      const query = new URLSearchParams();
      if (page.cursor) query.set('cursor', page.cursor);
      if (page.limit !== undefined) query.set('limit', String(page.limit));
      const suffix = query.size > 0 ? `?${query.toString()}` : '';
      return readHistoryPage(await call(`${base}/history${suffix}`));
    },
    deleteHistoryEntry: async (id) => void (await call(`${base}/history/${encodeURIComponent(id)}`, { method: 'DELETE' })),
    uploadImage: async (image, purpose = 'image') =>
      readUploadId(await call(`${base}/uploads${purpose === 'mask' ? '?purpose=mask' : ''}`, { method: 'POST', headers: { 'content-type': image.type || 'application/octet-stream' }, body: image })),
    previewControlMap: async (image, type) => {
      let response: Response;
      try {
        const url = `${base}/image-prompts/preview?type=${encodeURIComponent(type)}`;
        response = await fetchImpl(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': image.type || 'application/octet-stream' }, body: image });
      } catch {
        throw new ApiError(0, 'network', 'Cannot reach the server. Check that it is running, then try again.');
      }
      if (response.ok) return response.blob();
      const text = await response.text().catch(() => '');
      let body: unknown = undefined;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw readErrorBody(response.status, response.statusText, body);
    },
    describeImage: async (image, type) =>
      readDescription(await call(`${base}/describe?type=${encodeURIComponent(type)}`, { method: 'POST', headers: { 'content-type': image.type || 'application/octet-stream' }, body: image })),
    listModels: async () => readModels(await call(`${base}/models`)),
    listStyles: async () => readStyles(await call(`${base}/styles`)),
    listPresets: async () => readPresets(await call(`${base}/presets`)),
    listAspectRatios: async () => readAspectRatios(await call(`${base}/aspect-ratios`)),
    getGenerateContract: async () => {
      const doc = await call(openApiPath);
      try {
        return readGenerateContract(doc);
      } catch (error) {
        throw new ApiError(0, 'bad_response', error instanceof Error ? error.message : 'The server sent an unexpected API description.');
      }
    },
    signIn: async (name, password) => void (await post(`${base}/session`, { name, password })),
    eventsUrl: (id) => `${jobPath(id)}/events`,
  };
}
