/**
 * Style application with Fooocus's semantics, so a prompt styled here conditions the model the way it does there:
 *
 * - The prompt's first non-empty line is the main prompt; further lines are extra positive parts that go after the
 *   styles (the negative prompt is split the same way).
 * - Each selected style contributes its own positive part(s): its template with `{prompt}` replaced by the main
 *   prompt, one part per template line. If no selected style has `{prompt}`, the main prompt goes first, alone.
 * - Style negatives are separate parts too, in selection order, *before* the user's negative and its extra lines
 *   (Fooocus appends the user's negative after the style negatives).
 * - Empty parts are dropped; with nothing left the main prompt (or negative) is the single part.
 * - "Random Style" becomes one library style chosen from the image's seed; the expansion toggle is not a style and
 *   is skipped here (compose-request decides about expansion).
 */
import { computeImageSeed } from './image-seed.ts';
import { UnknownStyleError } from './creative-errors.ts';
import { createSeededRandom } from './seeded-random.ts';
import { PROMPT_PLACEHOLDER, type StyleLibrary } from './style-library.ts';
import { isExpansionStyleName, isReservedStyleName, RANDOM_STYLE_NAME } from './style-names.ts';

export interface ApplyStylesInput {
  prompt: string;
  negative: string;
  styleNames: readonly string[];
  library: StyleLibrary;
  /** The batch's seed; Random Style draws from the image's seed, `seed + imageIndex`. */
  seed: bigint;
  imageIndex: number;
}

export interface StyledPrompt {
  positiveParts: string[];
  negativeParts: string[];
  /** The styles actually applied, in order, with Random Style resolved (what metadata should record). */
  appliedStyles: string[];
  /** The main prompt and its extra lines, as split (expansion works on the main prompt). */
  mainPrompt: string;
}

/** Non-empty trimmed lines: Fooocus's `remove_empty_str([safe_str(p) for p in text.splitlines()])`. */
export function splitPromptLines(text: string): string[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}

function splitTemplateLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/);
}

/** The style Random Style stands for in slot `slot` of image `imageIndex`: same seed, same pick. */
export function pickRandomStyle(library: StyleLibrary, seed: bigint, imageIndex: number, slot = 0): string {
  const names = [...library.keys()].filter((n) => !isReservedStyleName(n)).sort();
  if (names.length === 0) throw new UnknownStyleError(RANDOM_STYLE_NAME);
  const random = createSeededRandom(computeImageSeed(seed, imageIndex), `random-style/${slot}`);
  return names[random.nextInt(names.length)] as string;
}

/** The selection with Random Style resolved and the expansion toggle left out. */
export function resolveStyleNames(input: Omit<ApplyStylesInput, 'prompt' | 'negative'>): string[] {
  const resolved: string[] = [];
  input.styleNames.forEach((name, slot) => {
    if (isExpansionStyleName(name)) return;
    const actual = name === RANDOM_STYLE_NAME ? pickRandomStyle(input.library, input.seed, input.imageIndex, slot) : name;
    if (!input.library.has(actual)) throw new UnknownStyleError(actual);
    resolved.push(actual);
  });
  return resolved;
}

export function applyStyles(input: ApplyStylesInput): StyledPrompt {
  const [mainPrompt = '', ...extraPositive] = splitPromptLines(input.prompt);
  const [mainNegative = '', ...extraNegative] = splitPromptLines(input.negative);
  const appliedStyles = resolveStyleNames(input);

  let positive: string[] = [];
  const negative: string[] = [];
  let placeholderUsed = false;
  for (const name of appliedStyles) {
    const style = input.library.get(name);
    if (style === undefined) throw new UnknownStyleError(name);
    if (style.prompt.includes(PROMPT_PLACEHOLDER)) placeholderUsed = true;
    positive.push(...splitTemplateLines(style.prompt.replaceAll(PROMPT_PLACEHOLDER, mainPrompt)));
    negative.push(...splitTemplateLines(style.negative));
  }
  if (!placeholderUsed) positive = [mainPrompt, ...positive];
  negative.push(mainNegative);

  const keep = (parts: string[], fallback: string): string[] => {
    const kept = parts.map((p) => p.trim()).filter((p) => p !== '');
    return kept.length > 0 ? kept : [fallback];
  };
  return {
    positiveParts: keep([...positive, ...extraPositive], mainPrompt),
    negativeParts: keep([...negative, ...extraNegative], mainNegative),
    appliedStyles,
    mainPrompt,
  };
}
