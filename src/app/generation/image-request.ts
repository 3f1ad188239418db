/**
 * The application's generation request: what the job queue stores (as JSON), what the inference process receives
 * unchanged, and what `fooocus generate` builds from its options. It holds the user's choices with the defaults
 * resolved once, at submit (size, seed, performance, format, model); the creative layer turns it into one engine
 * request per image (generate-images.ts).
 *
 * Adding a field: the HTTP schema (server/schemas/generate-request-schema.ts), this type, the engine's
 * GenerationRequest, and the use case that maps one to the other; see ARCHITECTURE.md.
 *
 * Its field names are those the history database has always stored, so history written by earlier versions
 * still loads and can be reused.
 */
import { FooocusError, type ImageFormat, type RefinerSwitchMethod } from '../../engine/index.ts';
import type { MetadataSchemeName } from '../outputs/output-writer.ts';

export interface ImageRequest {
  prompt: string;
  negative: string;
  /** Style names as the library spells them, the expansion and Random Style switches included. */
  styles: string[];
  performance: string;
  width: number;
  height: number;
  imageCount: number;
  /** Decimal string, 0..2^63-1; image i uses seed + i (unless `seedIncrement` is false). */
  seed: string;
  /** A preset (data/presets) whose settings lie under the explicit choices below. */
  preset?: string;
  /** Checkpoint file name in the model store (a catalog id is mapped to its file at submit). */
  model?: string;
  /** Refiner checkpoint; null drops the preset's refiner. */
  refiner?: string | null;
  refinerSwitch?: number;
  /** How the refiner takes over (the engine's default, joint, when absent). */
  refinerSwitchMethod?: RefinerSwitchMethod;
  /** VAE file name in the model store (`vae` kind) that decodes instead of the checkpoint's own; absent: the checkpoint's. */
  vae?: string;
  /** LoRAs chosen explicitly (prompt tokens, the preset and the performance mode add theirs per image). */
  loras?: { name: string; weight: number }[];
  /** Overrides the performance mode's step count (Fooocus's "overwrite step"). */
  steps?: number;
  cfg?: number;
  sharpness?: number;
  adaptiveCfg?: number;
  sampler?: string;
  scheduler?: string;
  clipSkip?: number;
  /** Fooocus ADM guidance (SDXL): positive and negative scale, and the fraction of the steps it lasts. */
  admScalers?: { positive: number; negative: number; end: number };
  /** false: every image of the batch uses `seed` (Fooocus's "disable seed increment"); otherwise image i uses seed + i. */
  seedIncrement?: boolean;
  format: ImageFormat;
  /** Metadata scheme written into the image (default fooocus). */
  metadataScheme?: MetadataSchemeName;
  /**
   * Image-to-image: the input image and the denoise strength. `file` is relative to the outputs directory for
   * uploads (the server), or a path the CLI user gave.
   */
  input?: { file: string; denoise: number };
}

/**
 * A request the installed models, styles or rules do not allow. `field` names the request field at fault
 * (`model`, `loras[0].name`, `performance`), `rule` what it broke (`installed`, `known`, `range`, `required`).
 */
export class ImageRequestError extends FooocusError {
  declare readonly field: string;
  declare readonly rule: string;

  constructor(field: string, rule: string, message: string) {
    super('invalid', message, { field, rule });
  }
}
