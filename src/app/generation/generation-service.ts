/**
 * The "make images" use case: load (and keep) the requested checkpoints, run the engine pipeline, and save each
 * image with its metadata. Model files reach this service only as verified paths (the model store's job).
 */
import path from 'node:path';
import {
  getFamilyProfile,
  generate,
  inspectHeader,
  readInpaintHead,
  readInpaintPatch,
  loadCheckpoint,
  loadUpscaler,
  loadVae,
  LoraMismatchError,
  measureComponentBytes,
  planJobComponents,
  unionOfPhases,
  preparePipelineModel,
  readLoraFile,
  readSafetensorsHeader,
  type ClipTokenizer,
  type GenerationRequest,
  type LoadedCheckpoint,
  type LoadedUpscaler,
  type LoadedVae,
  type LoraApplyReport,
  type CheckpointComponent,
  type PipelineModel,
  type PipelineModels,
  type RgbImage,
  type RuntimeOptions,
  type InpaintHead,
  upscaleImage,
  ForegroundMaskModel,
  type RegionDetection,
  type RegionQuery,
} from '../../engine/index.ts';
import { saveImage } from '../outputs/output-writer.ts';
import type { AppGenerationRequest, VerifiedLora, VerifiedModel } from './app-generation-request.ts';
import { describeGeneration, toModelName } from './generation-description.ts';
import { GuidanceModels, type GuidanceBase } from './guidance-models.ts';
import type { GuidedUnetCache } from './guided-unet-cache.ts';
import { toServiceProgress, type ServiceProgress } from './service-progress.ts';
import { chooseMemoryMode, describeMemoryChoice, estimateActivationBytes, measureAvailableMemory, type MemoryChoice, type MemorySetting } from './memory-mode.ts';
import { TEXT_DETECTOR_FILES } from '../enhance/text-detector-files.ts';
import { TextDetectorSlot, type VerifiedTextDetectorFiles } from '../enhance/text-detector-slot.ts';

export interface SavedImage {
  path: string;
  /** SHA-256 of the bytes written. */
  sha256: string;
  seed: bigint;
  seconds: { encode: number; sample: number; decode: number };
}

export type { ServiceProgress } from './service-progress.ts';

/** What the last LoRA switch cost (for logs and the benchmark). */
export type LoraSwitch = LoraApplyReport & { loras: string[] };

export interface GenerationServiceOptions {
  runtime: RuntimeOptions;
  outputsDir: string;
  /** The tokenizer for text encoders with this many token embeddings (see tokenizer-selection.ts). */
  loadTokenizer: (vocabSize: number) => Promise<ClipTokenizer>;
  software: string;
  /** `runtime.memory` (memory-mode.ts); default `auto`. */
  memory?: MemorySetting;
  /** Runs UNets in int8 (`runtime.precision: "int8"`), with their quantized weights cached in this folder. */
  int8CacheDir?: string;
  /** Runs the UNet and the text encoders as float16 graphs (`runtime.precision: "fp16"`, for GPU providers). */
  float16?: boolean;
}

/** Where the int8 weights of checkpoints live inside the application's cache folder (`paths.cache`). */
export function int8CacheDir(cacheDir: string): string {
  return path.join(path.resolve(cacheDir), 'int8');
}

interface CachedModel {
  key: string;
  model: PipelineModel;
  loaded: LoadedCheckpoint;
  /** fp32 bytes of each component's weights. */
  bytes: Record<CheckpointComponent, number>;
  tokenizer: ClipTokenizer;
  /** The LoRA set bound now: `sha256@weight` per LoRA, in order ('' for none). */
  loraKey: string;
}

export class GenerationService {
  private cache: CachedModel[] = [];
  /** The chosen VAE, kept while requests ask for it (at most one: a VAE is small and quick to build). */
  private vae: { sha256: string; loaded: LoadedVae; bytes: Record<CheckpointComponent, number> } | null = null;
  private inpaintHead: { sha256: string; head: InpaintHead } | null = null;
  /** The last foreground-mask model used by Enhance, kept while requests ask for it (at most one). */
  private foreground: { sha256: string; model: ForegroundMaskModel } | null = null;
  /** GroundingDINO and SAM for text-prompted Enhance tabs, kept while requests ask for the same files. */
  private readonly textDetector: TextDetectorSlot;
  /** The last upscaler used, kept while requests ask for it (at most one). */
  private upscaler: { sha256: string; loaded: LoadedUpscaler } | null = null;
  /** The latest LoRA switch that changed anything, or null. */
  lastLoraSwitch: LoraSwitch | null = null;
  /** The memory mode of the latest job. */
  lastMemoryChoice: MemoryChoice | null = null;

  /** The image prompt and control runners and the guided UNet, made on a guided job's first need. */
  private readonly guidance: GuidanceModels;
  /** The base UNet built with the guidance inputs of the latest guided job, for both kinds of image prompt. */
  readonly guidedUnets: GuidedUnetCache;

  constructor(private readonly options: GenerationServiceOptions) {
    this.guidance = new GuidanceModels(options.runtime);
    this.guidedUnets = this.guidance.unets;
    this.textDetector = new TextDetectorSlot(options.runtime);
  }

  private async load(model: VerifiedModel, clipSkip: number, report: (p: ServiceProgress) => void, signal?: AbortSignal, patch?: VerifiedModel): Promise<CachedModel> {
    // A patched build is another model: its UNet weights differ, so it is cached under its own key.
    const key = `${model.sha256}|${clipSkip}${patch === undefined ? '' : `|patch:${patch.sha256}`}`;
    const hit = this.cache.find((c) => c.key === key);
    if (hit !== undefined) return hit;
    const header = await readSafetensorsHeader(model.path);
    const { architecture } = inspectHeader(header);
    const unet = patch === undefined ? undefined : { weightPatches: await readInpaintPatch(patch.path, header, architecture), inpaintFeature: true };
    const tokenizer = await this.options.loadTokenizer(architecture.textEncoders[0]?.vocabSize ?? 0);
    const { finalLayerNorm } = getFamilyProfile(architecture.family);
    const name = toModelName(model.path);
    // Nothing is built yet: generate builds the components the job's phases run, when they run them.
    const loaded = await loadCheckpoint(header, architecture, {
      components: [],
      runtime: this.options.runtime,
      text: architecture.textEncoders.map((cfg) => ({ clipSkip: Math.min(clipSkip, cfg.layers), finalLayerNorm })),
      ...(unet === undefined ? {} : { unet }),
      ...(this.options.int8CacheDir === undefined ? {} : { int8: { cacheDir: this.options.int8CacheDir, sourceSha256: model.sha256 } }),
      ...(this.options.float16 === true ? { float16: true } : {}),
      ...(signal ? { signal } : {}),
    });
    const entry = { key, model: preparePipelineModel(name, loaded, tokenizer), loaded, bytes: measureComponentBytes(header, architecture), tokenizer, loraKey: '' };
    this.cache.push(entry);
    return entry;
  }

  /** Releases models not used by the current request, so memory holds at most one base and one refiner. */
  private async evictExcept(keep: CachedModel[]): Promise<void> {
    const drop = this.cache.filter((c) => !keep.includes(c));
    this.cache = keep;
    await Promise.all(drop.map((c) => c.loaded.release()));
  }

  async generate(request: AppGenerationRequest, opts: { onProgress?: (p: ServiceProgress) => void; signal?: AbortSignal } = {}): Promise<SavedImage[]> {
    const results = await this.render(request, opts);
    const saved: SavedImage[] = [];
    for (const r of results) saved.push(await this.saveResult(request, r.image, r.seed, r.seconds));
    return saved;
  }

  /** Runs the engine for a request and returns its images unsaved (Enhance works on them before the one save). */
  async render(
    request: AppGenerationRequest,
    opts: { onProgress?: (p: ServiceProgress) => void; signal?: AbortSignal } = {},
  ): Promise<{ image: RgbImage; seed: bigint; seconds: SavedImage['seconds'] }[]> {
    const report = opts.onProgress ?? (() => undefined);
    const base = await this.load(request.model, request.clipSkip, report, opts.signal, request.inpaintFiles?.patch);
    const refiner = request.refiner === undefined ? undefined : await this.load(request.refiner, request.clipSkip, report, opts.signal);
    await this.evictExcept(refiner === undefined ? [base] : [base, refiner]);
    const vae = await this.loadVae(request.vae, opts.signal);
    await this.applyLoras(base, request.loras ?? [], report);
    const inpaintHead = request.inpaintFiles === undefined ? undefined : await this.loadInpaintHead(request.inpaintFiles.head, base.model);
    const guidanceBase: GuidanceBase = { key: base.key, loraKey: base.loraKey, architecture: base.model.architecture };
    const guided = await this.guidance.prepare(guidanceBase, request);
    const models = {
      base: base.model,
      ...(refiner ? { refiner: refiner.model } : {}),
      ...(vae ? { vae } : {}),
      ...(inpaintHead ? { inpaintHead } : {}),
      ...guided.models,
    };
    if (guided.prompts !== undefined) request = { ...request, imagePrompts: guided.prompts };
    const memory = this.chooseMemory(models, request, base, refiner, await this.guidance.measureBytes(guidanceBase, request));
    if (memory.mode !== this.lastMemoryChoice?.mode) report({ phase: 'memory', mode: memory.mode, message: describeMemoryChoice(memory) });
    this.lastMemoryChoice = memory;
    const results = await generate(models, request, {
      onProgress: (p) => report(toServiceProgress(p)),
      memory: memory.mode,
      onComponent: (model, component, index, total) => report({ phase: 'load', model, component, message: `loading ${model}: ${component}`, done: index, total }),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return results;
  }

  /** Saves one image with the metadata of `request` (its size is the image's). */
  async saveResult(request: Omit<AppGenerationRequest, 'input'> & Pick<Partial<AppGenerationRequest>, 'input'>, image: RgbImage, seed: bigint, seconds: SavedImage['seconds']): Promise<SavedImage> {
    const parameters = describeGeneration({ ...request, width: image.width, height: image.height }, toModelName(request.model.path), seed, this.options.software);
    const file = await saveImage(this.options.outputsDir, image, parameters, {
      format: request.format,
      scheme: request.scheme,
      software: this.options.software,
      ...(request.jobTag === undefined ? {} : { jobTag: request.jobTag }),
    });
    return { path: file.path, sha256: file.sha256, seed, seconds };
  }

  /**
   * `runtime.memory` for this job. The components this service holds built now count as available: the job
   * either reuses them or releases them. `guidanceBytes`: the image prompt and control sessions (guidance-memory.ts),
   * needed by the job and, built by the runners before this choice, held now as well.
   */
  private chooseMemory(models: PipelineModels, request: GenerationRequest, base: CachedModel, refiner: CachedModel | undefined, guidanceBytes: number): MemoryChoice {
    const wanted = unionOfPhases(planJobComponents(models, request));
    const sum = (bytes: Record<CheckpointComponent, number> | undefined, components: readonly CheckpointComponent[]) => components.reduce((n, c) => n + (bytes?.[c] ?? 0), 0);
    const needed = sum(base.bytes, wanted.base) + sum(refiner?.bytes, wanted.refiner) + sum(this.vae?.bytes, wanted.vae) + guidanceBytes;
    const held = (): number => {
      let n = guidanceBytes;
      for (const c of this.cache) n += sum(c.bytes, (['unet', 'text', 'vae-decoder', 'vae-encoder'] as const).filter((k) => builtComponent(c.loaded, k)));
      return n;
    };
    const { family, unet } = base.model.architecture;
    const activations = estimateActivationBytes(family, request.width, request.height, unet?.modelChannels);
    return chooseMemoryMode(this.options.memory ?? 'auto', needed, () => measureAvailableMemory() + held(), activations);
  }

  /** The inpaint head (a few kB), read once per file. */
  private async loadInpaintHead(file: VerifiedModel, base: PipelineModel): Promise<InpaintHead> {
    if (this.inpaintHead?.sha256 !== file.sha256) this.inpaintHead = { sha256: file.sha256, head: await readInpaintHead(file.path, base.architecture.unet?.modelChannels ?? 0) };
    return this.inpaintHead.head;
  }

  /** Runs an upscaler model (built from its file once, then kept) over an image, in tiles. */
  async upscale(file: VerifiedModel & { name: string }, image: RgbImage, opts: { onProgress?: (p: ServiceProgress) => void; signal?: AbortSignal } = {}): Promise<RgbImage> {
    const report = opts.onProgress ?? (() => undefined);
    if (this.upscaler !== null && this.upscaler.sha256 !== file.sha256) {
      await this.upscaler.loaded.release();
      this.upscaler = null;
    }
    if (this.upscaler === null) {
      report({ phase: 'load', model: file.name, component: 'upscaler', message: `loading ${file.name}`, done: 0, total: 1 });
      this.upscaler = { sha256: file.sha256, loaded: await loadUpscaler(await readSafetensorsHeader(file.path), { runtime: this.options.runtime }) };
    }
    return upscaleImage(this.upscaler.loaded, image, {
      ...(opts.signal ? { signal: opts.signal } : {}),
      onTile: (done, total) => report({ phase: 'upscale', model: file.name, message: `upscaling with ${file.name}`, done, total }),
    });
  }

  /** Finds a region with a foreground-mask model (checked and built from its file once, then kept). */
  async detectForeground(file: VerifiedModel & { name: string }, image: RgbImage, query: RegionQuery, opts: { onProgress?: (p: ServiceProgress) => void; signal?: AbortSignal } = {}): Promise<RegionDetection> {
    if (this.foreground !== null && this.foreground.sha256 !== file.sha256) {
      await this.foreground.model.release();
      this.foreground = null;
    }
    if (this.foreground === null) {
      opts.onProgress?.({ phase: 'load', model: file.name, component: 'detector', message: `loading ${file.name}`, done: 0, total: 1 });
      this.foreground = { sha256: file.sha256, model: await ForegroundMaskModel.load(file.path, file.name, this.options.runtime) };
    }
    return this.foreground.model.detect(image, query, opts.signal);
  }

  /** Finds a region with GroundingDINO boxes and SAM masks (built from the verified files once, then kept). */
  async detectText(files: VerifiedTextDetectorFiles, image: RgbImage, query: RegionQuery, opts: { onProgress?: (p: ServiceProgress) => void; signal?: AbortSignal } = {}): Promise<RegionDetection> {
    const name = TEXT_DETECTOR_FILES.detector.name;
    const detector = await this.textDetector.acquire(files, () => opts.onProgress?.({ phase: 'load', model: name, component: 'detector', message: `loading ${name}`, done: 0, total: 1 }));
    return detector.detect(image, query, opts.signal);
  }

  /** Saves an upscaler's image as the request's result (Upscale (Fast 2x), or an upscale too large to diffuse). */
  async saveUpscaled(request: Omit<AppGenerationRequest, 'input'>, image: RgbImage): Promise<SavedImage> {
    return this.saveResult(request, image, request.seed, { encode: 0, sample: 0, decode: 0 });
  }

  /** The request's VAE (built from its file once, then kept), or undefined for the checkpoint's own. */
  private async loadVae(file: (VerifiedModel & { name: string }) | undefined, signal?: AbortSignal): Promise<LoadedVae | undefined> {
    if (this.vae !== null && this.vae.sha256 !== file?.sha256) {
      await this.vae.loaded.release();
      this.vae = null;
    }
    if (file === undefined) return undefined;
    if (this.vae === null) {
      const header = await readSafetensorsHeader(file.path);
      // Its decoder and encoder are built by the job's phases, like a checkpoint's.
      const loaded = await loadVae(header, { runtime: this.options.runtime, decoder: false, ...(signal ? { signal } : {}) });
      this.vae = { sha256: file.sha256, loaded, bytes: measureComponentBytes(header, { unet: null, textEncoders: [], vae: loaded.config }) };
    }
    return this.vae.loaded;
  }

  /**
   * Binds the request's LoRAs to the base model when they differ from the bound set. Only the values change
   * unless the set adapts weights the model's graphs have no slot for (then those graphs are rebuilt once).
   */
  private async applyLoras(entry: CachedModel, loras: readonly VerifiedLora[], report: (p: ServiceProgress) => void): Promise<void> {
    const key = loras.map((l) => `${l.sha256}@${l.weight}`).join('|');
    if (key === entry.loraKey) return;
    report({ phase: 'load', model: entry.model.name, component: 'loras', message: `loading the LoRAs into ${entry.model.name}`, done: 0, total: 1 });
    const files = [];
    for (const l of loras) files.push({ lora: await readLoraFile(l.path), weight: l.weight });
    try {
      const applied = await entry.loaded.applyLoras(files);
      this.lastLoraSwitch = { ...applied, loras: loras.map((l) => `${l.name}:${l.weight}`) };
    } catch (err) {
      // A LoRA that does not fit changes nothing; any other failure (a rebuild that failed half-way) may leave
      // released sessions behind, so the model is dropped and the next job loads it afresh.
      if (!(err instanceof LoraMismatchError)) await this.evictExcept(this.cache.filter((c) => c !== entry));
      throw err;
    }
    entry.loraKey = key;
    entry.model = preparePipelineModel(entry.model.name, entry.loaded, entry.tokenizer);
  }

  async close(): Promise<void> {
    await this.loadVae(undefined);
    await this.upscaler?.loaded.release();
    this.upscaler = null;
    await this.foreground?.model.release();
    this.foreground = null;
    await this.textDetector.release();
    await this.guidance.release();
    await this.evictExcept([]);
  }
}

function builtComponent(loaded: LoadedCheckpoint, component: CheckpointComponent): boolean {
  if (component === 'text') return loaded.textEncoders.length > 0;
  if (component === 'unet') return loaded.unet !== null;
  return (component === 'vae-decoder' ? loaded.vaeDecoder : loaded.vaeEncoder) !== null;
}
