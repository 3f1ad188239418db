/**
 * The HTTP contract (`/api/v1`) as the browser sees it. These types describe what the page sends and what it has
 * accepted after api-responses.ts checked a body; nothing here is trusted before that check.
 */
/** One of the formats the request schema lists. */
export type OutputFormat = string;

export interface LoraChoice {
  name: string;
  weight: number;
}

export interface GenerateRequest {
  prompt: string;
  negative?: string;
  styles?: string[];
  /** One of the modes the request schema lists (request-contract.ts reads them from the OpenAPI document). */
  performance?: string;
  /** `width*height`, one of the family's aspect ratios. */
  aspectRatio?: string;
  width?: number;
  height?: number;
  imageCount?: number;
  steps?: number;
  /** Decimal string: seeds reach 2^63 - 1, past a double's exact range. */
  seed?: string;
  /** A preset (GET /api/v1/presets) under the explicit fields; the server refuses it while its models are missing. */
  preset?: string;
  model?: string;
  refiner?: string;
  refinerSwitch?: number;
  refinerSwitchMethod?: string;
  /** A VAE file (model list, kind vae) instead of the checkpoint's own. */
  vae?: string;
  loras?: LoraChoice[];
  cfg?: number;
  sharpness?: number;
  sampler?: string;
  scheduler?: string;
  adaptiveCfg?: number;
  admScalers?: { positive: number; negative: number; end: number };
  clipSkip?: number;
  seedIncrement?: boolean;
  inputImageId?: string;
  denoise?: number;
  /** Upscale or Variation of the input image: a mode the schema lists, `factor` for upscale-custom, an upscaler file. */
  varyUpscale?: { mode: string; factor?: number; upscaler?: string };
  /** Inpaint or Outpaint of the input image. */
  inpaint?: InpaintRequest;
  format?: OutputFormat;
  metadataScheme?: string;
  /** Up to four image prompts (Fooocus's Image Prompt tab). */
  imagePrompts?: ImagePromptRequest[];
  mixImagePromptAndVary?: boolean;
  mixImagePromptAndInpaint?: boolean;
  /** Enhance: up to three tabs, each finding a region and repainting it. */
  enhance?: { tabs: EnhanceTabRequest[]; varyUpscale?: { mode: string }; varyUpscaleOrder?: 'before' | 'after' };
  /** Describe then generate: with an empty prompt, the input image is described by this describer first. */
  describeFirst?: string;
}

/** One Enhance tab: what to find, and how to repaint it (absent fields: the server's defaults). */
export interface EnhanceTabRequest {
  detectionPrompt: string;
  prompt?: string;
  negative?: string;
  strength?: number;
  maskErode?: number;
  invertMask?: boolean;
}

/** One image prompt: an upload's id, its type, stop-at fraction and weight. */
export interface ImagePromptRequest {
  imageId: string;
  type: string;
  stopAt: number;
  weight: number;
}

/** One side's outpaint padding: pixels or percent of that side's axis. */
export type OutpaintAmount = { px: number } | { percent: number };

export interface InpaintRequest {
  mode: string;
  /** An upload made with `purpose=mask`, the input image's size. */
  mask?: string;
  engine?: string;
  strength?: number;
  respectiveField?: number;
  maskErode?: number;
  invertMask?: boolean;
  additionalPrompt?: string;
  outpaint?: Partial<Record<'left' | 'right' | 'top' | 'bottom', OutpaintAmount>>;
}

export interface SubmitResult {
  id: string;
  position: number;
}

export const JOB_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const FINAL_JOB_STATUSES: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'cancelled', 'interrupted']);

export interface JobProgress {
  step: number;
  steps: number;
  image: number;
  images: number;
  /** What the job does besides sampling (describing, loading, an Enhance tab); null when it only samples. */
  message: string | null;
}

export interface ImageResult {
  imageId: string;
  /** A same-origin path (checked), ready for an `img` element. */
  url: string;
  seed: string | null;
}

export interface Job {
  id: string;
  status: JobStatus;
  progress: JobProgress | null;
  error: string | null;
  /** Why no worker can take the queued job (a model or provider none has); null when it only waits its turn. */
  waitingFor: string | null;
  results: ImageResult[];
  /** The generate body the job ran with, as the server reports it: shown as text, reused to fill the form. */
  request: Record<string, unknown>;
  createdAt: string | null;
}

export interface HistoryPage {
  items: Job[];
  nextCursor: string | null;
}

export type ModelKind = 'checkpoint' | 'refiner' | 'lora' | 'vae' | 'upscaler';

export interface ModelInfo {
  name: string;
  /** `sdxl`, `sd15`, ...; empty when the server does not say. */
  family: string;
  kind: ModelKind;
  /** The tiny built-in demo checkpoint (random weights, noise out). */
  demo: boolean;
}

export interface StyleInfo {
  name: string;
  /** Template with `{prompt}`; empty when the server does not send templates. */
  prompt: string;
  negative: string;
}

/** A preset as the server lists it: the values it fills the form with, and the models the server lacks. */
export interface PresetInfo {
  name: string;
  label: string;
  /** Checkpoint file name in the server's model store. */
  model: string;
  /** '' for none. */
  refiner: string;
  refinerSwitch: number;
  loras: LoraChoice[];
  cfg: number;
  sharpness: number;
  sampler: string;
  scheduler: string;
  styles: string[];
  /** Null when the preset leaves the mode to the user. */
  performance: string | null;
  /** `width*height`. */
  aspectRatio: string;
  imageCount: number;
  /** Model files the server's store lacks (`fooocus models pull --preset <name>` on the server fetches them). */
  missing: string[];
}

export interface AspectRatios {
  sdxl: string[];
  sd15: string[];
}
