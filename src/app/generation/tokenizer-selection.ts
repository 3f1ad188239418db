/**
 * Which vocabulary a checkpoint's text encoders need, decided by their embedding size: the released CLIP towers
 * have OpenAI's 49,408-token BPE vocabulary (read from the verified model store); the built-in demo model and the
 * tiny test models use the byte-level vocabulary the engine generates, which needs no file.
 */
import { ClipTokenizer } from '../../engine/index.ts';
import type { ModelStore } from '../models/model-store.ts';
import { CLIP_BPE_VOCAB_NAME } from '../models/tokenizer-assets.ts';

export const CLIP_BPE_VOCAB_SIZE = 49408;

export function createTokenizerLoader(store: ModelStore): (vocabSize: number) => Promise<ClipTokenizer> {
  const cache = new Map<string, Promise<ClipTokenizer>>();
  return (vocabSize) => {
    const kind = vocabSize === CLIP_BPE_VOCAB_SIZE ? 'clip' : 'byte-level';
    let tokenizer = cache.get(kind);
    if (tokenizer === undefined) {
      tokenizer =
        kind === 'clip'
          ? store.resolve('tokenizers', CLIP_BPE_VOCAB_NAME).then((file) => ClipTokenizer.fromGzipFile(file))
          : Promise.resolve(ClipTokenizer.byteLevel());
      cache.set(kind, tokenizer);
      tokenizer.catch(() => cache.delete(kind));
    }
    return tokenizer;
  };
}
