/**
 * Everything the form holds, as one typed object: what the views read to build a generate request, and what a
 * dropped PNG or a history entry's "Reuse" fills back in (a FormPatch: only the fields it knows).
 */
import { OUTPUT_FORMATS, PERFORMANCE_MODES, type GenerateRequest, type LoraChoice, type OutputFormat, type Performance, type PresetInfo } from './api-types.ts';

export interface FormValues {
  prompt: string;
  negative: string;
  styles: string[];
  performance: Performance;
  /** `width*height`. */
  aspectRatio: string;
  imageCount: number;
  seed: string;
  randomSeed: boolean;
  /** Checkpoint name; '' lets the server choose. */
  model: string;
  /** '' for none. */
  refiner: string;
  refinerSwitch: number;
  loras: LoraChoice[];
  cfg: number;
  sharpness: number;
  sampler: string;
  scheduler: string;
  format: OutputFormat;
}

export type FormPatch = Partial<FormValues>;

/** Fooocus's defaults, so an untouched form asks for what Fooocus would make. */
export const DEFAULT_FORM: FormValues = {
  prompt: '',
  negative: '',
  styles: ['FooocusTS Expansion', 'Photo Natural Light'],
  performance: 'Speed',
  aspectRatio: '1152*896',
  imageCount: 1,
  seed: '0',
  randomSeed: true,
  model: '',
  refiner: '',
  refinerSwitch: 0.8,
  loras: [],
  cfg: 4,
  sharpness: 2,
  sampler: 'dpmpp_2m_sde_gpu',
  scheduler: 'karras',
  format: 'png',
};

export const MAX_SEED = 2n ** 63n - 1n;

/** A decimal seed within 0..2^63-1, or null. */
export function normalizeSeed(text: string): string | null {
  const trimmed = text.trim();
  if (!/^\d{1,19}$/.test(trimmed)) return null;
  const value = BigInt(trimmed);
  return value <= MAX_SEED ? value.toString() : null;
}

/**
 * The generate body for the form. SDXL sizes go as `aspectRatio` (one of the 26); other families send their size
 * (one of the server's list for that family) as width and height, which the server takes for any model. A random
 * seed is left to the server.
 */
export function buildGenerateRequest(values: FormValues, family: string): GenerateRequest {
  const request: GenerateRequest = {
    prompt: values.prompt,
    negative: values.negative,
    styles: [...values.styles],
    performance: values.performance,
    imageCount: values.imageCount,
    cfg: values.cfg,
    sharpness: values.sharpness,
    sampler: values.sampler,
    scheduler: values.scheduler,
    format: values.format,
    loras: values.loras.filter((l) => l.name !== '').map((l) => ({ ...l })),
  };
  const size = /^(\d+)\*(\d+)$/.exec(values.aspectRatio);
  if (family === 'sdxl' || family === '' || size === null) request.aspectRatio = values.aspectRatio;
  else {
    request.width = Number(size[1]);
    request.height = Number(size[2]);
  }
  if (!values.randomSeed) {
    const seed = normalizeSeed(values.seed);
    if (seed !== null) request.seed = seed;
  }
  if (values.model !== '') request.model = values.model;
  if (values.refiner !== '') {
    request.refiner = values.refiner;
    request.refinerSwitch = values.refinerSwitch;
  }
  return request;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The form fields a job's request (from history) sets; "Reuse" keeps the job's seed, so it is not random. */
export function patchFromRequest(request: Record<string, unknown>, usedSeed: string | null = null): FormPatch {
  const patch: FormPatch = {};
  const assign = <K extends keyof FormValues>(key: K, value: FormValues[K] | undefined): void => {
    if (value !== undefined) patch[key] = value;
  };
  assign('prompt', text(request.prompt));
  assign('negative', text(request.negative));
  if (Array.isArray(request.styles)) patch.styles = request.styles.filter((s): s is string => typeof s === 'string');
  const performance = text(request.performance);
  if (performance !== undefined && (PERFORMANCE_MODES as readonly string[]).includes(performance)) patch.performance = performance as Performance;
  const width = finite(request.width);
  const height = finite(request.height);
  assign('aspectRatio', text(request.aspectRatio) ?? (width !== undefined && height !== undefined ? `${width}*${height}` : undefined));
  assign('imageCount', finite(request.imageCount));
  const seed = normalizeSeed(usedSeed ?? text(request.seed) ?? '');
  if (seed !== null) {
    patch.seed = seed;
    patch.randomSeed = false;
  }
  assign('model', text(request.model));
  assign('refiner', text(request.refiner));
  assign('refinerSwitch', finite(request.refinerSwitch));
  if (Array.isArray(request.loras)) {
    patch.loras = request.loras.flatMap((l) =>
      isRecord(l) && typeof l.name === 'string' && finite(l.weight) !== undefined ? [{ name: l.name, weight: l.weight as number }] : [],
    );
  }
  assign('cfg', finite(request.cfg));
  assign('sharpness', finite(request.sharpness));
  assign('sampler', text(request.sampler));
  assign('scheduler', text(request.scheduler));
  const format = text(request.format);
  if (format !== undefined && (OUTPUT_FORMATS as readonly string[]).includes(format)) patch.format = format as OutputFormat;
  return patch;
}

/** The form fields a preset sets: everything but the prompt, negative prompt, seed and output format. */
export function patchFromPreset(preset: PresetInfo): FormPatch {
  return {
    model: preset.model,
    refiner: preset.refiner,
    refinerSwitch: preset.refinerSwitch,
    loras: preset.loras.map((l) => ({ ...l })),
    cfg: preset.cfg,
    sharpness: preset.sharpness,
    sampler: preset.sampler,
    scheduler: preset.scheduler,
    styles: [...preset.styles],
    aspectRatio: preset.aspectRatio,
    imageCount: preset.imageCount,
    ...(preset.performance === null ? {} : { performance: preset.performance }),
  };
}
