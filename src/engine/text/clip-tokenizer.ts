/**
 * The OpenAI CLIP byte-level BPE tokenizer (`clip/simple_tokenizer.py`, Radford et al. 2021), the one SD 1.x
 * (CLIP ViT-L/14) and SDXL (also OpenCLIP ViT-bigG/14) were trained with. Ids match the original exactly
 * for the real merges file: `<|startoftext|>` = 49406, `<|endoftext|>` = 49407.
 *
 * Text cleanup differs from the original in one documented way: ftfy is not available, so instead of
 * `ftfy.fix_text` we apply only its default Unicode NFC normalisation (no mojibake repair, quote uncurling,
 * width folding or ligature splitting). The rest is as in `basic_clean` + `whitespace_clean`: HTML-unescape
 * twice (see html-unescape.ts for the entities covered), collapse whitespace, strip, lowercase.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { unescapeHtml } from './html-unescape.ts';

const gunzipAsync = promisify(gunzip);

const START_OF_TEXT = '<|startoftext|>';
const END_OF_TEXT = '<|endoftext|>';
const END_OF_WORD = '</w>';
/** The original keeps merges lines [1, 49152 - 256 - 2 + 1): 48,894 merges, for a 49,408-id vocabulary. */
const MERGE_COUNT = 49152 - 256 - 2;
/**
 * Word cache bound. The original cache grows without limit; a server tokenising arbitrary prompts must not.
 * Prompts reuse a small working set of words, so dropping the whole cache when full costs little.
 */
const WORD_CACHE_LIMIT = 65536;

/**
 * `simple_tokenizer.py`'s pre-tokenizer, `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|
 * [^\s\p{L}\p{N}]+` under Python `regex` with IGNORECASE, rewritten so JavaScript matches exactly what it matches:
 * - `\s` is the White_Space property there; JavaScript's `\s` differs (it adds U+FEFF, lacks U+0085).
 * - IGNORECASE only matters after lowercasing through simple case folding: `ſ` (U+017F) folds to `s`, so `'ſ`
 *   and `<|ſtartoftext|>` are single pre-tokens there. A JavaScript `i` flag would also fold U+0345 (a combining
 *   mark folding to ι) into `\p{L}`, whereas Python matches it with no alternative and drops it; so no `i` flag,
 *   `ſ` spelled out, and U+0345 excluded from the catch-all class (verified per code point against Python).
 */
const PRE_TOKENIZER =
  /<\|[sſ]tartoftext\|>|<\|endoftext\|>|'[sſ]|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\p{White_Space}\p{L}\p{N}\u0345]+/gu;
const WHITESPACE_RUN = /\p{White_Space}+/gu;
/** Python's `str.strip()` also removes U+001C-U+001F (they are `isspace()`), which `\s` does not match. */
// eslint-disable-next-line no-control-regex -- the control characters are the point: Python strips them
const PYTHON_STRIP = /^[\p{White_Space}\x1c-\x1f]+|[\p{White_Space}\x1c-\x1f]+$/gu;

/**
 * GPT-2's reversible byte-to-character table: printable Latin-1 bytes map to themselves, the other 68 bytes
 * to U+0100 upwards, so every byte string becomes a string with no whitespace or control characters.
 */
function buildByteToChar(): string[] {
  const table: string[] = new Array<string>(256);
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  let next = 0;
  for (let b = 0; b < 256; b++) if (printable(b)) table[b] = String.fromCharCode(b);
  for (let b = 0; b < 256; b++) if (!printable(b)) table[b] = String.fromCharCode(256 + next++);
  return table;
}

/** The vocabulary order of the original: bytes in table order (printable first), the same with `</w>`. */
function buildByteVocabulary(byteToChar: readonly string[]): string[] {
  const printableFirst = [...byteToChar].sort((a, b) => a.charCodeAt(0) - b.charCodeAt(0));
  return [...printableFirst, ...printableFirst.map((c) => c + END_OF_WORD)];
}

/** CLIP's text cleanup: `whitespace_clean(basic_clean(text)).lower()`, with NFC standing in for ftfy. */
function cleanText(text: string): string {
  const unescaped = unescapeHtml(unescapeHtml(text.normalize('NFC'))).replace(PYTHON_STRIP, '');
  return unescaped.replace(WHITESPACE_RUN, ' ').replace(PYTHON_STRIP, '').toLowerCase();
}

export class ClipTokenizer {
  readonly bos: number;
  readonly eos: number;
  readonly vocabSize: number;
  private readonly encoder: Map<string, number>;
  private readonly decoder: string[];
  /** Rank of each merge, keyed `first second` exactly as the merges file writes it. */
  private readonly ranks: Map<string, number>;
  private readonly byteToChar: string[];
  private readonly charToByte: Map<string, number>;
  private readonly cache = new Map<string, readonly number[]>();

  private constructor(merges: readonly string[]) {
    this.byteToChar = buildByteToChar();
    this.charToByte = new Map(this.byteToChar.map((c, b) => [c, b]));
    const vocabulary = buildByteVocabulary(this.byteToChar);
    this.ranks = new Map();
    for (let rank = 0; rank < merges.length; rank++) {
      const merge = merges[rank] as string;
      this.ranks.set(merge, rank);
      vocabulary.push(merge.replace(' ', ''));
    }
    vocabulary.push(START_OF_TEXT, END_OF_TEXT);
    this.decoder = vocabulary;
    this.encoder = new Map();
    for (let id = 0; id < vocabulary.length; id++) this.encoder.set(vocabulary[id] as string, id);
    this.vocabSize = vocabulary.length;
    this.bos = vocabulary.length - 2;
    this.eos = vocabulary.length - 1;
  }

  /**
   * From the text of `bpe_simple_vocab_16e6.txt` (after gunzip): a version header line, then one merge per line.
   * With the real file the ids are OpenAI's: 49,408 tokens, BOS 49406, EOS 49407.
   */
  static fromBpeText(mergesText: string): ClipTokenizer {
    const lines = mergesText.split('\n', 1 + MERGE_COUNT).slice(1);
    while (lines.length > 0 && lines[lines.length - 1]?.trim() === '') lines.pop(); // a short file's final newline
    for (let i = 0; i < lines.length; i++) {
      const merge = (lines[i] as string).trimEnd();
      const space = merge.indexOf(' ');
      // Symbols are byte-table characters, never whitespace, so a valid line is exactly `first second`.
      if (space <= 0 || space === merge.length - 1 || merge.indexOf(' ', space + 1) !== -1) {
        throw new Error(`BPE merges line ${i + 2} is not a pair of symbols: ${JSON.stringify(lines[i])}`);
      }
      lines[i] = merge;
    }
    return new ClipTokenizer(lines);
  }

  /** Reads a gzipped merges file such as `bpe_simple_vocab_16e6.txt.gz`. */
  static async fromGzipFile(path: string): Promise<ClipTokenizer> {
    const text = (await gunzipAsync(await readFile(path))).toString('utf8');
    return ClipTokenizer.fromBpeText(text);
  }

  /**
   * A merge-free vocabulary for the built-in demo model, generated by code so it needs no download:
   * ids 0-255 are the byte symbols, 256-511 the same with `</w>` (both in the original's table order),
   * BOS = 512, EOS = 513, 514 ids in all. Every word becomes one token per UTF-8 byte, its last byte marked `</w>`.
   * EOS is the largest id, as in the real vocabulary, so the pooled-output lookup (argmax of ids) still finds it.
   */
  static byteLevel(): ClipTokenizer {
    return new ClipTokenizer([]);
  }

  /** Token ids for `text`, without BOS/EOS. */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanText(text).matchAll(PRE_TOKENIZER)) {
      for (const id of this.encodeWord(match[0])) ids.push(id);
    }
    return ids;
  }

  /** Text for `ids`; every `</w>` becomes a space (so words come back space-separated, with a trailing space). */
  decode(ids: readonly number[]): string {
    const bytes: number[] = [];
    for (const id of ids) {
      const token = this.decoder[id];
      if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (0-${this.vocabSize - 1})`);
      for (const char of token) {
        const byte = this.charToByte.get(char);
        if (byte === undefined) throw new RangeError(`token id ${id} holds a character outside the byte table`);
        bytes.push(byte);
      }
    }
    return new TextDecoder('utf-8').decode(Uint8Array.from(bytes)).replaceAll(END_OF_WORD, ' ');
  }

  private encodeWord(word: string): readonly number[] {
    if (word === START_OF_TEXT) return [this.bos];
    if (word === END_OF_TEXT) return [this.eos];
    let encoded = '';
    for (const byte of Buffer.from(word, 'utf8')) encoded += this.byteToChar[byte];
    const cached = this.cache.get(encoded);
    if (cached !== undefined) return cached;
    const ids = this.applyMerges(encoded).map((symbol) => {
      const id = this.encoder.get(symbol);
      if (id === undefined) throw new Error(`BPE produced ${JSON.stringify(symbol)}, which is not in the vocabulary`);
      return id;
    });
    if (this.cache.size >= WORD_CACHE_LIMIT) this.cache.clear();
    this.cache.set(encoded, ids);
    return ids;
  }

  /** `SimpleTokenizer.bpe`: repeatedly merge every occurrence of the lowest-ranked adjacent pair. */
  private applyMerges(encoded: string): string[] {
    const chars = [...encoded];
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + END_OF_WORD];
    while (word.length > 1) {
      let best: string | undefined;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const rank = this.ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < bestRank) {
          bestRank = rank;
          best = `${word[i]} ${word[i + 1]}`;
        }
      }
      if (best === undefined) break;
      const [first, second] = best.split(' ') as [string, string];
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i] as string);
        }
      }
      word = merged;
    }
    return word;
  }
}
