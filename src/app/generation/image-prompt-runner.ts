/**
 * Runs a job's IP-Adapter image prompts for the generation service: one encoder per adapter file, the face
 * detector for FaceSwap, and each image encoded into the keys and values the UNet takes (the UNet built with
 * their inputs is the service's, guided-unet-cache.ts).
 */
import {
  cropFaceForFaceSwap,
  FaceDetector,
  ipAdapterLayerOrder,
  loadImagePromptEncoder,
  readSafetensorsHeader,
  type AdapterPromptType,
  type CheckpointArchitecture,
  type ImagePromptEmbedding,
  type ImagePromptEncoder,
  type RgbImage,
  type RuntimeOptions,
  type UnetGraphOptions,
  type WeightedLora,
} from '../../engine/index.ts';

export interface VerifiedFile {
  path: string;
  sha256: string;
}

/** A job's IP-Adapter image prompts: their verified files and decoded images. */
export interface ImagePromptInputs {
  visionEncoder: VerifiedFile;
  negative: VerifiedFile;
  adapters: Partial<Record<AdapterPromptType, VerifiedFile>>;
  faceDetector?: VerifiedFile;
  images: { image: RgbImage; type: AdapterPromptType; stopAt: number; weight: number; field: string }[];
}

/** The base model as the service holds it: its file, what it is, and how its UNet is built. */
export interface ImagePromptBase {
  key: string;
  path: string;
  architecture: CheckpointArchitecture;
  unetOptions?: UnetGraphOptions;
  loras: readonly WeightedLora[];
  loraKey: string;
}

export class ImagePromptRunner {
  private encoders = new Map<string, ImagePromptEncoder>();
  private detector: { sha256: string; detector: FaceDetector } | null = null;

  constructor(private readonly runtime: RuntimeOptions) {}

  async prepare(base: ImagePromptBase, inputs: ImagePromptInputs): Promise<ImagePromptEmbedding[]> {
    const architecture = base.architecture.unet!;
    const header = await readSafetensorsHeader(base.path);
    const widths = ipAdapterLayerOrder(architecture).map((prefix) => header.tensors.get(`${prefix}to_q.weight`)?.shape[0] ?? 0);
    const prompts: ImagePromptEmbedding[] = [];
    for (const item of inputs.images) {
      const adapter = inputs.adapters[item.type];
      if (adapter === undefined) throw new Error(`${item.field}: no ${item.type} adapter was verified for this job`);
      const key = `${inputs.visionEncoder.sha256}|${adapter.sha256}|${inputs.negative.sha256}|${base.key}`;
      let encoder = this.encoders.get(key);
      if (encoder === undefined) {
        encoder = await loadImagePromptEncoder({ visionEncoder: inputs.visionEncoder.path, adapter: adapter.path, negative: inputs.negative.path }, architecture, widths, { runtime: this.runtime });
        this.encoders.set(key, encoder);
      }
      const image = item.type === 'FaceSwap' ? await cropFaceForFaceSwap(await this.loadDetector(inputs, item.field), item.image, item.field) : item.image;
      prompts.push(await encoder.encode(image, item.type, { stopAt: item.stopAt, weight: item.weight }));
    }
    return prompts;
  }

  private async loadDetector(inputs: ImagePromptInputs, field: string): Promise<FaceDetector> {
    const file = inputs.faceDetector;
    if (file === undefined) throw new Error(`${field}: FaceSwap needs the face detector, which was not verified for this job`);
    if (this.detector?.sha256 !== file.sha256) {
      await this.detector?.detector.release();
      this.detector = { sha256: file.sha256, detector: await FaceDetector.load(await readSafetensorsHeader(file.path), this.runtime) };
    }
    return this.detector.detector;
  }

  async release(): Promise<void> {
    for (const e of this.encoders.values()) await e.release();
    this.encoders.clear();
    await this.detector?.detector.release();
    this.detector = null;
  }
}
