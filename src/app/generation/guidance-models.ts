/**
 * The guidance models of the generation service's jobs: the IP-Adapter runner (image prompts), the control runner
 * (PyraCanny, CPDS) and the base UNet built with their inputs (guided-unet-cache.ts), each made on a job's first
 * need and kept for the next jobs. A plain job uses none of them and costs nothing here.
 */
import { readInpaintPatch, readLoraFile, readSafetensorsHeader, type CheckpointArchitecture, type GenerationRequest, type ImagePromptEmbedding, type PipelineControls, type PipelineModels, type RuntimeOptions } from '../../engine/index.ts';
import { ControlRunner, type ControlFiles } from './control-runner.ts';
import { measureGuidanceBytes } from './guidance-memory.ts';
import { GuidedUnetCache } from './guided-unet-cache.ts';
import { ImagePromptRunner, type ImagePromptBase, type ImagePromptInputs, type VerifiedFile } from './image-prompt-runner.ts';

/** The base model as the service holds it: its cache key, the key of the LoRA set bound now, what it is. */
export interface GuidanceBase {
  key: string;
  loraKey: string;
  architecture: CheckpointArchitecture;
}

/** What a job asks of its guidance: the base checkpoint's file, patch and LoRAs, its image prompts and controls. */
export interface GuidanceRequest extends Pick<GenerationRequest, 'controls'> {
  model: VerifiedFile;
  inpaintFiles?: { patch: VerifiedFile };
  loras?: readonly { path: string; weight: number }[];
  imagePromptInputs?: ImagePromptInputs;
  controlFiles?: ControlFiles;
}

/** A job's guidance as the pipeline takes it: the guided UNet and ControlNets, and the encoded image prompts. */
export interface PreparedGuidance {
  models: Pick<PipelineModels, 'imagePromptUnet' | 'controls'>;
  prompts?: ImagePromptEmbedding[];
}

export class GuidanceModels {
  private imagePromptRunner: ImagePromptRunner | null = null;
  private controlRunner: ControlRunner | null = null;
  /** The base UNet built with the guidance inputs of the latest guided job, for both kinds of image prompt. */
  readonly unets: GuidedUnetCache;

  constructor(private readonly runtime: RuntimeOptions) {
    this.unets = new GuidedUnetCache(runtime);
  }

  /**
   * The job's image prompts encoded, the ControlNets of its control types, and one base UNet built with the
   * inputs of both kinds the job has (same patch and LoRAs as the base's), which serves every guided step.
   */
  async prepare(base: GuidanceBase, request: GuidanceRequest): Promise<PreparedGuidance> {
    const controlTypes = (request.controls ?? []).map((c) => c.type);
    const inputs = { imagePrompts: request.imagePromptInputs !== undefined, controlResiduals: controlTypes.length > 0 };
    if (!inputs.imagePrompts && !inputs.controlResiduals) return { models: {} };
    const described = await describeBase(base, request);
    const unet = await this.unets.get(described, inputs);
    let prompts: ImagePromptEmbedding[] | undefined;
    if (request.imagePromptInputs !== undefined) {
      this.imagePromptRunner ??= new ImagePromptRunner(this.runtime);
      prompts = await this.imagePromptRunner.prepare(described, request.imagePromptInputs);
    }
    let controls: PipelineControls | undefined;
    if (inputs.controlResiduals) {
      this.controlRunner ??= new ControlRunner(this.runtime);
      const nets = await this.controlRunner.prepare(described, request.controlFiles ?? {}, controlTypes);
      controls = { unet, ...(inputs.imagePrompts ? { unetWithImagePrompts: unet } : {}), nets };
    }
    return { models: { ...(inputs.imagePrompts ? { imagePromptUnet: unet } : {}), ...(controls ? { controls } : {}) }, ...(prompts ? { prompts } : {}) };
  }

  /** fp32 bytes of the job's image prompt and control sessions, from the files' headers (0 for a plain job). */
  async measureBytes(base: GuidanceBase, request: GuidanceRequest): Promise<number> {
    const ip = request.imagePromptInputs;
    const imagePromptFiles = ip === undefined ? [] : [ip.visionEncoder, ip.negative, ...Object.values(ip.adapters), ...(ip.faceDetector ? [ip.faceDetector] : [])];
    const controlFiles = [...new Set((request.controls ?? []).map((c) => c.type))].flatMap((t) => request.controlFiles?.[t] ?? []);
    const unetPrefix = base.architecture.unet?.prefix;
    if (unetPrefix === undefined) return 0;
    return measureGuidanceBytes({ base: { path: request.model.path, unetPrefix }, imagePromptFiles, controlFiles });
  }

  async release(): Promise<void> {
    await this.imagePromptRunner?.release();
    this.imagePromptRunner = null;
    await this.controlRunner?.release();
    this.controlRunner = null;
    await this.unets.release();
  }
}

/** The base model as the image prompt and control UNets are built from it: its file, patch and LoRAs. */
async function describeBase(base: GuidanceBase, request: GuidanceRequest): Promise<ImagePromptBase> {
  const header = await readSafetensorsHeader(request.model.path);
  const patch = request.inpaintFiles?.patch;
  const loras = [];
  for (const l of request.loras ?? []) loras.push({ lora: await readLoraFile(l.path), weight: l.weight });
  return {
    key: base.key,
    path: request.model.path,
    architecture: base.architecture,
    ...(patch === undefined ? {} : { unetOptions: { weightPatches: await readInpaintPatch(patch.path, header, base.architecture), inpaintFeature: true } }),
    loras,
    loraKey: base.loraKey,
  };
}
