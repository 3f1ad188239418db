/**
 * The text-conditioned RegionDetector: GroundingDINO finds boxes for the detection prompt (box and text
 * thresholds), Segment Anything turns each box into a mask (small holes filled, as Fooocus's Enhance does with
 * `remove_small_regions(mask, 400, "holes")`), and the first `maxDetections` masks (0: all), in the detector's
 * order, are merged into one. Nothing found (no box, or no mask pixel) is 0 regions.
 */
import type { GreyMask } from '../inpaint/inpaint-settings.ts';
import type { RgbImage } from '../rgb-image.ts';
import type { GroundedBox, GroundingThresholds } from '../detect/grounding-dino-boxes.ts';
import type { RegionDetection, RegionDetector, RegionQuery } from './region-detector.ts';
import type { SegmentedMask, SegmentOptions } from './segmenter.ts';
import type { SamBox } from './sam-image-frame.ts';

/** Fooocus fills holes under this many pixels in each SAM mask. */
export const ENHANCE_HOLE_AREA = 400;

/** What finds boxes for a prompt (GroundingDino). */
export interface BoxFinder {
  detect(image: RgbImage, prompt: string, thresholds?: Partial<GroundingThresholds>): Promise<GroundedBox[]>;
  release(): Promise<void>;
}

/** What turns boxes into masks (Segmenter). */
export interface BoxSegmenter {
  segmentBoxes(image: RgbImage, boxes: readonly SamBox[], options?: SegmentOptions, signal?: AbortSignal): Promise<SegmentedMask[]>;
  release(): Promise<void>;
}

/** The union of 0/1 masks as a 0/255 mask of the image's size. */
export function mergeSegmentedMasks(masks: readonly SegmentedMask[], width: number, height: number): GreyMask {
  const data = new Uint8Array(width * height);
  for (const m of masks) {
    if (m.width !== width || m.height !== height) throw new Error(`a ${m.width}x${m.height} mask for a ${width}x${height} image`);
    for (let i = 0; i < data.length; i++) if (m.mask[i] !== 0) data[i] = 255;
  }
  return { width, height, data };
}

export class TextRegionDetector implements RegionDetector {
  constructor(
    readonly name: string,
    private readonly boxes: BoxFinder,
    private readonly segmenter: BoxSegmenter,
  ) {}

  async detect(image: RgbImage, query: RegionQuery, signal?: AbortSignal): Promise<RegionDetection> {
    const found = await this.boxes.detect(image, query.prompt, { boxThreshold: query.boxThreshold, textThreshold: query.textThreshold });
    const kept = query.maxDetections > 0 ? found.slice(0, query.maxDetections) : found;
    const empty = { mask: { width: image.width, height: image.height, data: new Uint8Array(image.width * image.height) }, regions: 0 };
    if (kept.length === 0) return empty;
    const masks = await this.segmenter.segmentBoxes(image, kept.map((b) => b.box), { fillHolesBelow: ENHANCE_HOLE_AREA }, signal);
    const applied = masks.filter((m) => m.mask.some((v) => v !== 0));
    if (applied.length === 0) return empty;
    return { mask: mergeSegmentedMasks(applied, image.width, image.height), regions: applied.length };
  }

  async release(): Promise<void> {
    await this.boxes.release();
    await this.segmenter.release();
  }
}
