/**
 * Weighted prompt -> CLIP input windows, batched the way ComfyUI's `SDTokenizer.tokenize_with_weights`
 * does it (the same code in Fooocus's `ldm_patched/modules/sd1_clip.py`):
 *
 * - the prompt is split into weighted segments (prompt-weights.ts), each segment into words at spaces and
 *   newlines, and each word is tokenized on its own, so a word's tokens can be kept together;
 * - a window is BOS + up to 75 tokens + EOS + padding to 77. A word that does not fit in the current window
 *   closes it and moves whole to the next one, unless it is "large" (8 tokens or more, ComfyUI's
 *   `max_word_length`), in which case it fills the current window and continues in the next;
 * - BOS, EOS and padding carry weight 1.0; an empty prompt gives one window: BOS, EOS, padding.
 *
 * Fooocus tokenizes every word with the tokenizer (later ComfyUI first looks `word</w>` up in the vocabulary);
 * this follows Fooocus. Textual-inversion `embedding:` words are not handled here.
 */
import type { ClipTokenizer } from './clip-tokenizer.ts';
import { parsePromptWeights } from './prompt-weights.ts';

/** CLIP's context: BOS + 75 prompt tokens + EOS. */
export const CLIP_WINDOW_LENGTH = 77;
/** ComfyUI's `max_word_length`: words of this many tokens or more may be split between windows. */
const LARGE_WORD_TOKENS = 8;

/** SD 1.x and SDXL's CLIP-L pad with EOS; SDXL's OpenCLIP bigG pads with 0 (ComfyUI `pad_with_end=False`). */
export type PadToken = 'eos' | 'zero' | number;

export interface TokenizeWeightedOptions {
  padWith: PadToken;
}

/** One CLIP input row: `tokens.length === weights.length === 77`. */
export interface TokenWindow {
  tokens: number[];
  weights: number[];
}

function resolvePadToken(tokenizer: ClipTokenizer, padWith: PadToken): number {
  if (padWith === 'eos') return tokenizer.eos;
  if (padWith === 'zero') return 0;
  if (!Number.isInteger(padWith) || padWith < 0 || padWith >= tokenizer.vocabSize) {
    throw new RangeError(`padWith must be 'eos', 'zero' or a token id below ${tokenizer.vocabSize}, got ${padWith}`);
  }
  return padWith;
}

interface WeightedWord {
  tokens: readonly number[];
  weight: number;
}

function tokenizeWords(tokenizer: ClipTokenizer, text: string): WeightedWord[] {
  const words: WeightedWord[] = [];
  for (const segment of parsePromptWeights(text)) {
    for (const word of segment.text.replaceAll('\n', ' ').split(' ')) {
      if (word !== '') words.push({ tokens: tokenizer.encode(word), weight: segment.weight });
    }
  }
  return words;
}

/** Splits a weighted prompt into 77-token CLIP windows with per-token weights. */
export function tokenizeWeighted(tokenizer: ClipTokenizer, text: string, options: TokenizeWeightedOptions): TokenWindow[] {
  const pad = resolvePadToken(tokenizer, options.padWith);
  const capacity = CLIP_WINDOW_LENGTH - 1; // room before the EOS, BOS included
  const windows: TokenWindow[] = [];
  let window: TokenWindow = { tokens: [tokenizer.bos], weights: [1] };

  const closeWindow = (): void => {
    window.tokens.push(tokenizer.eos);
    window.weights.push(1);
    while (window.tokens.length < CLIP_WINDOW_LENGTH) {
      window.tokens.push(pad);
      window.weights.push(1);
    }
    windows.push(window);
    window = { tokens: [tokenizer.bos], weights: [1] };
  };
  const append = (tokens: readonly number[], weight: number): void => {
    for (const token of tokens) {
      window.tokens.push(token);
      window.weights.push(weight);
    }
  };

  for (const word of tokenizeWords(tokenizer, text)) {
    const splittable = word.tokens.length >= LARGE_WORD_TOKENS;
    let rest = word.tokens;
    while (rest.length > 0) {
      if (window.tokens.length + rest.length <= capacity) {
        append(rest, word.weight);
        rest = [];
      } else if (splittable) {
        const room = capacity - window.tokens.length;
        append(rest.slice(0, room), word.weight);
        rest = rest.slice(room);
        closeWindow();
      } else {
        closeWindow();
      }
    }
  }
  closeWindow();
  return windows;
}
