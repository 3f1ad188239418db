/**
 * Prompt syntax that varies a prompt per image, applied in Fooocus's order: wildcards, then arrays, then LoRA tokens.
 *
 * - `__name__` is replaced by one line of `<wildcards>/name.txt` (lines trimmed; empty and `#` lines skipped),
 *   drawn from the image's seed, or line `imageIndex % count` with `order: 'sequential'`. A chosen line may hold
 *   wildcards itself, expanded up to `maxDepth` levels. Names use letters, digits, `_`, `-` and `/` (subfolders)
 *   only, so a name can never leave the folder.
 * - `[[a, b, c]]` picks by image index. Several arrays in one prompt step through every combination, the first
 *   array changing fastest (image 0: a/x, image 1: b/x, ...), as Fooocus does.
 * - `<lora:name:weight>` tokens are removed and returned (see lora-tokens.ts).
 *
 * Unlike Fooocus, which quietly leaves an unknown wildcard's name in the prompt, every problem is a
 * PromptSyntaxError naming the token, because a silently different prompt wastes a whole batch.
 */
import { computeImageSeed } from './image-seed.ts';
import { PromptSyntaxError, WildcardDepthError } from './creative-errors.ts';
import { extractLoraTokens, type LoraReference } from './lora-tokens.ts';
import { createSeededRandom, type SeededRandom } from './seeded-random.ts';
import type { WildcardReader } from './wildcard-reader.ts';

export const DEFAULT_WILDCARD_MAX_DEPTH = 8;
export const DEFAULT_WILDCARD_MAX_FILE_BYTES = 256 * 1024;
const WILDCARD_NAME = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

export type WildcardOrder = 'random' | 'sequential';

export interface WildcardOptions {
  reader: WildcardReader;
  /** The batch's seed; picks use the image's seed, `seed + imageIndex`. */
  seed: bigint;
  imageIndex: number;
  order?: WildcardOrder;
  maxDepth?: number;
  maxFileBytes?: number;
  /** Share one stream across several texts of the same image (prompt lines, negative), so they draw in sequence. */
  random?: SeededRandom;
}

interface WildcardContext {
  reader: WildcardReader;
  imageIndex: number;
  order: WildcardOrder;
  maxDepth: number;
  maxFileBytes: number;
  random: SeededRandom;
  cache: Map<string, string[]>;
}

type TextPiece = { literal: string } | { wildcard: string; token: string };

/** Splits text into literals and `__name__` tokens; an odd `__` or a bad name is a PromptSyntaxError. */
function splitWildcardTokens(text: string): TextPiece[] {
  const pieces: TextPiece[] = [];
  let at = 0;
  for (;;) {
    const open = text.indexOf('__', at);
    if (open === -1) break;
    const close = text.indexOf('__', open + 2);
    if (close === -1) throw new PromptSyntaxError(text.slice(open, open + 40), 'unbalanced "__": a wildcard is written __name__');
    const name = text.slice(open + 2, close);
    const token = `__${name}__`;
    if (name.includes('..') || !WILDCARD_NAME.test(name)) {
      throw new PromptSyntaxError(token, 'a wildcard name uses only letters, digits, _, - and / between folder names (no "..", no leading /)');
    }
    pieces.push({ literal: text.slice(at, open) }, { wildcard: name, token });
    at = close + 2;
  }
  pieces.push({ literal: text.slice(at) });
  return pieces;
}

function readWildcardLines(name: string, token: string, ctx: WildcardContext): string[] {
  const cached = ctx.cache.get(name);
  if (cached !== undefined) return cached;
  const text = ctx.reader.read(`${name}.txt`, ctx.maxFileBytes);
  if (text === undefined) throw new PromptSyntaxError(token, `unknown wildcard: no file ${name}.txt in ${ctx.reader.where}`);
  const lines = text
    .split(/\r\n|\r|\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0) throw new PromptSyntaxError(token, `wildcard file ${name}.txt has no usable lines`);
  ctx.cache.set(name, lines);
  return lines;
}

function expandWithin(text: string, ctx: WildcardContext, chain: readonly string[]): string {
  let out = '';
  for (const piece of splitWildcardTokens(text)) {
    if ('literal' in piece) {
      out += piece.literal;
      continue;
    }
    const next = [...chain, piece.wildcard];
    if (next.length > ctx.maxDepth) throw new WildcardDepthError(next, ctx.maxDepth);
    const lines = readWildcardLines(piece.wildcard, piece.token, ctx);
    const index = ctx.order === 'sequential' ? ctx.imageIndex % lines.length : ctx.random.nextInt(lines.length);
    out += expandWithin(lines[index] as string, ctx, next);
  }
  return out;
}

export function expandWildcards(text: string, options: WildcardOptions): string {
  const ctx: WildcardContext = {
    reader: options.reader,
    imageIndex: options.imageIndex,
    order: options.order ?? 'random',
    maxDepth: options.maxDepth ?? DEFAULT_WILDCARD_MAX_DEPTH,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_WILDCARD_MAX_FILE_BYTES,
    random: options.random ?? createSeededRandom(computeImageSeed(options.seed, options.imageIndex), 'wildcards'),
    cache: new Map(),
  };
  return expandWithin(text, ctx, []);
}

/** Replaces each `[[a, b, c]]` by one option, stepping through all combinations with `imageIndex`. */
export function applyArrays(text: string, imageIndex: number): string {
  const arrays: { start: number; end: number; options: string[] }[] = [];
  let at = 0;
  for (;;) {
    const open = text.indexOf('[[', at);
    const strayClose = text.indexOf(']]', at);
    if (open === -1 || (strayClose !== -1 && strayClose < open)) {
      if (strayClose !== -1) throw new PromptSyntaxError(text.slice(Math.max(0, strayClose - 30), strayClose + 2), 'unbalanced "]]" without "[["');
      break;
    }
    const close = text.indexOf(']]', open + 2);
    const token = text.slice(open, close === -1 ? open + 40 : close + 2);
    if (close === -1) throw new PromptSyntaxError(token, 'unbalanced "[[": an array is written [[a, b, c]]');
    if (text.slice(open + 2, close).includes('[[')) throw new PromptSyntaxError(token, 'arrays cannot be nested');
    const options = text
      .slice(open + 2, close)
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
    if (options.length === 0) throw new PromptSyntaxError(token, 'an array needs at least one option');
    arrays.push({ start: open, end: close + 2, options });
    at = close + 2;
  }
  let rest = imageIndex;
  let out = '';
  let from = 0;
  for (const array of arrays) {
    out += text.slice(from, array.start) + (array.options[rest % array.options.length] as string);
    rest = Math.floor(rest / array.options.length);
    from = array.end;
  }
  return out + text.slice(from);
}

export interface ExpandedPrompt {
  text: string;
  loras: LoraReference[];
}

/** Wildcards, then arrays, then LoRA tokens: one text of one image. */
export function expandPromptSyntax(text: string, options: WildcardOptions): ExpandedPrompt {
  return extractLoraTokens(applyArrays(expandWildcards(text, options), options.imageIndex));
}
