/**
 * The WD14 tagger (SmilingWolf's wd-v1-4 models; Fooocus's "Art/Anime" describer uses wd-v1-4-moat-tagger-v2):
 * a published ONNX graph scoring every tag of its tag list. The graph is checked before ONNX Runtime sees it
 * (standard operators only, no external data, bounded tensors) and must have the published interface: one input
 * [batch, 448, 448, 3] float32 (NHWC, BGR, 0..255) and one output [batch, tags] float32 of sigmoid scores, with
 * exactly one output per row of its tag list.
 *
 * Tags kept, as Fooocus's interrogator keeps them: character tags scoring above 0.85, then general tags above 0.35,
 * each in list order; ratings are dropped. The text joins them with ", ", parentheses escaped (so the prompt
 * parser reads them as text, not emphasis) and underscores turned into spaces.
 */
import path from 'node:path';
import type { RgbImage } from '../rgb-image.ts';
import { checkOnnxFile, expectOnnxSignature, UnsafeOnnxModelError, type OnnxCheckLimits } from '../onnx/onnx-model-check.ts';
import { createModelSession, type ModelSession, type RuntimeOptions } from '../runtime/onnx-runtime.ts';
import { resampleLanczos } from '../upscale/lanczos-resample.ts';
import type { Tensor } from '../tensor.ts';
import type { DescribedTag, DescribeOptions, ImageDescriber, ImageDescription } from './image-describer.ts';
import { readTagListFile, type TaggerTag, type TagListLimits } from './tagger-tag-list.ts';

/** The published taggers' square input side. */
export const WD14_INPUT_SIZE = 448;

export interface Wd14Thresholds {
  general: number;
  character: number;
}

/** Fooocus's interrogator defaults (and SmilingWolf's demo's). */
export const WD14_THRESHOLDS: Wd14Thresholds = { general: 0.35, character: 0.85 };

export interface Wd14TaggerFiles {
  /** The tagger's .onnx file. */
  model: string;
  /** Its tag list (.csv). */
  tags: string;
}

export interface LoadWd14TaggerOptions {
  runtime?: RuntimeOptions;
  onnxLimits?: Partial<OnnxCheckLimits>;
  tagListLimits?: Partial<TagListLimits>;
  thresholds?: Wd14Thresholds;
}

/** Checks both files, then loads the graph; nothing reaches ONNX Runtime before the checks pass. */
export async function loadWd14Tagger(files: Wd14TaggerFiles, options: LoadWd14TaggerOptions = {}): Promise<ImageDescriber> {
  // 1. the tag list, then the graph's file and its interface against it
  const tags = readTagListFile(files.tags, options.tagListLimits);
  const { model, bytes } = checkOnnxFile(files.model, options.onnxLimits);
  if (model.inputs.length !== 1 || model.outputs.length !== 1) {
    throw new UnsafeOnnxModelError(files.model, 'signature', `has ${model.inputs.length} inputs and ${model.outputs.length} outputs; a tagger has one of each`);
  }
  // The published files name their values differently (`input_1:0`, `input`), so only their shapes are checked.
  expectOnnxSignature(model, files.model, {
    inputs: [{ name: model.inputs[0]!.name, dtype: 'float32', shape: [null, WD14_INPUT_SIZE, WD14_INPUT_SIZE, 3] }],
    outputs: [{ name: model.outputs[0]!.name, dtype: 'float32', shape: [null, null] }],
  });
  const width = model.outputs[0]!.shape![1];
  if (width !== tags.length) {
    throw new UnsafeOnnxModelError(files.model, 'tag-count', `scores ${typeof width === 'number' ? width : 'an unknown number of'} tags, but its tag list ${path.basename(files.tags)} has ${tags.length} rows`);
  }
  // 2. the session
  const session = await createModelSession(bytes, null, options.runtime);
  return new Wd14Tagger(session, model.inputs[0]!.name, model.outputs[0]!.name, tags, options.thresholds ?? WD14_THRESHOLDS);
}

class Wd14Tagger implements ImageDescriber {
  constructor(
    private readonly session: ModelSession,
    private readonly inputName: string,
    private readonly outputName: string,
    private readonly tags: readonly TaggerTag[],
    private readonly thresholds: Wd14Thresholds,
  ) {}

  async describe(image: RgbImage, options: DescribeOptions = {}): Promise<ImageDescription> {
    options.onProgress?.({ phase: 'prepare', step: 0, total: 1 });
    const input = prepareWd14Input(image, WD14_INPUT_SIZE);
    options.onProgress?.({ phase: 'run', step: 0, total: 1 });
    const scores = (await this.session.run({ [this.inputName]: input }, options.signal))[this.outputName]!; // [1, tags]
    options.onProgress?.({ phase: 'decode', step: 0, total: 1 });
    const kept = selectWd14Tags(this.tags, scores.data, this.thresholds);
    options.onProgress?.({ phase: 'decode', step: 1, total: 1 });
    return { text: formatWd14Tags(kept), tags: kept };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/**
 * The tagger's input for `image`: scaled (Lanczos) so its longer side is `size`, each side truncated as Fooocus's
 * `int(side * ratio)`, centred on a white square, channels reordered to BGR, values 0..255. Returns [1, size, size, 3].
 */
export function prepareWd14Input(image: RgbImage, size: number): Tensor {
  const ratio = size / Math.max(image.width, image.height);
  const width = Math.max(1, Math.min(size, Math.trunc(image.width * ratio)));
  const height = Math.max(1, Math.min(size, Math.trunc(image.height * ratio)));
  const scaled = resampleLanczos(image, width, height);
  const left = Math.trunc((size - width) / 2);
  const top = Math.trunc((size - height) / 2);
  const data = new Float32Array(size * size * 3).fill(255);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + x) * 3;
      const to = ((y + top) * size + x + left) * 3;
      data[to] = scaled.rgb[from + 2]!;
      data[to + 1] = scaled.rgb[from + 1]!;
      data[to + 2] = scaled.rgb[from]!;
    }
  }
  return { dims: [1, size, size, 3], data };
}

/** Character tags above their threshold, then general tags above theirs (strictly), each in list order. */
export function selectWd14Tags(tags: readonly TaggerTag[], scores: ArrayLike<number>, thresholds: Wd14Thresholds = WD14_THRESHOLDS): DescribedTag[] {
  const pick = (category: 'general' | 'character', threshold: number): DescribedTag[] =>
    tags.flatMap((t, i) => (t.category === category && scores[i]! > threshold ? [{ name: t.name, score: scores[i]!, category }] : []));
  return [...pick('character', thresholds.character), ...pick('general', thresholds.general)];
}

/** The prompt text of kept tags: `(` and `)` escaped, `_` as a space, joined with ", ". */
export function formatWd14Tags(tags: readonly DescribedTag[]): string {
  return tags.map((t) => t.name.replaceAll('(', '\\(').replaceAll(')', '\\)').replaceAll('_', ' ')).join(', ');
}
