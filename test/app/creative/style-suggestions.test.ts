import { strict as assert } from 'node:assert';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadStyleLibrary } from '../../../src/app/creative/style-library.ts';
import { RESERVED_STYLE_NAMES } from '../../../src/app/creative/style-names.ts';
import { computeEditDistance, suggestStyleNames } from '../../../src/app/creative/style-suggestions.ts';

describe('style suggestions', () => {
  it('computes the Levenshtein distance', () => {
    assert.equal(computeEditDistance('kitten', 'sitting'), 3);
    assert.equal(computeEditDistance('', 'abc'), 3);
    assert.equal(computeEditDistance('flaw', 'lawn'), 2);
    assert.equal(computeEditDistance('same', 'same'), 0);
  });

  it('suggests the closest shipped names for a typo, a few at most, never the whole list or Random Style', async () => {
    const { styles } = await loadStyleLibrary({ builtinDir: path.resolve(import.meta.dirname, '..', '..', '..', 'data', 'styles') });
    const known = [...RESERVED_STYLE_NAMES, ...styles.keys()];
    const near = suggestStyleNames('Anime Key Visuals', known);
    assert.equal(near[0], 'Anime Key Visual');
    assert.ok(near.length <= 3);
    for (const typo of ['Photo Flim 35mm', 'photo film 35 mm', 'Cinematc Still']) {
      const found = suggestStyleNames(typo, known);
      assert.ok(found.length >= 1 && found.length <= 3, `${typo}: ${found.join(', ')}`);
      assert.ok(!found.includes('Random Style'), typo);
    }
    assert.equal(suggestStyleNames('Photo Flim 35mm', known)[0], 'Photo Film 35mm');
    assert.deepEqual(suggestStyleNames('Gothic Horror Style', known).filter((n) => n === 'Random Style'), []);
    assert.deepEqual(suggestStyleNames('zzzzzzzzzzzz', known), []);
    assert.deepEqual(suggestStyleNames('Randm Style', known), ['Random Style'], 'Random Style when it is what was meant');
  });
});
