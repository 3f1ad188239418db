/**
 * GroundingDINO's text input (Liu et al. 2023, "Grounding DINO", sec. 3.4 "sub-sentence level text feature"): the
 * prompt is phrases separated by "." and BERT sees each phrase on its own: a token attends only to the tokens of
 * its own phrase (its separator included), and position ids restart at 0 with each phrase. `[CLS]` and the final
 * `[SEP]` attend to themselves alone, at position 0.
 */

/** The longest token sequence the model reads (`max_text_len`); longer prompts are cut, as transformers cuts them. */
export const GROUNDING_MAX_TOKENS = 256;

/** The part of a WordPiece tokenizer the detector needs (the BERT vocabulary the checkpoint was trained with). */
export interface GroundingTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  idOf(token: string): number | undefined;
}

/** Ids of the tokens that end a phrase or frame the prompt: `[CLS]`, `[SEP]`, "." and "?". */
export interface PhraseDelimiters {
  cls: number;
  sep: number;
  /** Every delimiter id, the frame tokens included. */
  all: ReadonlySet<number>;
}

export function readPhraseDelimiters(tokenizer: GroundingTokenizer, file: string): PhraseDelimiters {
  const id = (token: string): number => {
    const value = tokenizer.idOf(token);
    if (value === undefined) throw new Error(`${file}: the vocabulary has no ${JSON.stringify(token)} entry, which GroundingDINO's prompts need`);
    return value;
  };
  const [cls, sep, dot, question] = ['[CLS]', '[SEP]', '.', '?'].map(id) as [number, number, number, number];
  return { cls, sep, all: new Set([cls, sep, dot, question]) };
}

/**
 * The prompt as the model was trained on it: lower case, trimmed, ending in "." (the original repository's
 * caption rule), then `[CLS] pieces [SEP]` cut to 256 tokens.
 */
export function encodeGroundingPrompt(tokenizer: GroundingTokenizer, delimiters: PhraseDelimiters, prompt: string): number[] {
  let text = prompt.toLowerCase().trim();
  if (!text.endsWith('.')) text += '.';
  return [delimiters.cls, ...tokenizer.encode(text), delimiters.sep].slice(0, GROUNDING_MAX_TOKENS);
}

export interface PhraseMasks {
  /** [T, T], 1 where token i may attend to token j. */
  attention: Uint8Array;
  /** [T] position id of each token. */
  positions: number[];
}

/** The phrase-block attention mask and the restarting position ids of `ids` (transformers' transfer-map rule). */
export function buildPhraseMasks(ids: readonly number[], delimiters: PhraseDelimiters): PhraseMasks {
  const n = ids.length;
  const attention = new Uint8Array(n * n);
  for (let i = 0; i < n; i++) attention[i * n + i] = 1;
  const positions = new Array<number>(n).fill(0);
  let previous = 0;
  for (let col = 0; col < n; col++) {
    if (!delimiters.all.has(ids[col]!)) continue;
    // The first and last tokens stand alone; any other delimiter closes the phrase that began after the previous one.
    if (col !== 0 && col !== n - 1) {
      for (let i = previous + 1; i <= col; i++) {
        for (let j = previous + 1; j <= col; j++) attention[i * n + j] = 1;
        positions[i] = i - previous - 1;
      }
    }
    previous = col;
  }
  return { attention, positions };
}

/**
 * The phrases of a prompt as token index ranges [start, end) (the separator excluded), so a matched token can be
 * reported with the phrase it belongs to.
 */
export function listPhraseSpans(ids: readonly number[], delimiters: PhraseDelimiters): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let start = -1;
  ids.forEach((id, i) => {
    if (delimiters.all.has(id)) {
      if (start >= 0 && i > start) spans.push({ start, end: i });
      start = -1;
    } else if (start < 0) start = i;
  });
  if (start >= 0) spans.push({ start, end: ids.length });
  return spans;
}
