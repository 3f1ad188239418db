/**
 * Which vocabulary a checkpoint's text encoders need, decided by their embedding size: the released CLIP towers
 * have OpenAI's 49,408-token BPE vocabulary (shipped with the application, or the store's imported copy, verified
 * either way); the built-in demo model and the tiny test models use the byte-level vocabulary the engine
 * generates, which needs no file.
 */
import { ClipTokenizer } from '../../engine/index.ts';
import type { ModelStore } from '../models/model-store.ts';
import { resolveClipVocabulary, type ClipVocabularyOptions } from '../models/clip-vocabulary.ts';

export const CLIP_BPE_VOCAB_SIZE = 49408;

export function createTokenizerLoader(store: ModelStore, options: ClipVocabularyOptions = {}): (vocabSize: number) => Promise<ClipTokenizer> {
  const cache = new Map<string, Promise<ClipTokenizer>>();
  return (vocabSize) => {
    const kind = vocabSize === CLIP_BPE_VOCAB_SIZE ? 'clip' : 'byte-level';
    let tokenizer = cache.get(kind);
    if (tokenizer === undefined) {
      tokenizer =
        kind === 'clip'
          ? resolveClipVocabulary(store, options).then((file) => ClipTokenizer.fromGzipFile(file))
          : Promise.resolve(ClipTokenizer.byteLevel());
      cache.set(kind, tokenizer);
      tokenizer.catch(() => cache.delete(kind));
    }
    return tokenizer;
  };
}
