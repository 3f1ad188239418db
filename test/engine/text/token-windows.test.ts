import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ClipTokenizer, CLIP_WINDOW_LENGTH, tokenizeWeighted, type TokenWindow } from '../../../src/engine/index.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const vocabPath = path.join(repoRoot, 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');

// The byte-level vocabulary makes token counts obvious: one token per byte of each word.
const bytes = ClipTokenizer.byteLevel();
const A = bytes.encode('a')[0] as number; // "a</w>"

function assertWellFormed(windows: TokenWindow[], tokenizer: ClipTokenizer): void {
  for (const window of windows) {
    assert.equal(window.tokens.length, CLIP_WINDOW_LENGTH);
    assert.equal(window.weights.length, CLIP_WINDOW_LENGTH);
    assert.equal(window.tokens[0], tokenizer.bos);
    assert.ok(window.tokens.includes(tokenizer.eos));
  }
}

/** The prompt tokens of a window: between BOS and the first EOS. */
function body(window: TokenWindow, tokenizer: ClipTokenizer): number[] {
  return window.tokens.slice(1, window.tokens.indexOf(tokenizer.eos, 1));
}

const words = (n: number): string => Array.from({ length: n }, () => 'a').join(' ');

describe('tokenizeWeighted', () => {
  it('gives an empty prompt one window of BOS, EOS and padding', () => {
    const [window, ...rest] = tokenizeWeighted(bytes, '', { padWith: 'eos' });
    assert.equal(rest.length, 0);
    assert.deepEqual(window?.tokens, [512, ...Array<number>(76).fill(513)]);
    assert.deepEqual(window?.weights, Array<number>(77).fill(1));
  });

  it('pads with EOS, zero or a chosen id', () => {
    assert.deepEqual(tokenizeWeighted(bytes, 'a', { padWith: 'zero' })[0]?.tokens, [512, A, 513, ...Array<number>(74).fill(0)]);
    assert.deepEqual(tokenizeWeighted(bytes, 'a', { padWith: 'eos' })[0]?.tokens, [512, A, 513, ...Array<number>(74).fill(513)]);
    assert.deepEqual(tokenizeWeighted(bytes, 'a', { padWith: 7 })[0]?.tokens, [512, A, 513, ...Array<number>(74).fill(7)]);
    assert.throws(() => tokenizeWeighted(bytes, 'a', { padWith: 514 }), RangeError);
    assert.throws(() => tokenizeWeighted(bytes, 'a', { padWith: 1.5 }), RangeError);
  });

  it('fits exactly 75 tokens in one window', () => {
    const windows = tokenizeWeighted(bytes, words(75), { padWith: 'eos' });
    assert.equal(windows.length, 1);
    assertWellFormed(windows, bytes);
    assert.deepEqual(windows[0]?.tokens, [512, ...Array<number>(75).fill(A), 513]);
  });

  it('spills the 76th token into a second window', () => {
    const windows = tokenizeWeighted(bytes, words(76), { padWith: 'zero' });
    assert.equal(windows.length, 2);
    assertWellFormed(windows, bytes);
    assert.deepEqual(windows[0]?.tokens, [512, ...Array<number>(75).fill(A), 513]);
    assert.deepEqual(windows[1]?.tokens, [512, A, 513, ...Array<number>(74).fill(0)]);
  });

  it('moves a word that straddles the boundary whole to the next window', () => {
    const abc = bytes.encode('abc');
    const windows = tokenizeWeighted(bytes, `${words(74)} abc a`, { padWith: 'zero' });
    assert.equal(windows.length, 2);
    assertWellFormed(windows, bytes);
    assert.deepEqual(windows[0]?.tokens, [512, ...Array<number>(74).fill(A), 513, 0]); // closed early, padded
    assert.deepEqual(body(windows[1] as TokenWindow, bytes), [...abc, A]);
  });

  it('splits a word of 8 or more tokens at the boundary, as ComfyUI does', () => {
    const long = bytes.encode('abcdefghij');
    const windows = tokenizeWeighted(bytes, `${words(74)} abcdefghij`, { padWith: 'eos' });
    assert.equal(windows.length, 2);
    assertWellFormed(windows, bytes);
    assert.deepEqual(body(windows[0] as TokenWindow, bytes), [...Array<number>(74).fill(A), long[0]]);
    assert.deepEqual(body(windows[1] as TokenWindow, bytes), long.slice(1));
  });

  it('spreads a word longer than a window over several windows', () => {
    const huge = 'x'.repeat(200);
    const windows = tokenizeWeighted(bytes, huge, { padWith: 'eos' });
    assert.equal(windows.length, 3);
    assertWellFormed(windows, bytes);
    assert.deepEqual(windows.flatMap((w) => body(w, bytes)), bytes.encode(huge));
  });

  it('carries segment weights on tokens, 1.0 on BOS, EOS and padding', () => {
    const [window] = tokenizeWeighted(bytes, 'a (ab:1.5) ((a))', { padWith: 'eos' });
    assert.deepEqual(window?.weights.slice(0, 6), [1, 1, 1.5, 1.5, 1.1 * 1.1, 1]);
    assert.ok(window?.weights.slice(5).every((w) => w === 1));
  });

  it('ends words at segment boundaries, spaces and newlines', () => {
    const joined = tokenizeWeighted(bytes, 'abc', { padWith: 'eos' })[0] as TokenWindow;
    const split = tokenizeWeighted(bytes, 'a(b)c', { padWith: 'eos' })[0] as TokenWindow;
    assert.deepEqual(body(joined, bytes), bytes.encode('abc'));
    assert.deepEqual(body(split, bytes), bytes.encode('a b c'));
    assert.deepEqual(body(tokenizeWeighted(bytes, 'a\nb', { padWith: 'eos' })[0] as TokenWindow, bytes), bytes.encode('a b'));
  });

  it('frames the real CLIP ids', async () => {
    const clip = await ClipTokenizer.fromGzipFile(vocabPath);
    const [window, ...rest] = tokenizeWeighted(clip, 'a photo of a (cat:1.2)', { padWith: 'eos' });
    assert.equal(rest.length, 0);
    assert.deepEqual(window?.tokens.slice(0, 8), [49406, 320, 1125, 539, 320, 2368, 49407, 49407]);
    assert.deepEqual(window?.weights.slice(0, 8), [1, 1, 1, 1, 1, 1.2, 1, 1]);
    const bigG = tokenizeWeighted(clip, 'a photo of a cat', { padWith: 'zero' })[0] as TokenWindow;
    assert.deepEqual(bigG.tokens.slice(5, 9), [2368, 49407, 0, 0]);
  });
});
