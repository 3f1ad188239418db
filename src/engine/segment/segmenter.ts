/**
 * Masks from boxes with Segment Anything: the image is encoded once, then every box runs through the prompt
 * encoder and mask decoder against that one embedding. As SAM's predictor does for box prompts (and Fooocus's
 * Enhance asks it), a box gives the single-mask output (mask token 0); `multimask` instead picks the best-scoring
 * of the three multimask candidates, the predictor's choice for an ambiguous prompt.
 */
import path from 'node:path';
import { buildSamImageEncoderGraph } from '../graphs/sam-image-encoder.ts';
import { buildSamMaskDecoderGraph } from '../graphs/sam-mask-decoder.ts';
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import { FooocusError } from '../errors/fooocus-error.ts';
import type { RgbImage } from '../rgb-image.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import { createTensor, type Tensor } from '../tensor.ts';
import { fillSmallHoles } from './mask-holes.ts';
import { computeSamFrame, logitsToImage, mapBoxToFrame, toSamEncoderInput, type SamBox, type SamFrame } from './sam-image-frame.ts';
import { detectSamLayout, SAM_PROFILE, type SamLayout } from './sam-layout.ts';

/** A box that is not four finite numbers with x1 <= x2 and y1 <= y2. */
export class InvalidBoxError extends FooocusError {
  constructor(index: number, detail: string) {
    super('invalid', `boxes[${index}]: ${detail}`, { field: `boxes[${index}]`, rule: 'box' });
  }
}

/** An image with no pixels, or whose bytes do not fill its size. */
export class SegmentImageError extends FooocusError {
  constructor(detail: string) {
    super('invalid', `image: ${detail}`, { field: 'image', rule: 'rgb-image' });
  }
}

/** An image encoded once, for any number of boxes. */
export interface SamImageEmbedding {
  frame: SamFrame;
  /** [1, 256, G, G] */
  embedding: Tensor;
}

export interface SegmentedMask {
  /** The box, in image pixels, that gave this mask. */
  box: SamBox;
  width: number;
  height: number;
  /** 1 inside the mask, 0 outside, row-major [height, width]. */
  mask: Uint8Array;
  /** The decoder's predicted IoU for the chosen mask. */
  iou: number;
}

export interface SegmentOptions {
  /** Pick the best of the three multimask candidates instead of the single mask (default false, as for boxes). */
  multimask?: boolean;
  /**
   * Fill every region outside the mask smaller than this many pixels (8-connected; default 0: none). Fooocus's
   * Enhance fills below `FOOOCUS_SAM_HOLE_AREA` (400).
   */
  fillHolesBelow?: number;
}

export class Segmenter {
  private constructor(
    readonly name: string,
    readonly layout: SamLayout,
    private readonly encoder: ModelSession,
    private readonly decoder: ModelSession,
  ) {}

  /** Builds both graphs from the file's tensors (weights read in place) and opens their sessions. */
  static async load(header: SafetensorsHeader, runtime: RuntimeOptions = {}): Promise<Segmenter> {
    const layout = detectSamLayout(header);
    const dir = path.dirname(path.resolve(header.file));
    const options = { ...runtime, optimization: runtime.optimization ?? 'all' } as const;
    const encoder = await createModelSession(encodeOnnxModel(buildSamImageEncoderGraph(header, layout.vision)), dir, options);
    try {
      const decoderModel = buildSamMaskDecoderGraph(header, layout.decoder, layout.vision.grid, layout.vision.imageSize);
      const decoder = await createModelSession(encodeOnnxModel(decoderModel), dir, options);
      return new Segmenter(path.basename(header.file), layout, encoder, decoder);
    } catch (error) {
      await encoder.release();
      throw error;
    }
  }

  /** 1. The image embedding, computed once per image. */
  async encodeImage(image: RgbImage, signal?: AbortSignal): Promise<SamImageEmbedding> {
    const { width, height, rgb } = image;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new SegmentImageError(`${width}x${height} is not a size of at least 1x1`);
    if (rgb.length !== width * height * 3) throw new SegmentImageError(`${rgb.length} bytes for ${width}x${height} RGB (${width * height * 3} expected)`);
    const frame = computeSamFrame(image.width, image.height, this.layout.vision.imageSize);
    const out = await this.encoder.run({ pixel_values: toSamEncoderInput(image, frame) }, signal);
    return { frame, embedding: out.image_embeddings! };
  }

  /** 2. The raw decoder outputs for boxes in frame pixels: logits [N, M, 4G, 4G] and IoU [N, M]. */
  async decodeFrameBoxes(embedding: Tensor, frameBoxes: readonly (readonly number[])[], signal?: AbortSignal): Promise<{ masks: Tensor; iou: Tensor }> {
    const boxes = createTensor([frameBoxes.length, 4], Float32Array.from(frameBoxes.flat()));
    const out = await this.decoder.run({ image_embeddings: embedding, boxes }, signal);
    return { masks: out.masks!, iou: out.iou! };
  }

  /** 3. One mask per box, at the image's size. */
  async segmentEmbedded(embedded: SamImageEmbedding, boxes: readonly SamBox[], options: SegmentOptions = {}, signal?: AbortSignal): Promise<SegmentedMask[]> {
    const { frame } = embedded;
    boxes.forEach((box, i) => checkBox(box, i));
    const results: SegmentedMask[] = [];
    for (const box of boxes) {
      const { masks, iou } = await this.decodeFrameBoxes(embedded.embedding, [mapBoxToFrame(box, frame)], signal);
      const [, count, side] = masks.dims as [number, number, number, number];
      const pick = chooseMask(iou.data, count, options.multimask === true);
      const logits = logitsToImage(masks.data.subarray(pick * side * side, (pick + 1) * side * side), side, frame);
      let mask: Uint8Array = new Uint8Array(logits.length);
      for (let i = 0; i < logits.length; i++) mask[i] = logits[i]! > SAM_PROFILE.maskThreshold ? 1 : 0;
      if ((options.fillHolesBelow ?? 0) > 0) mask = fillSmallHoles(mask, frame.width, frame.height, options.fillHolesBelow!);
      results.push({ box, width: frame.width, height: frame.height, mask, iou: iou.data[pick]! });
    }
    return results;
  }

  /** Encodes the image once and returns one mask per box (image pixels, x1 y1 x2 y2). */
  async segmentBoxes(image: RgbImage, boxes: readonly SamBox[], options: SegmentOptions = {}, signal?: AbortSignal): Promise<SegmentedMask[]> {
    boxes.forEach((box, i) => checkBox(box, i));
    if (boxes.length === 0) return [];
    return this.segmentEmbedded(await this.encodeImage(image, signal), boxes, options, signal);
  }

  async release(): Promise<void> {
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}

/** Index of the mask to keep: 0 (single mask), or the highest predicted IoU among 1..M-1 (multimask). */
export function chooseMask(iou: ArrayLike<number>, count: number, multimask: boolean): number {
  if (!multimask || count < 2) return 0;
  let best = 1;
  for (let i = 2; i < count; i++) if (iou[i]! > iou[best]!) best = i;
  return best;
}

/**
 * A box may reach past the image (Fooocus dilates detected boxes without clipping them; SAM's position encoding
 * takes any coordinate), but must be four finite numbers, top-left before bottom-right.
 */
function checkBox(box: SamBox, index: number): void {
  if (box.length !== 4 || !box.every(Number.isFinite)) throw new InvalidBoxError(index, 'must be four finite numbers x1, y1, x2, y2');
  const [x1, y1, x2, y2] = box;
  if (x1 > x2 || y1 > y2) throw new InvalidBoxError(index, `[${box.join(', ')}] has x1 > x2 or y1 > y2`);
}

/** Reads a Segment Anything `.safetensors` file and opens it; another family's file is refused, naming the file. */
export async function loadSegmenter(file: string, runtime: RuntimeOptions = {}): Promise<Segmenter> {
  return Segmenter.load(await readSafetensorsHeader(file), runtime);
}
