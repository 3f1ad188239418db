/**
 * What every image describer offers (the WD14 tagger, the BLIP captioner): an image in, a prompt-ready text out.
 * The app keeps one loaded describer per type and releases it like any other loaded component.
 */
import type { RgbImage } from '../rgb-image.ts';

/** One tag a tagger kept, with its score (0..1) and the category its tag list gives it. */
export interface DescribedTag {
  name: string;
  score: number;
  category: 'general' | 'character';
}

export interface ImageDescription {
  /** Ready to use as a prompt. */
  text: string;
  /** Taggers only: the tags behind `text`, in the order `text` lists them. */
  tags?: DescribedTag[];
}

export interface DescribeProgress {
  /** `prepare` (resize and pad), `run` (the model), `decode` (scores or tokens to text). */
  phase: 'prepare' | 'run' | 'decode';
  /** Steps done of `total` within the phase (a captioner's tokens); 1 of 1 for single-step phases. */
  step: number;
  total: number;
}

export interface DescribeOptions {
  /** Cancels before the next model run starts (a run in flight finishes; see ModelSession). */
  signal?: AbortSignal;
  onProgress?(progress: DescribeProgress): void;
}

export interface ImageDescriber {
  describe(image: RgbImage, options?: DescribeOptions): Promise<ImageDescription>;
  /** Frees the loaded model; the describer is unusable afterwards. */
  release(): Promise<void>;
}
