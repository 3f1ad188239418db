/**
 * From GroundingDINO's raw outputs to detections, as transformers' `post_process_grounded_object_detection` does
 * it: a query's score is its best token's sigmoid; queries scoring above the box threshold are kept; the tokens
 * scoring above the text threshold (the first token and token 255 never count) are the detection's phrase; boxes
 * go from normalized centre/size to corner pixels of the original image.
 */
import { GROUNDING_MAX_TOKENS, listPhraseSpans, type GroundingTokenizer, type PhraseDelimiters } from './grounding-dino-text.ts';

export interface GroundingThresholds {
  /** Keep a box whose best token scores above this (Fooocus's Enhance: 0.3). */
  boxThreshold: number;
  /** A token above this belongs to the box's phrase (Fooocus's Enhance: 0.25). */
  textThreshold: number;
}

export const DEFAULT_GROUNDING_THRESHOLDS: GroundingThresholds = { boxThreshold: 0.3, textThreshold: 0.25 };

export interface GroundedBox {
  /** [x1, y1, x2, y2] in pixels of the image passed in. */
  box: [number, number, number, number];
  score: number;
  /** The text of the tokens above the text threshold (transformers' label), special tokens left out. */
  label: string;
  /** Index (0-based) of the prompt phrase holding the box's best token; -1 when that is a delimiter. */
  phrase: number;
}

export interface GroundingOutputs {
  /** [Q, T] contrastive logits of each query against each prompt token. */
  logits: Float32Array;
  /** [Q, 4] sigmoid boxes (cx, cy, w, h) relative to the image. */
  boxes: Float32Array;
  queries: number;
  tokens: number;
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Detections of one image, best score first; `ids` are the prompt's token ids (the model's text input). */
export function decodeGroundedBoxes(
  out: GroundingOutputs,
  ids: readonly number[],
  tokenizer: Pick<GroundingTokenizer, 'decode'>,
  delimiters: PhraseDelimiters,
  image: { width: number; height: number },
  thresholds: GroundingThresholds = DEFAULT_GROUNDING_THRESHOLDS,
): GroundedBox[] {
  const { queries, tokens } = out;
  if (out.logits.length !== queries * tokens || out.boxes.length !== queries * 4 || ids.length !== tokens) {
    throw new Error(`detector outputs do not match: ${out.logits.length} logits, ${out.boxes.length / 4} boxes, ${ids.length} token ids`);
  }
  const spans = listPhraseSpans(ids, delimiters);
  const phraseOf = (t: number): number => spans.findIndex((s) => t >= s.start && t < s.end);
  const found: GroundedBox[] = [];
  for (let q = 0; q < queries; q++) {
    const probs = Array.from(out.logits.subarray(q * tokens, (q + 1) * tokens), sigmoid);
    let best = 0;
    for (let t = 1; t < tokens; t++) if (probs[t]! > probs[best]!) best = t;
    const score = probs[best]!;
    if (!(score > thresholds.boxThreshold)) continue;
    const matched: number[] = [];
    for (let t = 1; t < Math.min(tokens, GROUNDING_MAX_TOKENS - 1); t++) if (probs[t]! > thresholds.textThreshold) matched.push(ids[t]!);
    const [cx, cy, w, h] = Array.from(out.boxes.subarray(q * 4, q * 4 + 4)) as [number, number, number, number];
    const box: [number, number, number, number] = [(cx - w / 2) * image.width, (cy - h / 2) * image.height, (cx + w / 2) * image.width, (cy + h / 2) * image.height];
    found.push({ box, score, label: tokenizer.decode(matched), phrase: phraseOf(best) });
  }
  return found.sort((a, b) => b.score - a.score);
}
