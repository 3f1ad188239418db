import { strict as assert } from 'node:assert';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ClipTokenizer } from '../../../src/engine/index.ts';
import { unescapeHtml } from '../../../src/engine/text/html-unescape.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
// The merges file the application ships (data/tokenizers, MIT; see its README.md for the source and digest).
const vocabPath = path.join(repoRoot, 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz');

/** Position of a byte in GPT-2's byte table: printable runs 0x21-0x7e, 0xa1-0xac, 0xae-0xff come first. */
function byteIndex(byte: number): number {
  if (byte >= 0x21 && byte <= 0x7e) return byte - 0x21;
  if (byte >= 0xa1 && byte <= 0xac) return 94 + byte - 0xa1;
  if (byte >= 0xae && byte <= 0xff) return 106 + byte - 0xae;
  throw new Error('only printable bytes are used in these tests');
}
const endOfWordId = (char: string): number => 256 + byteIndex(char.charCodeAt(0));

describe('ClipTokenizer with the OpenAI CLIP merges', () => {
  let tokenizer: ClipTokenizer;
  before(async () => {
    tokenizer = await ClipTokenizer.fromGzipFile(vocabPath);
  });

  it('has the OpenAI vocabulary size and special ids', () => {
    assert.equal(tokenizer.vocabSize, 49408);
    assert.equal(tokenizer.bos, 49406);
    assert.equal(tokenizer.eos, 49407);
    assert.deepEqual(tokenizer.encode('<|startoftext|> <|endoftext|>'), [49406, 49407]);
  });

  it('matches published ids', () => {
    assert.deepEqual(tokenizer.encode('a photo of a cat'), [320, 1125, 539, 320, 2368]);
    assert.deepEqual(tokenizer.encode('hello world'), [3306, 1002]);
  });

  it('gives punctuation its own single-byte end-of-word tokens', () => {
    // ',' and '!' are never merged with letters by the pre-tokenizer, so each is its byte symbol + </w>.
    assert.deepEqual(tokenizer.encode('hello, world!'), [3306, endOfWordId(','), 1002, endOfWordId('!')]);
    assert.deepEqual(tokenizer.encode('hello,world!'), tokenizer.encode('hello, world!'));
  });

  it('lowercases, collapses whitespace and strips', () => {
    const expected = tokenizer.encode('a photo of a cat');
    assert.deepEqual(tokenizer.encode('  A PHOTO\n\tof  a\u00a0Cat  '), expected);
    assert.deepEqual(tokenizer.encode(''), []);
    assert.deepEqual(tokenizer.encode(' \n '), []);
  });

  it('HTML-unescapes twice', () => {
    assert.deepEqual(tokenizer.encode('&amp;amp;'), tokenizer.encode('&'));
    assert.deepEqual(tokenizer.encode('&lt;cat&gt;'), tokenizer.encode('<cat>'));
    assert.deepEqual(tokenizer.encode('caf&eacute; &#x1F431;'), tokenizer.encode('café 🐱'));
    assert.deepEqual(tokenizer.encode('&amp;#233;'), tokenizer.encode('é'));
  });

  it('round-trips accents, CJK and emoji through decode', () => {
    for (const text of ['café naïve façade', '東京 タワー 서울', '🐱 🚀🌕 👩‍🚀', 'ünïcödé ελληνικά русский']) {
      assert.equal(tokenizer.decode(tokenizer.encode(text)), `${text} `, text);
    }
    assert.equal(tokenizer.decode(tokenizer.encode('hello, world!')), 'hello , world ! ');
  });

  it('splits contractions and numbers like the original pre-tokenizer', () => {
    const ids = tokenizer.encode("don't 2024");
    assert.equal(tokenizer.decode(ids), "don 't 2 0 2 4 ");
  });

  it('pre-tokenizes exactly as Python regex with IGNORECASE and str.strip do', () => {
    assert.equal(tokenizer.decode(tokenizer.encode("it'\u017f")), "it '\u017f "); // long s folds to s: a contraction
    assert.equal(tokenizer.decode(tokenizer.encode("it'x")), "it ' x ");
    assert.deepEqual(tokenizer.encode('x\u0345y'), tokenizer.encode('x y')); // matched by no alternative: dropped
    assert.deepEqual(tokenizer.encode('\u001fcat\u001c'), tokenizer.encode('cat')); // str.strip() removes U+001C-1F
    assert.equal(tokenizer.decode(tokenizer.encode('a\u001fb')), 'a \u001f b '); // ... but \s does not match them
    assert.deepEqual(tokenizer.encode('a\u0085b\u3000c'), tokenizer.encode('a b c'));
  });

  it('composes decomposed accents (NFC) before encoding', () => {
    assert.deepEqual(tokenizer.encode('cafe\u0301'), tokenizer.encode('caf\u00e9'));
  });

  it('rejects ids outside the vocabulary', () => {
    assert.throws(() => tokenizer.decode([49408]), RangeError);
    assert.throws(() => tokenizer.decode([-1]), RangeError);
  });
});

describe('ClipTokenizer.fromBpeText', () => {
  it('applies merges by rank, with </w> marking the end of a word', () => {
    const tokenizer = ClipTokenizer.fromBpeText('#version: test\na b\nb c</w>\nab c</w>\n');
    // ids: 512 = "ab", 513 = "bc</w>", 514 = "abc</w>", then BOS, EOS
    assert.equal(tokenizer.vocabSize, 517);
    assert.equal(tokenizer.bos, 515);
    assert.equal(tokenizer.eos, 516);
    assert.deepEqual(tokenizer.encode('abc'), [514]);
    assert.deepEqual(tokenizer.encode('ab'), [byteIndex(0x61), endOfWordId('b')]); // "b</w>" is not "b", so no merge
    assert.deepEqual(tokenizer.encode('bc'), [513]);
    assert.deepEqual(tokenizer.encode('ca'), [byteIndex(0x63), endOfWordId('a')]);
    assert.deepEqual(tokenizer.encode('abbc'), [512, 513]);
    assert.equal(tokenizer.decode([512, 513, 514]), 'abbc abc ');
  });

  it('lets the lower rank win when pairs compete', () => {
    const tokenizer = ClipTokenizer.fromBpeText('#version: test\nb c</w>\na b');
    assert.deepEqual(tokenizer.encode('abc'), [byteIndex(0x61), 512]);
  });

  it('rejects a malformed merges line', () => {
    assert.throws(() => ClipTokenizer.fromBpeText('#version: test\na b\nabc\n'), /line 3/);
  });
});

describe('ClipTokenizer.byteLevel', () => {
  const tokenizer = ClipTokenizer.byteLevel();

  it('has 514 ids with BOS 512 and EOS 513, EOS the largest', () => {
    assert.equal(tokenizer.vocabSize, 514);
    assert.equal(tokenizer.bos, 512);
    assert.equal(tokenizer.eos, 513);
  });

  it('encodes one token per UTF-8 byte, the last of each word marked </w>', () => {
    assert.deepEqual(tokenizer.encode('cat'), [byteIndex(0x63), byteIndex(0x61), endOfWordId('t')]);
    assert.deepEqual(tokenizer.encode('é'), [byteIndex(0xc3), 256 + byteIndex(0xa9)]);
    assert.equal(tokenizer.encode('東京 🐱').length, 6 + 4);
  });

  it('round-trips through decode', () => {
    assert.equal(tokenizer.decode(tokenizer.encode('Café 東京 🐱')), 'café 東京 🐱 ');
  });
});

describe('unescapeHtml (Python html.unescape semantics)', () => {
  it('decodes named and numeric references', () => {
    assert.equal(unescapeHtml('&amp; &lt; &gt; &quot; &apos; &nbsp;'), '& < > " \' \u00a0');
    assert.equal(unescapeHtml('&eacute;&Eacute;&yuml;&hellip;&mdash;&alpha;&Omega;'), 'éÉÿ…—αΩ');
    assert.equal(unescapeHtml('&#65;&#x42;&#X43;&#0068'), 'ABCD');
  });

  it('accepts legacy names without a semicolon, also as a prefix', () => {
    assert.equal(unescapeHtml('&amp &copy2024 &eacutex'), '& ©2024 éx');
    assert.equal(unescapeHtml('&notit;'), '¬it;');
    assert.equal(unescapeHtml('&apos &hellip'), '&apos &hellip'); // not legacy names: need their ';'
  });

  it('leaves unknown names alone', () => {
    assert.equal(unescapeHtml('&bogus; & &; &#; &#x;'), '&bogus; & &; &#; &#x;');
  });

  it('maps invalid numeric references as Python does', () => {
    assert.equal(unescapeHtml('&#0;'), '\ufffd');
    assert.equal(unescapeHtml('&#128;&#x92;&#x81;'), '€\u2019\x81');
    assert.equal(unescapeHtml('&#xD800;&#x110000;&#99999999999999999999;'), '\ufffd\ufffd\ufffd');
    assert.equal(unescapeHtml('a&#1;&#x7f;&#xFFFE;&#x1FFFF;&#xFDD0;b'), 'ab');
    assert.equal(unescapeHtml('&#13;'), '\r');
  });
});
