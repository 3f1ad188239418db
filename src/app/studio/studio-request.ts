/**
 * What a queued generation job asks for, as the studio stores it: the user's choices before the creative layer
 * (styles, expansion, wildcards, presets, performance) turns them into engine requests, one image at a time.
 */
import type { ImageFormat } from '../../engine/index.ts';

export interface StudioJobRequest {
  prompt: string;
  negative: string;
  styles: string[];
  performance: string;
  width: number;
  height: number;
  imageCount: number;
  /** Decimal string, 0..2^63-1. */
  seed: string;
  model?: string;
  refiner?: string;
  refinerSwitch?: number;
  /** LoRAs chosen in the form (prompt tokens and presets add theirs when the request is composed). */
  loras?: { name: string; weight: number }[];
  steps?: number;
  cfg?: number;
  sharpness?: number;
  sampler?: string;
  scheduler?: string;
  format: ImageFormat;
  /** Image-to-image: an uploaded image (path relative to the outputs directory) and the denoise strength. */
  input?: { file: string; denoise: number };
}
