/**
 * Choosing the next caption token from the decoder's logits, as BLIP's `generate` asks transformers to:
 * greedy (the most likely token) or nucleus sampling (Holtzman et al. 2020) with BLIP's settings, after the
 * logits processors both share. Pure functions over one logits row, so every rule is testable without a model.
 */
import { createUniformRandom } from '../random/seeded-normal.ts';

export interface CaptionDecodingOptions {
  /** `greedy` (the default) or `sample`: nucleus sampling from a seeded stream. */
  mode: 'greedy' | 'sample';
  seed: number;
  /** Whole sequence length limit, prompt included (Fooocus asks BLIP for 75). */
  maxLength: number;
  /** The end token is refused before the sequence (prompt included) has this many tokens (BLIP's default 10). */
  minLength: number;
}

/** BLIP's sampling settings: repetition penalty 1.1 (Keskar et al. 2019), top-k 50 (transformers' default), top-p 0.9. */
export const SAMPLING = { repetitionPenalty: 1.1, topK: 50, topP: 0.9 } as const;

export type TokenChooser = (logits: Float32Array, sequence: readonly number[]) => number;

/** Min-length rule: the end token cannot be chosen while the sequence is shorter than `minLength`. */
function suppressEarlyEnd(scores: Float64Array, sequence: readonly number[], endId: number, minLength: number): void {
  if (sequence.length < minLength) scores[endId] = -Infinity;
}

/** CTRL's penalty on every id already in the sequence: positive scores divided by it, negative ones multiplied. */
export function penalizeRepeats(scores: Float64Array, sequence: readonly number[], penalty: number): void {
  for (const id of new Set(sequence)) {
    const s = scores[id]!;
    scores[id] = s < 0 ? s * penalty : s / penalty;
  }
}

/** Keeps the `k` highest scores (ties with the k-th kept too), the rest -Infinity. */
export function keepTopK(scores: Float64Array, k: number): void {
  if (k >= scores.length) return;
  const threshold = [...scores].sort((a, b) => b - a)[k - 1]!;
  for (let i = 0; i < scores.length; i++) if (scores[i]! < threshold) scores[i] = -Infinity;
}

/**
 * Nucleus filter as transformers' TopPLogitsWarper: in ascending order, tokens whose cumulative probability is at
 * most 1 - p are removed, so the smallest set of top tokens holding more than p survives (never fewer than one).
 */
export function keepTopP(scores: Float64Array, p: number): void {
  const probabilities = softmax(scores);
  const ascending = [...probabilities.keys()].sort((a, b) => probabilities[a]! - probabilities[b]! || a - b);
  let cumulative = 0;
  for (let rank = 0; rank < ascending.length - 1; rank++) {
    const id = ascending[rank]!;
    cumulative += probabilities[id]!;
    if (cumulative > 1 - p) break;
    scores[id] = -Infinity;
  }
}

export function softmax(scores: Float64Array): Float64Array {
  let max = -Infinity;
  for (const s of scores) max = Math.max(max, s);
  const out = new Float64Array(scores.length);
  let sum = 0;
  for (let i = 0; i < scores.length; i++) sum += out[i] = Math.exp(scores[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

function argmax(scores: Float64Array): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}

/** A chooser for one caption; a sampling chooser owns its seeded stream, so the same seed gives the same caption. */
export function createTokenChooser(options: CaptionDecodingOptions, endId: number): TokenChooser {
  const uniform = createUniformRandom(options.seed);
  return (logits, sequence) => {
    const scores = Float64Array.from(logits);
    suppressEarlyEnd(scores, sequence, endId, options.minLength);
    if (options.mode === 'greedy') return argmax(scores);
    penalizeRepeats(scores, sequence, SAMPLING.repetitionPenalty);
    keepTopK(scores, SAMPLING.topK);
    keepTopP(scores, SAMPLING.topP);
    const probabilities = softmax(scores);
    let u = uniform();
    for (let i = 0; i < probabilities.length; i++) {
      u -= probabilities[i]!;
      if (u < 0) return i;
    }
    return argmax(probabilities); // rounding left a sliver: the likeliest token
  };
}
