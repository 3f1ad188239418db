import { strict as assert } from 'node:assert';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ClipTokenizer } from '../../../src/engine/index.ts';
import { CATEGORY_VOCABULARY, GENERAL_POOLS, SUBJECT_CATEGORIES } from '../../../src/app/creative/expansion-vocabulary.ts';
import { createWordPoolExpander, detectSubjectCategory } from '../../../src/app/creative/prompt-expansion.ts';
import { collectContentStems, stemWord } from '../../../src/app/creative/word-stems.ts';

/** Whitespace/punctuation token count: a stand-in with the same monotonic shape as CLIP's. */
const countWords = (text: string): number => text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu)?.length ?? 0;
const expander = createWordPoolExpander({ countTokens: countWords });
const added = (prompt: string, out: string): string => out.slice(prompt.length).replace(/^, /, '');

describe('detectSubjectCategory', () => {
  const cases: [string, string | null][] = [
    ['portrait of an old fisherman, a man with a beard', 'portrait'],
    ['two kittens playing with a cat toy', 'animal'],
    ['misty mountains above a quiet lake', 'landscape'],
    ['a narrow street in an old town', 'architecture'],
    ['a bowl of ramen with soft eggs', 'food'],
    ['a vintage motorcycle parked by the road', 'vehicle'],
    ['a perfume bottle on marble', 'product'],
    ['a dragon guarding enchanted ruins', 'fantasy'],
    ['a robot repairing a spaceship', 'scifi'],
    ['geometric shapes and flowing gradients', 'abstract'],
    ['qwerty zxcv', null],
  ];
  for (const [prompt, category] of cases) it(`${prompt} -> ${category}`, () => assert.equal(detectSubjectCategory(prompt), category));
});

describe('word pool expander', () => {
  it('is deterministic per (prompt, seed, styles) and varies with the seed', () => {
    const prompt = 'a red fox in the snow';
    const outs = Array.from({ length: 20 }, (_, i) => expander.expand(prompt, { seed: BigInt(i), styles: [] }));
    outs.forEach((out, i) => assert.equal(out, expander.expand(prompt, { seed: BigInt(i), styles: [] })));
    assert.ok(new Set(outs).size >= 15, `only ${new Set(outs).size} distinct expansions in 20 seeds`);
    for (const out of outs) assert.ok(out.startsWith(`${prompt}, `));
  });

  it('never repeats a word of the prompt or the styles, nor one of its own', () => {
    const styles = ['cinematic film still of {prompt}, dramatic lighting, shallow depth of field, color graded'];
    for (const prompt of ['portrait of a woman with expressive eyes in soft window light', 'a golden retriever', 'castle', 'a bowl of soup']) {
      for (let seed = 0n; seed < 25n; seed++) {
        const out = expander.expand(prompt, { seed, styles });
        const phrases = added(prompt, out).split(', ');
        const before = collectContentStems(`${prompt} ${styles.join(' ')}`);
        const own = new Set<string>();
        for (const phrase of phrases) {
          for (const stem of collectContentStems(phrase)) {
            assert.ok(!before.has(stem), `"${phrase}" repeats "${stem}" from the prompt or styles (seed ${seed})`);
            assert.ok(!own.has(stem), `"${stem}" added twice in "${out}"`);
            own.add(stem);
          }
        }
      }
    }
  });

  it('keeps the added text within the token cap', () => {
    for (const cap of [4, 10, 24]) {
      const capped = createWordPoolExpander({ countTokens: countWords, maxAddedTokens: cap });
      for (let seed = 0n; seed < 20n; seed++) {
        const prompt = 'a lighthouse on a cliff';
        const out = capped.expand(prompt, { seed, styles: [] });
        assert.ok(countWords(out.slice(prompt.length)) <= cap, `${out} exceeds ${cap}`);
      }
    }
    const none = createWordPoolExpander({ countTokens: countWords, maxAddedTokens: 1 });
    assert.equal(none.expand('a cat', { seed: 1n, styles: [] }), 'a cat');
  });

  it('leaves an empty prompt alone', () => {
    assert.equal(expander.expand('', { seed: 1n, styles: [] }), '');
    assert.equal(expander.expand('   ', { seed: 1n, styles: [] }), '   ');
  });

  describe('with the real CLIP tokenizer', () => {
    let tokenizer: ClipTokenizer;
    before(async () => {
      tokenizer = await ClipTokenizer.fromGzipFile(path.resolve(import.meta.dirname, '..', '..', '..', 'data', 'tokenizers', 'bpe_simple_vocab_16e6.txt.gz'));
    });
    it('adds at most 24 CLIP tokens', () => {
      const clip = createWordPoolExpander({ countTokens: (t) => tokenizer.encode(t).length });
      for (let seed = 0n; seed < 20n; seed++) {
        const prompt = 'an astronaut riding a horse';
        const out = clip.expand(prompt, { seed, styles: [] });
        const extra = tokenizer.encode(out.slice(prompt.length)).length;
        assert.ok(extra > 0 && extra <= 24, `${extra} tokens: ${out}`);
      }
    });
  });
});

describe('expansion vocabulary', () => {
  it('has no phrase that repeats a word within itself, and pools of a useful size', () => {
    const pools = [...SUBJECT_CATEGORIES.map((c) => CATEGORY_VOCABULARY[c].phrases), ...Object.values(GENERAL_POOLS)];
    for (const pool of pools) {
      assert.ok(pool.length >= 10);
      assert.equal(new Set(pool).size, pool.length, 'no duplicate phrases');
    }
  });

  it('stems plurals and inflections lightly', () => {
    assert.deepEqual(['cats', 'glowing', 'glow', 'shimmering', 'berries', 'boxes', 'softly', 'glass'].map(stemWord), ['cat', 'glow', 'glow', 'shimmer', 'berry', 'box', 'soft', 'glass']);
  });
});
