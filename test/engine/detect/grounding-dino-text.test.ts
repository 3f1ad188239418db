import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decodeGroundedBoxes } from '../../../src/engine/detect/grounding-dino-boxes.ts';
import { buildPhraseMasks, encodeGroundingPrompt, listPhraseSpans, readPhraseDelimiters, type GroundingTokenizer } from '../../../src/engine/detect/grounding-dino-text.ts';
import { WordPieceTokenizer } from '../../../src/engine/text/word-piece.ts';

/** bert-base-uncased's ids for the pieces these tests use. */
const VOCAB: Record<string, number> = { '[PAD]': 0, '[CLS]': 101, '[SEP]': 102, '.': 1012, '?': 1029, a: 1037, cat: 4937, remote: 6556, control: 2491, face: 2227, hand: 2192, '##s': 2015 };
const TOKENS = new Map(Object.entries(VOCAB).map(([k, v]) => [v, k]));

/** Whitespace-and-period splitting over the small vocabulary above (the real WordPiece tokenizer has its own tests). */
const tokenizer: GroundingTokenizer = {
  encode: (text) => text.replaceAll('.', ' . ').split(/\s+/).filter((w) => w !== '').flatMap((w) => (w === 'hands' ? [VOCAB.hand!, VOCAB['##s']!] : [VOCAB[w]!])),
  decode: (ids) => ids.map((id) => TOKENS.get(id)!).filter((t) => !t.startsWith('[')).join(' ').replaceAll(' ##', '').replaceAll(' .', '.'),
  idOf: (token) => VOCAB[token],
};
const delimiters = readPhraseDelimiters(tokenizer, 'vocab.txt');

describe('GroundingDINO text input', () => {
  it('lower-cases the prompt, ends it with a period and frames it with [CLS] ... [SEP]', () => {
    assert.deepEqual(encodeGroundingPrompt(tokenizer, delimiters, '  A Cat. Remote Control '), [101, 1037, 4937, 1012, 6556, 2491, 1012, 102]);
    assert.deepEqual(encodeGroundingPrompt(tokenizer, delimiters, 'face.'), [101, 2227, 1012, 102]);
  });

  it('cuts prompts longer than 256 tokens', () => {
    const ids = encodeGroundingPrompt(tokenizer, delimiters, 'cat '.repeat(400));
    assert.equal(ids.length, 256);
    assert.equal(ids[255], VOCAB.cat);
  });

  it('lets each phrase attend only to itself, with positions restarting per phrase', () => {
    const ids = [101, 1037, 4937, 1012, 6556, 2491, 1012, 102];
    const { attention, positions } = buildPhraseMasks(ids, delimiters);
    assert.deepEqual(positions, [0, 0, 1, 2, 0, 1, 2, 0]);
    const blocks = [[0], [1, 2, 3], [4, 5, 6], [7]];
    const blockOf = (i: number): number => blocks.findIndex((b) => b.includes(i));
    for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) assert.equal(attention[i * 8 + j], blockOf(i) === blockOf(j) ? 1 : 0, `(${i}, ${j})`);
  });

  it('leaves tokens after the last delimiter to themselves (a prompt cut before its [SEP])', () => {
    const ids = [101, 2227, 1012, 4937, 4937];
    const { attention, positions } = buildPhraseMasks(ids, delimiters);
    assert.deepEqual(positions, [0, 0, 1, 0, 0]);
    assert.equal(attention[3 * 5 + 4], 0);
    assert.equal(attention[1 * 5 + 2], 1);
  });

  it('names the vocabulary file when it lacks a delimiter', () => {
    assert.throws(() => readPhraseDelimiters({ ...tokenizer, idOf: (t) => (t === '?' ? undefined : VOCAB[t]) }, 'models/vocab.txt'), /models\/vocab\.txt.*"\?"/);
  });

  it('lists the phrases as token spans without their separators', () => {
    assert.deepEqual(listPhraseSpans([101, 1037, 4937, 1012, 6556, 2491, 1012, 102], delimiters), [{ start: 1, end: 3 }, { start: 4, end: 6 }]);
  });
});

describe('GroundingDINO detections', () => {
  const ids = [101, 2227, 1012, 2192, 2015, 1012, 102]; // [CLS] face . hand ##s . [SEP]
  const T = ids.length;
  /** Logits giving each listed token the probability asked for, every other token 0.01. */
  function row(probs: Record<number, number>): number[] {
    return Array.from({ length: T }, (_, t) => {
      const p = probs[t] ?? 0.01;
      return Math.log(p / (1 - p));
    });
  }

  it('keeps boxes above the box threshold, labels them with the tokens above the text threshold, in pixels', () => {
    const logits = Float32Array.from([
      ...row({ 1: 0.8 }), // a face
      ...row({ 3: 0.5, 4: 0.26 }), // hands: both pieces above 0.25
      ...row({ 3: 0.29 }), // just under the box threshold: dropped
      ...row({ 1: 0.31, 3: 0.24 }), // face; "hand" just under the text threshold
    ]);
    const boxes = Float32Array.from([0.5, 0.5, 0.2, 0.4, 0.25, 0.75, 0.1, 0.1, 0.5, 0.5, 1, 1, 0.1, 0.2, 0.2, 0.2]);
    const found = decodeGroundedBoxes({ logits, boxes, queries: 4, tokens: T }, ids, tokenizer, delimiters, { width: 200, height: 100 });
    assert.equal(found.length, 3);
    assert.deepEqual(found.map((f) => f.label), ['face', 'hands', 'face']);
    assert.deepEqual(found.map((f) => f.phrase), [0, 1, 0]);
    assert.ok(Math.abs(found[0]!.score - 0.8) < 1e-6);
    const close = (a: number[], b: number[]): boolean => a.every((v, i) => Math.abs(v - b[i]!) < 1e-4);
    assert.ok(close(found[0]!.box, [80, 30, 120, 70]), String(found[0]!.box));
    assert.ok(close(found[1]!.box, [40, 70, 60, 80]), String(found[1]!.box));
    assert.ok(close(found[2]!.box, [0, 10, 40, 30]), String(found[2]!.box));
  });

  it('counts [CLS] for the score but never for the label, and honours other thresholds', () => {
    const logits = Float32Array.from([...row({ 0: 0.9, 1: 0.2 })]);
    const boxes = Float32Array.from([0.5, 0.5, 1, 1]);
    const found = decodeGroundedBoxes({ logits, boxes, queries: 1, tokens: T }, ids, tokenizer, delimiters, { width: 10, height: 10 }, { boxThreshold: 0.5, textThreshold: 0.1 });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.label, 'face');
    assert.equal(found[0]!.phrase, -1);
    assert.equal(decodeGroundedBoxes({ logits, boxes, queries: 1, tokens: T }, ids, tokenizer, delimiters, { width: 10, height: 10 }, { boxThreshold: 0.95, textThreshold: 0.1 }).length, 0);
  });

  it('refuses outputs whose sizes disagree with the prompt', () => {
    assert.throws(() => decodeGroundedBoxes({ logits: new Float32Array(6), boxes: new Float32Array(4), queries: 1, tokens: 6 }, ids, tokenizer, delimiters, { width: 1, height: 1 }), /do not match/);
  });
});

describe('GroundingDINO prompts through the WordPiece tokenizer', () => {
  it('frames and splits a prompt with the BERT tokenizer the checkpoint ships a vocabulary for', () => {
    const vocab = WordPieceTokenizer.fromVocabularyText(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '.', '?', 'face', 'hand', '##s'].join('\n') + '\n', 'vocab.txt');
    const marks = readPhraseDelimiters(vocab, 'vocab.txt');
    const ids = encodeGroundingPrompt(vocab, marks, 'Hands. Face');
    assert.deepEqual(ids, [2, 7, 8, 4, 6, 4, 3]);
    assert.deepEqual(buildPhraseMasks(ids, marks).positions, [0, 0, 1, 2, 0, 1, 0]);
    assert.equal(vocab.decode([7, 8]), 'hands');
  });
});
