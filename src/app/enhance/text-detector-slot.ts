/**
 * The text detector Enhance keeps between tabs and jobs: GroundingDINO with its vocabulary and Segment Anything,
 * built from store files the caller verified (size and SHA-256), held while requests ask for the same three files
 * (at most one set) and released with the generation service.
 */
import {
  FooocusError,
  GroundingDino,
  loadSegmenter,
  readSafetensorsHeader,
  TextRegionDetector,
  WordPieceTokenizer,
  type RuntimeOptions,
} from '../../engine/index.ts';
import { TEXT_DETECTOR_FILES } from './text-detector-files.ts';

/** A store file checked by size and SHA-256 (the generation service's VerifiedModel, named here without it). */
interface VerifiedFile {
  path: string;
  sha256: string;
}

export interface VerifiedTextDetectorFiles {
  detector: VerifiedFile;
  vocabulary: VerifiedFile;
  segmenter: VerifiedFile;
}

const WORD_EMBEDDINGS = 'model.text_backbone.embeddings.word_embeddings.weight';

/** Reads the vocabulary and refuses one with more entries than the checkpoint embeds (ids past its table). */
async function readVocabulary(files: VerifiedTextDetectorFiles): Promise<WordPieceTokenizer> {
  const tokenizer = await WordPieceTokenizer.fromFile(files.vocabulary.path);
  const rows = (await readSafetensorsHeader(files.detector.path)).tensors.get(WORD_EMBEDDINGS)?.shape[0];
  if (rows !== undefined && tokenizer.vocabSize > rows) {
    const { vocabulary, detector } = TEXT_DETECTOR_FILES;
    throw new FooocusError('invalid', `${vocabulary.name} has ${tokenizer.vocabSize} entries, but ${detector.name} embeds only ${rows} tokens: not the vocabulary it was trained with`, {
      file: files.vocabulary.path,
      rule: 'vocabulary',
    });
  }
  return tokenizer;
}

export class TextDetectorSlot {
  private held: { key: string; detector: TextRegionDetector } | null = null;

  constructor(private readonly runtime: RuntimeOptions) {}

  /** The detector over these files: the held one when they are the same (by SHA-256), else built anew (`onLoad` first). */
  async acquire(files: VerifiedTextDetectorFiles, onLoad?: () => void): Promise<TextRegionDetector> {
    const key = [files.detector.sha256, files.vocabulary.sha256, files.segmenter.sha256].join('|');
    if (this.held?.key === key) return this.held.detector;
    await this.release();
    onLoad?.();
    const tokenizer = await readVocabulary(files);
    const boxes = await GroundingDino.load(files.detector.path, tokenizer, this.runtime, TEXT_DETECTOR_FILES.vocabulary.name);
    try {
      const segmenter = await loadSegmenter(files.segmenter.path, this.runtime);
      const detector = new TextRegionDetector(TEXT_DETECTOR_FILES.detector.name, boxes, segmenter);
      this.held = { key, detector };
      return detector;
    } catch (err) {
      await boxes.release();
      throw err;
    }
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = null;
    await held?.detector.release();
  }
}
