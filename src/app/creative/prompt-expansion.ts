/**
 * Prompt expansion: adds a few well-chosen descriptive phrases to a short prompt, as Fooocus's "Fooocus V2" does
 * with a small language model. Ours is a curated-vocabulary method, deterministic for (prompt, seed, styles):
 *
 * 1. Detect the subject category: every keyword of every category (expansion-vocabulary.ts) is stem-matched
 *    against the prompt; the category with the most hits wins, ties going to the earlier category. No hit: no
 *    subject phrases, only the general pools.
 * 2. Fill slots in a fixed order (subject, lighting, composition, finish, subject, ...). For each slot the pool is
 *    shuffled with a seeded PRNG (SplitMix64 seeded from the image seed, stream "expansion/<slot>"; see
 *    seeded-random.ts) and the first phrase is taken that
 *    - shares no content word (stop words aside, compared by light stem, case-insensitive) with the prompt, the
 *      selected styles' text, or the phrases already added, and
 *    - keeps the added text (leading comma included) within `maxAddedTokens` as counted by the injected token counter (CLIP tokens).
 * 3. The result is the prompt followed by the phrases, comma-separated. An empty prompt is returned unchanged.
 *
 * The `PromptExpander` interface is all the rest of the app sees, so a language-model expander can replace this.
 */
import { CATEGORY_VOCABULARY, EXPANSION_SLOTS, GENERAL_POOLS, SUBJECT_CATEGORIES, type SubjectCategory } from './expansion-vocabulary.ts';
import { createSeededRandom, shuffleSeeded } from './seeded-random.ts';
import { collectContentStems, splitWords, stemWord } from './word-stems.ts';

export interface ExpansionContext {
  /** The image's seed. */
  seed: bigint;
  /** Text of the selected styles (their prompt templates), whose words the expansion must not repeat. */
  styles: readonly string[];
}

export interface PromptExpander {
  /** The prompt with added words, or the prompt itself when there is nothing to add. */
  expand(prompt: string, context: ExpansionContext): string;
}

export type TokenCounter = (text: string) => number;

export interface WordPoolExpanderOptions {
  /** Tokens of a text, e.g. `(t) => tokenizer.encode(t).length` with the engine's ClipTokenizer. */
  countTokens: TokenCounter;
  /** Cap on the tokens the expansion adds (default 24). */
  maxAddedTokens?: number;
}

export const DEFAULT_MAX_ADDED_TOKENS = 24;

/** The best-matching subject category of a prompt, or null when no keyword matches. */
export function detectSubjectCategory(prompt: string): SubjectCategory | null {
  const stems = new Set(splitWords(prompt).map(stemWord));
  let best: SubjectCategory | null = null;
  let bestHits = 0;
  for (const category of SUBJECT_CATEGORIES) {
    const hits = CATEGORY_VOCABULARY[category].keywords.filter((k) => stems.has(stemWord(k))).length;
    if (hits > bestHits) {
      best = category;
      bestHits = hits;
    }
  }
  return best;
}

function sharesAWord(phrase: string, used: ReadonlySet<string>): boolean {
  for (const stem of collectContentStems(phrase)) if (used.has(stem)) return true;
  return false;
}

export function createWordPoolExpander(options: WordPoolExpanderOptions): PromptExpander {
  const maxTokens = options.maxAddedTokens ?? DEFAULT_MAX_ADDED_TOKENS;
  return {
    expand(prompt, { seed, styles }) {
      const trimmed = prompt.trim();
      if (trimmed === '') return prompt;
      const category = detectSubjectCategory(trimmed);
      const used = collectContentStems([trimmed, ...styles].join(' '));
      const added: string[] = [];
      EXPANSION_SLOTS.forEach((slot, index) => {
        const pool = slot === 'subject' ? (category === null ? [] : CATEGORY_VOCABULARY[category].phrases) : GENERAL_POOLS[slot];
        const random = createSeededRandom(seed, `expansion/${index}`);
        for (const phrase of shuffleSeeded(pool, random)) {
          if (sharesAWord(phrase, used)) continue;
          if (options.countTokens(`, ${[...added, phrase].join(', ')}`) > maxTokens) continue;
          added.push(phrase);
          for (const stem of collectContentStems(phrase)) used.add(stem);
          return;
        }
      });
      return added.length === 0 ? trimmed : `${trimmed}, ${added.join(', ')}`;
    },
  };
}
