/**
 * The application's generation request: the engine's request plus the verified files it runs with and what the
 * saved image's metadata records. Its own module so the service and the steps that build or describe a request
 * share it without importing the service.
 */
import type { GenerationRequest, ImageFormat, InputImageParameters } from '../../engine/index.ts';
import type { MetadataSchemeName } from '../outputs/output-writer.ts';
import type { ControlFiles } from './control-runner.ts';
import type { ImagePromptInputs } from './image-prompt-runner.ts';

/** A checkpoint the store has verified: where it is and what its bytes hash to. */
export interface VerifiedModel {
  path: string;
  sha256: string;
}

/** A LoRA file the store has verified, with the strength to apply it at. */
export interface VerifiedLora extends VerifiedModel {
  name: string;
  weight: number;
}

export interface AppGenerationRequest extends GenerationRequest {
  model: VerifiedModel;
  refiner?: VerifiedModel;
  /** A VAE file that decodes (and encodes input images) instead of the base checkpoint's own. */
  vae?: VerifiedModel & { name: string };
  /** Applied to the base model's UNet and text encoders, in order. */
  loras?: VerifiedLora[];
  /** Fooocus's inpaint head and patch (the fooocus-v2.6 inpaint engine): the base UNet is built with the patch. */
  inpaintFiles?: { head: VerifiedModel; patch: VerifiedModel };
  /** The prompt and negative prompt as typed (before splitting into parts), for the metadata. */
  rawPrompt: string;
  rawNegativePrompt: string;
  /** The expansion part the prompt was encoded with ('' when expansion was off), for the metadata. */
  promptExpansion?: string;
  styles: string[];
  performance?: string;
  /** The job the images are for: its id marks their file names (see SaveImageOptions.jobTag). */
  jobTag?: string;
  format: ImageFormat;
  scheme: MetadataSchemeName;
  /** IP-Adapter image prompts (Image Prompt, FaceSwap): their files and images; encoded into `imagePrompts` here. */
  imagePromptInputs?: ImagePromptInputs;
  /** The control-LoRA file of each control type in `controls` (PyraCanny, CPDS). */
  controlFiles?: ControlFiles;
  /** The Input Image mode and its parameters as the metadata records them (input-image-description.ts). */
  inputImage?: InputImageParameters;
}
