/**
 * The "Photograph" describer: a BLIP captioner (Li et al. 2022) run as Fooocus runs it. The image is encoded once,
 * its cross-attention keys and values projected once, then the decoder writes the caption token by token from
 * `[DEC] a picture of` (the prompt BLIP's captioning checkpoints were fine-tuned with; it is left out of the text),
 * reusing its key/value cache, until `[SEP]` or 75 tokens in all.
 */
import path from 'node:path';
import { buildBlipImageMemoryGraph, buildBlipTextStepGraph, pastNames, presentNames } from '../graphs/blip-text-decoder.ts';
import { buildBlipVisionGraph } from '../graphs/blip-vision.ts';
import { readSafetensorsHeader } from '../io/safetensors-reader.ts';
import { encodeOnnxModel } from '../onnx/onnx-proto.ts';
import type { RgbImage } from '../rgb-image.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import type { Int64Tensor, Tensor } from '../tensor.ts';
import { VocabularyFormatError, WordPieceTokenizer } from '../text/word-piece.ts';
import { detectBlipLayout, type BlipConfig } from './blip-layout.ts';
import { preprocessBlipImage } from './blip-image-preprocess.ts';
import { createTokenChooser, type CaptionDecodingOptions } from './caption-decoding.ts';
import type { DescribeOptions, ImageDescriber, ImageDescription } from './image-describer.ts';

export const CAPTION_PROMPT = 'a picture of ';
/** BLIP's tokenizer appends `[DEC]` (the decoder's start token) right after the BERT vocabulary. */
const START_TOKEN = '[DEC]';
const END_TOKEN = '[SEP]';
export const CAPTION_DEFAULTS = { mode: 'greedy', seed: 0, maxLength: 75, minLength: 10 } as const satisfies CaptionDecodingOptions;

export interface CaptionOptions extends Partial<CaptionDecodingOptions>, DescribeOptions {
  /**
   * Re-run the decoder over the whole sequence for every token instead of reusing its key/value cache. Same
   * caption; kept so the benchmark can measure what the cache saves.
   */
  recompute?: boolean;
}

export interface BlipFiles {
  /** The model (.safetensors, transformers' layout). */
  model: string;
  /** Its WordPiece vocabulary (`vocab.txt`, bert-base-uncased's). */
  vocabulary: string;
}

export class BlipCaptioner implements ImageDescriber {
  private constructor(
    readonly config: BlipConfig,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly vision: ModelSession,
    private readonly memory: ModelSession,
    private readonly step: ModelSession,
    private readonly startId: number,
    private readonly endId: number,
  ) {}

  /** Checks both files, then builds the three graphs (`headWidth`: tiny test models only). */
  static async load(files: BlipFiles, runtime: RuntimeOptions = {}, { headWidth }: { headWidth?: number } = {}): Promise<BlipCaptioner> {
    const header = await readSafetensorsHeader(files.model);
    const config = detectBlipLayout(header, headWidth === undefined ? {} : { headWidth });
    const tokenizer = await WordPieceTokenizer.fromFile(files.vocabulary);
    const startId = tokenizer.idOf(START_TOKEN) ?? tokenizer.vocabSize;
    const endId = tokenizer.idOf(END_TOKEN);
    if (endId === undefined) throw new VocabularyFormatError(files.vocabulary, `it has no ${END_TOKEN} entry`);
    if (startId >= config.text.vocabSize || tokenizer.vocabSize > config.text.vocabSize) {
      throw new VocabularyFormatError(files.vocabulary, `its ${tokenizer.vocabSize} entries and ${START_TOKEN} do not fit the ${config.text.vocabSize} token ids of ${path.basename(files.model)}`);
    }
    const weightsDir = path.dirname(files.model);
    const sessions: ModelSession[] = [];
    try {
      for (const model of [buildBlipVisionGraph(header, config.vision), buildBlipImageMemoryGraph(header, config.text), buildBlipTextStepGraph(header, config.text)]) {
        sessions.push(await createModelSession(encodeOnnxModel(model), weightsDir, runtime));
      }
    } catch (error) {
      await Promise.all(sessions.map((s) => s.release()));
      throw error;
    }
    const [vision, memory, step] = sessions as [ModelSession, ModelSession, ModelSession];
    return new BlipCaptioner(config, tokenizer, vision, memory, step, startId, endId);
  }

  /** A caption for `image`, without the prompt. */
  async caption(image: RgbImage, options: CaptionOptions = {}): Promise<string> {
    const decoding: CaptionDecodingOptions = {
      mode: options.mode ?? CAPTION_DEFAULTS.mode,
      seed: options.seed ?? CAPTION_DEFAULTS.seed,
      maxLength: Math.min(options.maxLength ?? CAPTION_DEFAULTS.maxLength, this.config.text.maxPositions),
      minLength: options.minLength ?? CAPTION_DEFAULTS.minLength,
    };
    const { signal, onProgress } = options;
    // 1. prepare the pixels
    onProgress?.({ phase: 'prepare', step: 0, total: 1 });
    const pixels = preprocessBlipImage(image, this.config.vision.imageSize);
    // 2. encode the image and project its cross-attention keys and values
    onProgress?.({ phase: 'run', step: 0, total: 1 });
    const embeds = (await this.vision.run({ pixel_values: pixels }, signal)).image_embeds!;
    const memory = await this.memory.run({ image_embeds: embeds }, signal);
    // 3. write the caption
    const sequence = [this.startId, ...this.tokenizer.encode(CAPTION_PROMPT)];
    const promptLength = sequence.length;
    const choose = createTokenChooser(decoding, this.endId);
    const total = Math.max(decoding.maxLength - promptLength, 0);
    let feeds: Record<string, Tensor | Int64Tensor> = { ...memory, ...this.emptyCache(), input_ids: idsTensor(sequence) };
    while (sequence.length < decoding.maxLength) {
      const out = await this.step.run(feeds, signal);
      const next = choose(out.logits!.data, sequence);
      onProgress?.({ phase: 'decode', step: sequence.length - promptLength + 1, total });
      if (next === this.endId) break;
      sequence.push(next);
      feeds = options.recompute === true ? { ...memory, ...this.emptyCache(), input_ids: idsTensor(sequence) } : { ...memory, ...this.cacheFrom(out), input_ids: idsTensor([next]) };
    }
    // 4. the new tokens as text (ids past the vocabulary, BLIP's added `[DEC]`/`[ENC]`, have no spelling)
    return this.tokenizer.decode(sequence.slice(promptLength).filter((id) => id < this.tokenizer.vocabSize));
  }

  /** The Describe answer: the greedy caption, ready to use as a prompt. */
  async describe(image: RgbImage, options: DescribeOptions = {}): Promise<ImageDescription> {
    return { text: await this.caption(image, options) };
  }

  async release(): Promise<void> {
    await Promise.all([this.vision.release(), this.memory.release(), this.step.release()]);
  }

  private emptyCache(): Record<string, Tensor> {
    const cache: Record<string, Tensor> = {};
    for (let i = 0; i < this.config.text.layers; i++) {
      for (const name of Object.values(pastNames(i))) cache[name] = { dims: [1, 0, this.config.text.width], data: new Float32Array(0) };
    }
    return cache;
  }

  private cacheFrom(out: Record<string, Tensor>): Record<string, Tensor> {
    const cache: Record<string, Tensor> = {};
    for (let i = 0; i < this.config.text.layers; i++) {
      cache[pastNames(i).key] = out[presentNames(i).key]!;
      cache[pastNames(i).value] = out[presentNames(i).value]!;
    }
    return cache;
  }
}

function idsTensor(ids: readonly number[]): Int64Tensor {
  return { dims: [1, ids.length], data: BigInt64Array.from(ids.map(BigInt)) };
}

