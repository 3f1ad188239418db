/**
 * BERT's WordPiece tokenizer for the uncased vocabulary (`bert-base-uncased` layout, Devlin et al. 2018;
 * `tokenization.py`): the text decoder of BLIP and the text encoder of GroundingDINO read its ids.
 *
 * 1. Basic tokenization: drop NUL, U+FFFD and control characters, turn whitespace into spaces, put spaces
 *    around CJK ideographs, split on whitespace, lowercase, strip accents (NFD, drop nonspacing marks),
 *    split every punctuation character off as its own token.
 * 2. WordPiece: each word becomes the longest vocabulary prefix, then the longest `##`-prefixed continuation, and
 *    so on; a word with any unmatched rest, or longer than 100 code points, becomes `[UNK]` as a whole.
 *
 * "Control" follows transformers' BertTokenizer, which these models were published with: every general category
 * C* (Cc, Cf, Cs, Co, Cn). Google's original drops only Cc and Cf, so private-use and unassigned code points,
 * which it would keep (and map to `[UNK]`), disappear here, as they do in the published models' tokenizer.
 * Special-token spellings in the text (`[SEP]`) are not honoured: they tokenize as the text they are, so a user's
 * prompt can never insert control tokens.
 */
import { readFileSync, statSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FooocusError } from '../errors/fooocus-error.ts';

/** `bert-base-uncased` has 30,522 entries in about 230 KB; anything far larger is not a WordPiece vocabulary. */
export const VOCABULARY_MAX_BYTES = 4 * 1024 * 1024;
export const VOCABULARY_MAX_ENTRIES = 250_000;
/** Longest vocabulary line accepted; real entries are at most a few dozen characters. */
const ENTRY_MAX_CHARS = 200;
/** Words longer than this (in code points) become `[UNK]` without matching, as in the original. */
const WORD_MAX_CHARS = 100;
const CONTINUATION = '##';

export const UNKNOWN_TOKEN = '[UNK]';
/** The special tokens a decode skips (with `skipSpecial`). */
const SPECIAL_TOKENS = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);

/** A vocabulary file that is not a WordPiece vocabulary (one token per line, UTF-8). */
export class VocabularyFormatError extends FooocusError {
  declare readonly file: string;

  constructor(file: string, detail: string) {
    super('invalid', `${path.basename(file)}: not a WordPiece vocabulary (vocab.txt, one token per line): ${detail}`, { file, rule: 'vocabulary' });
  }
}

const CONTROL = /^\p{C}$/u;
const SPACE_SEPARATOR = /^\p{Zs}$/u;
const PUNCTUATION = /^\p{P}$/u;
const NONSPACING_MARK = /\p{Mn}/gu;
/** Python's `str.split()` separators that survive the cleanup (U+2028, U+2029 are neither Zs nor C*). */
const SPLIT_WHITESPACE = /[\p{White_Space}]+/u;

function isWhitespace(char: string): boolean {
  return char === ' ' || char === '\t' || char === '\n' || char === '\r' || SPACE_SEPARATOR.test(char);
}

function isControl(char: string): boolean {
  if (char === '\t' || char === '\n' || char === '\r') return false;
  return CONTROL.test(char);
}

/** ASCII symbols count as punctuation even where Unicode calls them symbols (`$`, `^`, `` ` ``, `+`, ...). */
function isPunctuation(char: string): boolean {
  const cp = char.codePointAt(0) as number;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return PUNCTUATION.test(char);
}

/** The CJK Unified Ideographs blocks the original lists (Hangul, kana and CJK punctuation are not among them). */
function isCjkIdeograph(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Cleanup and CJK spacing, character by character (code points, not UTF-16 units). */
function cleanText(text: string): string {
  let out = '';
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    if (cp === 0 || cp === 0xfffd || isControl(char)) continue;
    if (isWhitespace(char)) out += ' ';
    else if (isCjkIdeograph(cp)) out += ` ${char} `;
    else out += char;
  }
  return out;
}

function splitOnPunctuation(word: string): string[] {
  const pieces: string[] = [];
  let current = '';
  for (const char of word) {
    if (isPunctuation(char)) {
      if (current !== '') pieces.push(current);
      pieces.push(char);
      current = '';
    } else {
      current += char;
    }
  }
  if (current !== '') pieces.push(current);
  return pieces;
}

function splitWhitespace(text: string): string[] {
  return text.split(SPLIT_WHITESPACE).filter((word) => word !== '');
}

/** The basic tokenizer's words, before WordPiece: lowercased, accents stripped, punctuation split off. */
export function splitBasicTokens(text: string): string[] {
  const words: string[] = [];
  // transformers composes (NFC) after the cleanup, so a removed control character can no longer block a composition.
  for (const word of splitWhitespace(cleanText(text).normalize('NFC'))) {
    const folded = word.toLowerCase().normalize('NFD').replace(NONSPACING_MARK, '');
    for (const piece of splitOnPunctuation(folded)) words.push(...splitWhitespace(piece));
  }
  return words;
}

function checkVocabularySize(file: string, size: number): void {
  if (size > VOCABULARY_MAX_BYTES) throw new VocabularyFormatError(file, `it is ${size} bytes, more than ${VOCABULARY_MAX_BYTES}`);
}

function decodeVocabulary(file: string, bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new VocabularyFormatError(file, 'it is not valid UTF-8');
  }
}

export class WordPieceTokenizer {
  readonly vocabSize: number;
  readonly unknownId: number;
  private readonly ids: Map<string, number>;
  private readonly tokens: readonly string[];

  private constructor(tokens: readonly string[], file: string) {
    this.tokens = tokens;
    this.ids = new Map();
    for (let id = 0; id < tokens.length; id++) this.ids.set(tokens[id] as string, id);
    this.vocabSize = tokens.length;
    const unknown = this.ids.get(UNKNOWN_TOKEN);
    if (unknown === undefined) throw new VocabularyFormatError(file, `it has no ${UNKNOWN_TOKEN} entry`);
    this.unknownId = unknown;
  }

  /**
   * From the text of a `vocab.txt`: the token on line n (0-based) has id n. Refused: empty or duplicate entries,
   * entries with surrounding whitespace or over 200 characters, more than 250,000 entries, no `[UNK]`.
   * `file` names the source in errors.
   */
  static fromVocabularyText(text: string, file: string): WordPieceTokenizer {
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop(); // the final newline
    if (lines.length === 0) throw new VocabularyFormatError(file, 'it is empty');
    if (lines.length > VOCABULARY_MAX_ENTRIES) throw new VocabularyFormatError(file, `it has ${lines.length} entries, more than ${VOCABULARY_MAX_ENTRIES}`);
    const seen = new Set<string>();
    for (let i = 0; i < lines.length; i++) {
      const token = lines[i] as string;
      const where = `line ${i + 1}`;
      if (token === '') throw new VocabularyFormatError(file, `${where} is empty`);
      if (token.length > ENTRY_MAX_CHARS) throw new VocabularyFormatError(file, `${where} is longer than ${ENTRY_MAX_CHARS} characters`);
      if (token.trim() !== token) throw new VocabularyFormatError(file, `${where} has leading or trailing whitespace`);
      if (seen.has(token)) throw new VocabularyFormatError(file, `${where} repeats the entry ${JSON.stringify(token)}`);
      seen.add(token);
    }
    return new WordPieceTokenizer(lines, file);
  }

  /** Reads a `vocab.txt` (strict UTF-8, at most 4 MiB). */
  static async fromFile(file: string): Promise<WordPieceTokenizer> {
    checkVocabularySize(file, (await stat(file)).size);
    return WordPieceTokenizer.fromVocabularyText(decodeVocabulary(file, await readFile(file)), file);
  }

  /** `fromFile` for callers that check files synchronously (the model store's import checks). */
  static fromFileSync(file: string): WordPieceTokenizer {
    checkVocabularySize(file, statSync(file).size);
    return WordPieceTokenizer.fromVocabularyText(decodeVocabulary(file, readFileSync(file)), file);
  }

  /** The id of a vocabulary entry such as `[CLS]`; undefined when the vocabulary lacks it. */
  idOf(token: string): number | undefined {
    return this.ids.get(token);
  }

  /** The entry of `id`. */
  tokenOf(id: number): string {
    const token = this.tokens[id];
    if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (0-${this.vocabSize - 1})`);
    return token;
  }

  /** Word pieces of `text` (`##` marks a continuation), without `[CLS]`/`[SEP]`. */
  tokenize(text: string): string[] {
    const pieces: string[] = [];
    for (const word of splitBasicTokens(text)) pieces.push(...this.splitWord(word));
    return pieces;
  }

  /** Ids of `text`, without `[CLS]`/`[SEP]`. */
  encode(text: string): number[] {
    return this.tokenize(text).map((piece) => this.ids.get(piece) as number);
  }

  /**
   * Text of `ids` as transformers' BERT decode gives it: pieces joined by spaces, `##` continuations glued on,
   * and the spaces before `. , ? !` and English contractions removed. `skipSpecial` drops `[CLS]`, `[SEP]`,
   * `[PAD]`, `[UNK]`, `[MASK]` and any id in `alsoSkip`.
   */
  decode(ids: readonly number[], { skipSpecial = true, alsoSkip = [] }: { skipSpecial?: boolean; alsoSkip?: readonly number[] } = {}): string {
    const skipped = new Set(alsoSkip);
    const kept = ids.filter((id) => !skipped.has(id)).map((id) => this.tokenOf(id));
    const pieces = skipSpecial ? kept.filter((token) => !SPECIAL_TOKENS.has(token)) : kept;
    const joined = pieces.join(' ').replaceAll(' ##', '').trim();
    return joined
      .replaceAll(' .', '.')
      .replaceAll(' ?', '?')
      .replaceAll(' !', '!')
      .replaceAll(' ,', ',')
      .replaceAll(" ' ", "'")
      .replaceAll(" n't", "n't")
      .replaceAll(" 'm", "'m")
      .replaceAll(" 's", "'s")
      .replaceAll(" 've", "'ve")
      .replaceAll(" 're", "'re");
  }

  /** Greedy longest-match-first over one word's code points. */
  private splitWord(word: string): string[] {
    const chars = Array.from(word);
    if (chars.length > WORD_MAX_CHARS) return [UNKNOWN_TOKEN];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let match: string | undefined;
      while (start < end) {
        const candidate = (start > 0 ? CONTINUATION : '') + chars.slice(start, end).join('');
        if (this.ids.has(candidate)) {
          match = candidate;
          break;
        }
        end--;
      }
      if (match === undefined) return [UNKNOWN_TOKEN];
      pieces.push(match);
      start = end;
    }
    return pieces;
  }
}
