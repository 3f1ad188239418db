/**
 * The seam Enhance finds regions through: a detector takes an image and a detection prompt ("face", "hand",
 * "background") and returns one mask (white = the region, the union of everything it found) with how many regions
 * went into it. The foreground-mask models answer "background" and "person"/"foreground" without reading text;
 * a text-conditioned box detector followed by a box-to-mask segmenter answers any prompt through the same shape.
 */
import type { GreyMask } from '../inpaint/inpaint-settings.ts';
import type { RgbImage } from '../rgb-image.ts';

/** What a tab asks for. The thresholds and the cap are the box detector's; a foreground model reads the prompt only. */
export interface RegionQuery {
  prompt: string;
  /** Lowest box score kept (GroundingDINO's box threshold). */
  boxThreshold: number;
  /** Lowest token score for a phrase to label a box (GroundingDINO's text threshold). */
  textThreshold: number;
  /** Most regions merged into the mask, best first; 0 = no limit. */
  maxDetections: number;
}

export interface RegionDetection {
  /** The image's size; 255 inside a found region, 0 elsewhere (the union of the regions). */
  mask: GreyMask;
  /** Regions merged into the mask: 0 when nothing was found. */
  regions: number;
}

export interface RegionDetector {
  /** A name for progress and errors (the model file). */
  readonly name: string;
  detect(image: RgbImage, query: RegionQuery, signal?: AbortSignal): Promise<RegionDetection>;
  release(): Promise<void>;
}
