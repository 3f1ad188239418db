/**
 * Text-prompted box detection with GroundingDINO (Liu et al. 2023), for Enhance's region prompts: `load` reads a
 * transformers-layout checkpoint (weights stay in the file, read in place), `detect` returns the boxes of an
 * image that match a prompt of "."-separated phrases, in that image's pixels, best first.
 *
 * The graph depends on the input size (Swin windows, proposals), so a session is built per size and the last
 * one kept: repeated detections on same-sized images (Enhance's tabs) reuse it.
 */
import path from 'node:path';
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import type { SafetensorsHeader } from '../io/safetensors-types.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import type { RgbImage } from '../rgb-image.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { Tensor } from '../tensor.ts';
import { decodeGroundedBoxes, DEFAULT_GROUNDING_THRESHOLDS, type GroundedBox, type GroundingThresholds } from './grounding-dino-boxes.ts';
import { buildGroundingDinoGraph } from './grounding-dino-graph.ts';
import { preprocessGroundingImage } from './grounding-dino-image.ts';
import { detectGroundingDinoLayout, type GroundingDinoLayout } from './grounding-dino-layout.ts';
import { buildPhraseMasks, encodeGroundingPrompt, readPhraseDelimiters, type GroundingTokenizer, type PhraseDelimiters } from './grounding-dino-text.ts';

export type { GroundedBox, GroundingThresholds } from './grounding-dino-boxes.ts';

/** Raw outputs for one prompt: logits [K, T], boxes [K, 4] (cx, cy, w, h relative), and the prompt's ids. */
export interface GroundingRawOutputs {
  logits: Tensor;
  boxes: Tensor;
  ids: number[];
}

export class GroundingDino {
  private session: { key: string; value: ModelSession } | null = null;

  private constructor(
    private readonly header: SafetensorsHeader,
    private readonly layout: GroundingDinoLayout,
    private readonly tokenizer: GroundingTokenizer,
    private readonly delimiters: PhraseDelimiters,
    private readonly options: RuntimeOptions,
  ) {}

  /** Checks the file's layout (a file of another family is refused by name) and the vocabulary's delimiters. */
  static async load(file: string, tokenizer: GroundingTokenizer, options: RuntimeOptions = {}, vocabularyFile = 'vocab.txt'): Promise<GroundingDino> {
    const header = await readSafetensorsHeader(file);
    const layout = detectGroundingDinoLayout(header);
    return new GroundingDino(header, layout, tokenizer, readPhraseDelimiters(tokenizer, vocabularyFile), options);
  }

  /** The network's outputs for `image` and `prompt` (for tests and tools); `detect` decodes them. */
  async run(image: RgbImage, prompt: string): Promise<GroundingRawOutputs> {
    const pixels = preprocessGroundingImage(image);
    const ids = encodeGroundingPrompt(this.tokenizer, this.delimiters, prompt);
    const { attention, positions } = buildPhraseMasks(ids, this.delimiters);
    const T = ids.length;
    const session = await this.sessionFor(pixels.dims[2]!, pixels.dims[3]!);
    const out = await session.run({
      pixel_values: pixels,
      input_ids: { dims: [1, T], data: BigInt64Array.from(ids, BigInt) },
      position_ids: { dims: [1, T], data: BigInt64Array.from(positions, BigInt) },
      text_attention: { dims: [1, T, T], data: Float32Array.from(attention) },
    });
    return { logits: out.logits!, boxes: out.boxes!, ids };
  }

  /** Boxes matching `prompt` (box threshold 0.3, text threshold 0.25 unless given), in `image`'s pixels. */
  async detect(image: RgbImage, prompt: string, thresholds: Partial<GroundingThresholds> = {}): Promise<GroundedBox[]> {
    const raw = await this.run(image, prompt);
    const [, queries, tokens] = raw.logits.dims as [number, number, number];
    return decodeGroundedBoxes(
      { logits: raw.logits.data, boxes: raw.boxes.data, queries, tokens },
      raw.ids,
      this.tokenizer,
      this.delimiters,
      { width: image.width, height: image.height },
      { ...DEFAULT_GROUNDING_THRESHOLDS, ...thresholds },
    );
  }

  private async sessionFor(height: number, width: number): Promise<ModelSession> {
    const key = `${height}x${width}`;
    if (this.session?.key === key) return this.session.value;
    await this.release();
    const model = buildGroundingDinoGraph(this.header, this.layout, height, width);
    const value = await createModelSession(encodeOnnxModel(model), path.dirname(this.header.file), this.options);
    this.session = { key, value };
    return value;
  }

  async release(): Promise<void> {
    const open = this.session;
    this.session = null;
    if (open !== null) await open.value.release();
  }
}

/** Loads a GroundingDINO checkpoint with the BERT vocabulary it was trained with. */
export function loadGroundingDino(file: string, tokenizer: GroundingTokenizer, options: RuntimeOptions = {}): Promise<GroundingDino> {
  return GroundingDino.load(file, tokenizer, options);
}
