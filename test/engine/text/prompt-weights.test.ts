import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { parsePromptWeights, type WeightedSegment } from '../../../src/engine/index.ts';

/** Compares segments with float closeness on weights (1.1 * 1.1 is 1.2100000000000002). */
function assertSegments(actual: WeightedSegment[], expected: [string, number][]): void {
  assert.deepEqual(actual.map((s) => s.text), expected.map(([text]) => text));
  actual.forEach((segment, i) => {
    const weight = expected[i]?.[1] as number;
    assert.ok(Math.abs(segment.weight - weight) < 1e-12, `segment ${i} (${JSON.stringify(segment.text)}): ${segment.weight} vs ${weight}`);
  });
}

describe('parsePromptWeights (ComfyUI attention syntax)', () => {
  it('leaves plain text at weight 1', () => {
    assertSegments(parsePromptWeights('a photo of a cat'), [['a photo of a cat', 1]]);
    assert.deepEqual(parsePromptWeights(''), []);
  });

  it('reads explicit weights', () => {
    assertSegments(parsePromptWeights('(a:1.3)'), [['a', 1.3]]);
    assertSegments(parsePromptWeights('(a: 0.75 )'), [['a', 0.75]]);
    assertSegments(parsePromptWeights('(a:.5) (b:2.) (c:1e-1) (d:-1) (e:1_5)'), [
      ['a', 0.5], [' ', 1], ['b', 2], [' ', 1], ['c', 0.1], [' ', 1], ['d', -1], [' ', 1], ['e', 15],
    ]);
  });

  it('multiplies by 1.1 per pair of parentheses', () => {
    assertSegments(parsePromptWeights('(a)'), [['a', 1.1]]);
    assertSegments(parsePromptWeights('((a))'), [['a', 1.21]]);
    assertSegments(parsePromptWeights('(((a)))'), [['a', 1.331]]);
    assertSegments(parsePromptWeights('((a) b:0.5)'), [['a', 0.55], [' b', 0.5]]);
  });

  it('lets an explicit weight replace the enclosing one rather than multiply it', () => {
    assertSegments(parsePromptWeights('((a:1.3))'), [['a', 1.3]]);
    assertSegments(parsePromptWeights('(x (a:1.3) y:0.5)'), [['x ', 0.5], ['a', 1.3], [' y', 0.5]]);
  });

  it('splits mixed text into segments in order', () => {
    assertSegments(parsePromptWeights('a (b:0.5) c'), [['a ', 1], ['b', 0.5], [' c', 1]]);
    assertSegments(parsePromptWeights('a(b)c'), [['a', 1], ['b', 1.1], ['c', 1]]);
  });

  it('reads only the last colon, and only a number after it', () => {
    assertSegments(parsePromptWeights('(a:b:1.5)'), [['a:b', 1.5]]);
    assertSegments(parsePromptWeights('(time: 12:30)'), [['time: 12', 30]]);
    assertSegments(parsePromptWeights('(a:b)'), [['a:b', 1.1]]);
    assertSegments(parsePromptWeights('(:1.3)'), [[':1.3', 1.1]]); // a colon at the start is not a weight
    assertSegments(parsePromptWeights('(a:inf) (b:nan)'), [['a:inf', 1.1], [' ', 1], ['b:nan', 1.1]]);
  });

  it('treats \\( and \\) as literal parentheses', () => {
    assertSegments(parsePromptWeights('\\(a\\)'), [['(a)', 1]]);
    assertSegments(parsePromptWeights('\\((b)\\)'), [['(', 1], ['b', 1.1], [')', 1]]);
    assertSegments(parsePromptWeights('(a \\(b\\):1.2)'), [['a (b)', 1.2]]);
    assertSegments(parsePromptWeights('(a:1.2\\)'), [['(a:1.2)', 1]]); // the escaped ")" closes nothing
    assertSegments(parsePromptWeights('a\\b \\[c\\]'), [['a\\b \\[c\\]', 1]]); // other backslashes stay
  });

  it('handles unbalanced parentheses as ComfyUI does', () => {
    assertSegments(parsePromptWeights('a (b c'), [['a ', 1], ['(b c', 1]]);
    assertSegments(parsePromptWeights('(a (b)'), [['a ', 1.1], ['(b', 1.1]]);
    assertSegments(parsePromptWeights('a) (b)'), [['a) (b)', 1]]);
    assertSegments(parsePromptWeights('(a)) (b)'), [['a', 1.1], [') (b)', 1]]);
    assertSegments(parsePromptWeights('()'), []);
  });

  it('gives [ ] and { } no meaning', () => {
    assertSegments(parsePromptWeights('[a] {b} [(c)]'), [['[a] {b} [', 1], ['c', 1.1], [']', 1]]);
  });
});
