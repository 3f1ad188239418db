/**
 * Checks response bodies before the page uses them. The server's schemas are its allowlist; these readers are the
 * page's: a body of the wrong shape becomes an ApiError('bad_response') instead of `undefined` deep in a view.
 * Where the contract allows two spellings (a bare array or `{ models: [...] }`, `results` or `images`), both are read.
 */
import { ApiError } from './api-error.ts';
import {
  JOB_STATUSES,
  type AspectRatios,
  type HistoryPage,
  type ImageResult,
  type Job,
  type JobProgress,
  type JobStatus,
  type ModelInfo,
  type ModelKind,
  type PresetInfo,
  type StyleInfo,
  type SubmitResult,
} from './api-types.ts';

type Rec = Record<string, unknown>;

function bad(what: string): never {
  throw new ApiError(0, 'bad_response', `The server sent an unexpected ${what}.`);
}

function record(value: unknown, what: string): Rec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) bad(what);
  return value as Rec;
}

function list(value: unknown, key: string, what: string): unknown[] {
  if (Array.isArray(value)) return value;
  const inner = typeof value === 'object' && value !== null ? (value as Rec)[key] : undefined;
  return Array.isArray(inner) ? inner : bad(what);
}

function str(rec: Rec, key: string, what: string): string {
  const value = rec[key];
  return typeof value === 'string' ? value : bad(what);
}

function optStr(rec: Rec, key: string): string | null {
  const value = rec[key];
  return typeof value === 'string' ? value : null;
}

function int(rec: Rec, key: string, what: string): number {
  const value = rec[key];
  return typeof value === 'number' && Number.isInteger(value) ? value : bad(what);
}

const IMAGE_ID = /^[A-Za-z0-9_.-]{1,128}$/;
/** `width*height`, as aspect ratios are written. */
const SIZE = /^\d{2,5}\*\d{2,5}$/;

/**
 * Image addresses must stay on this origin: a rooted path, never `//host`, `javascript:` or `data:`. A URL that
 * fails is rebuilt from the id, which the contract says is the only route serving files.
 */
export function readImageUrl(url: unknown, imageId: string): string {
  if (typeof url === 'string' && /^\/api\/v1\/images\/[A-Za-z0-9_.%-]+$/.test(url)) return url;
  return `/api/v1/images/${encodeURIComponent(imageId)}`;
}

export function readImageResult(value: unknown): ImageResult {
  const rec = record(value, 'image');
  const imageId = str(rec, 'imageId', 'image id');
  if (!IMAGE_ID.test(imageId)) bad('image id');
  const seed = optStr(rec, 'seed') ?? (typeof rec.seed === 'number' ? String(rec.seed) : null);
  return { imageId, url: readImageUrl(rec.url, imageId), seed };
}

function readProgress(value: unknown): JobProgress | null {
  if (value === null || value === undefined) return null;
  const rec = record(value, 'progress');
  const what = 'progress';
  return { step: int(rec, 'step', what), steps: int(rec, 'steps', what), image: int(rec, 'image', what), images: int(rec, 'images', what), message: optStr(rec, 'message') };
}

export function readJob(value: unknown): Job {
  const rec = record(value, 'job');
  const status = str(rec, 'status', 'job status');
  if (!(JOB_STATUSES as readonly string[]).includes(status)) bad('job status');
  const results = rec.results ?? rec.images ?? [];
  if (!Array.isArray(results)) bad('job results');
  const request = rec.request;
  return {
    id: str(rec, 'id', 'job id'),
    status: status as JobStatus,
    progress: readProgress(rec.progress),
    error: optStr(rec, 'error'),
    waitingFor: optStr(rec, 'waitingFor'),
    results: results.map(readImageResult),
    request: typeof request === 'object' && request !== null && !Array.isArray(request) ? (request as Rec) : {},
    createdAt: optStr(rec, 'createdAt'),
  };
}

export function readSubmitResult(value: unknown): SubmitResult {
  const rec = record(value, 'answer to generate');
  const position = rec.position;
  return { id: str(rec, 'id', 'job id'), position: typeof position === 'number' ? position : 0 };
}

export function readHistoryPage(value: unknown): HistoryPage {
  const rec = record(value, 'history page');
  const items = list(rec.items, 'items', 'history page');
  return { items: items.map(readJob), nextCursor: optStr(rec, 'nextCursor') };
}

const MODEL_KINDS: readonly ModelKind[] = ['checkpoint', 'refiner', 'lora', 'vae', 'upscaler'];

export function readModels(value: unknown): ModelInfo[] {
  return list(value, 'models', 'model list').map((item) => {
    const rec = record(item, 'model');
    const kind = optStr(rec, 'kind');
    return {
      name: str(rec, 'name', 'model name'),
      family: optStr(rec, 'family') ?? '',
      kind: kind !== null && (MODEL_KINDS as readonly string[]).includes(kind) ? (kind as ModelKind) : 'checkpoint',
      demo: rec.demo === true,
    };
  });
}

export function readStyles(value: unknown): StyleInfo[] {
  return list(value, 'styles', 'style list').map((item) => {
    const rec = record(item, 'style');
    return { name: str(rec, 'name', 'style name'), prompt: optStr(rec, 'prompt') ?? '', negative: optStr(rec, 'negative') ?? '' };
  });
}

function num(rec: Rec, key: string, what: string): number {
  const value = rec[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : bad(what);
}

function strings(value: unknown, what: string): string[] {
  return Array.isArray(value) && value.every((s) => typeof s === 'string') ? value : bad(what);
}

export function readPresets(value: unknown): PresetInfo[] {
  return list(value, 'presets', 'preset list').map((item) => {
    const rec = record(item, 'preset');
    const what = 'preset';
    const loras = Array.isArray(rec.loras) ? rec.loras : bad(what);
    const missing = Array.isArray(rec.missing) ? rec.missing : [];
    const performance = optStr(rec, 'performance');
    const aspectRatio = str(rec, 'aspectRatio', what);
    if (!SIZE.test(aspectRatio)) bad(what);
    return {
      name: str(rec, 'name', 'preset name'),
      label: optStr(rec, 'label') ?? str(rec, 'name', 'preset name'),
      model: str(rec, 'model', what),
      refiner: optStr(rec, 'refiner') ?? '',
      refinerSwitch: num(rec, 'refinerSwitch', what),
      loras: loras.map((l) => {
        const lora = record(l, what);
        return { name: str(lora, 'name', what), weight: num(lora, 'weight', what) };
      }),
      cfg: num(rec, 'cfg', what),
      sharpness: num(rec, 'sharpness', what),
      sampler: str(rec, 'sampler', what),
      scheduler: str(rec, 'scheduler', what),
      styles: strings(rec.styles, what),
      performance,
      aspectRatio,
      imageCount: int(rec, 'imageCount', what),
      missing: missing.map((m) => str(record(m, what), 'name', what)),
    };
  });
}


function sizes(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    if (typeof item === 'string' && SIZE.test(item)) return [item];
    if (typeof item === 'object' && item !== null && typeof (item as Rec).id === 'string' && SIZE.test((item as Rec).id as string)) {
      return [(item as Rec).id as string];
    }
    return [];
  });
}

/** `{ sdxl: [...], sd15: [...] }`; a single flat list (`{ aspectRatios: [{ id }] }`) is taken as the SDXL list. */
export function readAspectRatios(value: unknown): AspectRatios {
  const rec = record(value, 'aspect ratio list');
  const sdxl = sizes(rec.sdxl ?? rec.aspectRatios);
  if (sdxl.length === 0) bad('aspect ratio list');
  return { sdxl, sd15: sizes(rec.sd15) };
}

/** The answer to Describe: its type and prompt text (a tagger's scores are not shown on the page). */
export function readDescription(value: unknown): { type: string; text: string } {
  const rec = record(value, 'answer to describe');
  const type = optStr(rec, 'type');
  const text = optStr(rec, 'text');
  return type !== null && text !== null ? { type, text } : bad('description');
}

export function readUploadId(value: unknown): string {
  const rec = record(value, 'answer to upload');
  const id = optStr(rec, 'id') ?? optStr(rec, 'imageId');
  return id !== null && IMAGE_ID.test(id) ? id : bad('upload id');
}
