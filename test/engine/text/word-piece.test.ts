import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { VocabularyFormatError, WordPieceTokenizer } from '../../../src/engine/text/word-piece.ts';

/**
 * A small vocabulary in the `bert-base-uncased` layout (special tokens first, `##` continuations). Every expected
 * output below was worked out by hand from BERT's published algorithm (clean, CJK spacing, lowercase, NFD accent
 * strip, punctuation split, greedy longest-match-first with `##`, `[UNK]` for a word over 100 code points or with
 * an unmatched rest), with transformers' rule that every C* category counts as a control character.
 */
const VOCABULARY = [
  '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]',
  'the', 'a', 'cat', 'dog', 'un', '##aff', '##able', '##s', '##ing', 'run',
  '.', ',', '!', '?', "'", '"', '(', ')', '-', '$', '^', '_', '`',
  'cafe', 'naive', 'hello', 'world', '中', '国', '人',
  '##ed', 'play', '##er', 'photo', '##graph', '##y', 'd', '##o', '##g', '##a', 'e', '##e',
  '😀', '##😀', '¿', 'i', 'of', 'picture',
];

const tokenizer = WordPieceTokenizer.fromVocabularyText(`${VOCABULARY.join('\n')}\n`, 'vocab.txt');

const CASES: [string, string[]][] = [
  // words and continuations
  ['the cat', ['the', 'cat']],
  ['The CAT', ['the', 'cat']],
  ['cats', ['cat', '##s']],
  ['unaffable', ['un', '##aff', '##able']],
  ['runs', ['run', '##s']],
  ['playing', ['play', '##ing']],
  ['played', ['play', '##ed']],
  ['players', ['play', '##er', '##s']],
  ['photography', ['photo', '##graph', '##y']],
  ['dogo', ['dog', '##o']],
  ['dgo', ['d', '##g', '##o']],
  ['x', ['[UNK]']],
  ['thecat', ['[UNK]']],
  ['A picture of a DOG.', ['a', 'picture', 'of', 'a', 'dog', '.']],
  // punctuation: ASCII symbols count, Unicode P* counts, each its own token
  ['hello, world!', ['hello', ',', 'world', '!']],
  ['hello.world', ['hello', '.', 'world']],
  ['$5', ['$', '[UNK]']],
  ['^_^', ['^', '_', '^']],
  ['(the) "cat"', ['(', 'the', ')', '"', 'cat', '"']],
  ["dog's", ['dog', "'", '[UNK]']],
  ['¿qué?', ['¿', '[UNK]', '?']],
  ['cat—dog', ['cat', '[UNK]', 'dog']],
  ['cat…', ['cat', '[UNK]']],
  ['cat+dog', ['cat', '[UNK]', 'dog']],
  ['cat~', ['cat', '[UNK]']],
  ['`cat`', ['`', 'cat', '`']],
  ['dogs-cats', ['dog', '##s', '-', 'cat', '##s']],
  ['a-cat', ['a', '-', 'cat']],
  ['[SEP]', ['[UNK]', '[UNK]', '[UNK]']],
  // accents and case
  ['café', ['cafe']],
  ['CAFÉ', ['cafe']],
  ['cafe\u0301', ['cafe']],
  ['cafe\u0301s', ['cafe', '##s']],
  ['naïve', ['naive']],
  ['cat\u0301', ['cat']],
  ['\u0301cat', ['cat']],
  ['\u00c5', ['a']],
  ['\u0130', ['i']],
  ['\ufb01', ['[UNK]']],
  ['ＣＡＴ', ['[UNK]']],
  // CJK ideographs are split one by one; kana and Hangul are not ideographs
  ['中国人', ['中', '国', '人']],
  ['the中cat', ['the', '中', 'cat']],
  ['日本', ['[UNK]', '[UNK]']],
  ['ねこ', ['[UNK]']],
  ['고양이', ['[UNK]']],
  ['cat\uf900dog', ['cat', '[UNK]', 'dog']],
  // emoji (symbols, not punctuation): code points, not UTF-16 units
  ['cat😀', ['cat', '##😀']],
  ['cat😀x', ['[UNK]']],
  ['cat 😀', ['cat', '😀']],
  ['😀😀', ['😀', '##😀']],
  ['😀'.repeat(60), ['😀', ...Array<string>(59).fill('##😀')]],
  // the 100-code-point word limit, counted after accents are stripped
  ['a'.repeat(100), ['a', ...Array<string>(99).fill('##a')]],
  ['a'.repeat(101), ['[UNK]']],
  ['e\u0301'.repeat(100), ['e', ...Array<string>(99).fill('##e')]],
  ['the ' + 'a'.repeat(101) + ' cat', ['the', '[UNK]', 'cat']],
  // control and format characters vanish without splitting
  ['ca\u0000t', ['cat']],
  ['ca\u0007t', ['cat']],
  ['ca\u200bt', ['cat']],
  ['ca\u00adt', ['cat']],
  ['ca\ufffdt', ['cat']],
  ['ca\ue000t', ['cat']],
  ['the\u0085cat', ['[UNK]']],
  // whitespace kinds all separate
  ['  the\tcat\n', ['the', 'cat']],
  ['the\tcat\r\ndog', ['the', 'cat', 'dog']],
  ['the\u00a0cat', ['the', 'cat']],
  ['the\u3000cat', ['the', 'cat']],
  ['the\u2028cat', ['the', 'cat']],
  ['the\u2003cat', ['the', 'cat']],
  ['\r\n\t ', []],
  ['', []],
];

test('WordPiece ids match the hand-worked tokens on every case', () => {
  assert.ok(CASES.length >= 50);
  for (const [text, tokens] of CASES) {
    const ids = tokens.map((token) => VOCABULARY.indexOf(token));
    assert.ok(!ids.includes(-1), `bad expectation for ${JSON.stringify(text)}`);
    assert.deepEqual(tokenizer.encode(text), ids, `encode(${JSON.stringify(text)})`);
  }
});

test('decode glues continuations, drops special tokens and the spaces before punctuation', () => {
  const id = (token: string): number => VOCABULARY.indexOf(token);
  assert.equal(tokenizer.decode([id('[CLS]'), id('the'), id('cat'), id('.'), id('[SEP]')]), 'the cat.');
  assert.equal(tokenizer.decode([id('play'), id('##er'), id('##s'), id(','), id('dog'), id('!')]), 'players, dog!');
  assert.equal(tokenizer.decode([id('dog'), id("'"), id('cat')]), "dog'cat");
  assert.equal(tokenizer.decode([id('[CLS]'), id('a')], { skipSpecial: false }), '[CLS] a');
  assert.equal(tokenizer.decode([id('a'), id('picture'), id('of'), id('cat')], { alsoSkip: [id('picture')] }), 'a of cat');
  assert.throws(() => tokenizer.decode([VOCABULARY.length]), RangeError);
});

test('idOf finds special tokens by their spelling', () => {
  assert.equal(tokenizer.idOf('[SEP]'), 3);
  assert.equal(tokenizer.idOf('[DEC]'), undefined);
  assert.equal(tokenizer.vocabSize, VOCABULARY.length);
});

test('malformed vocabularies are refused naming the file and the line', () => {
  const refuse = (text: string, pattern: RegExp): void => {
    assert.throws(
      () => WordPieceTokenizer.fromVocabularyText(text, '/models/tokenizers/bert-vocab.txt'),
      (error: unknown) => error instanceof VocabularyFormatError && /^bert-vocab\.txt: /.test(error.message) && pattern.test(error.message),
    );
  };
  refuse('', /empty/);
  refuse('[UNK]\n\nthe\n', /line 2 is empty/);
  refuse('[UNK]\nthe\nthe\n', /line 3 repeats/);
  refuse('[UNK]\nthe \n', /line 2 has leading or trailing whitespace/);
  refuse('[UNK]\r\nthe\r\n', /line 1 has leading or trailing whitespace/);
  refuse('the\ncat\n', /no \[UNK\]/);
  refuse(`[UNK]\n${'x'.repeat(201)}\n`, /line 2 is longer than 200/);
  refuse(Array.from({ length: 250_001 }, (_, i) => `t${i}`).join('\n'), /more than 250000/);
});

test('fromFile refuses invalid UTF-8 and oversized files, writing nothing', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'word-piece-'));
  try {
    const latin1 = path.join(dir, 'latin1.txt');
    await writeFile(latin1, Buffer.from([0x5b, 0x55, 0x4e, 0x4b, 0x5d, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await assert.rejects(WordPieceTokenizer.fromFile(latin1), /latin1\.txt: .*not valid UTF-8/);
    const big = path.join(dir, 'big.txt');
    await writeFile(big, Buffer.alloc(4 * 1024 * 1024 + 1, 0x61));
    await assert.rejects(WordPieceTokenizer.fromFile(big), /big\.txt: .*more than 4194304/);
    const good = path.join(dir, 'vocab.txt');
    await writeFile(good, `${VOCABULARY.join('\n')}\n`);
    const loaded = await WordPieceTokenizer.fromFile(good);
    assert.deepEqual(loaded.encode('Unaffable cats!'), tokenizer.encode('unaffable cats !'));
    assert.deepEqual((await readdir(dir)).sort(), ['big.txt', 'latin1.txt', 'vocab.txt']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
