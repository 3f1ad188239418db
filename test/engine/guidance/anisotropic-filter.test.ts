import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  adaptiveAnisotropicFilter,
  buildGaussianWindow,
  jointBilateralBlur,
  reflectIndex,
  standardizeGuidance,
} from '../../../src/engine/guidance/anisotropic-filter.ts';
import { createTensor, type Tensor } from '../../../src/engine/tensor.ts';
import { createNormalRandom } from '../../../src/engine/random/seeded-normal.ts';
import { nestFlat, referenceAnisotropicFilter } from '../../reference/guidance-reference.ts';

function randomTensor(dims: number[], seed: number, scale = 1): Tensor {
  const normal = createNormalRandom(seed);
  const t = createTensor(dims);
  for (let i = 0; i < t.data.length; i++) t.data[i] = normal() * scale;
  return t;
}

function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  return worst;
}

describe('adaptiveAnisotropicFilter', () => {
  for (const [B, C, H, W] of [
    [1, 4, 9, 11],
    [2, 4, 7, 7],
    [1, 3, 16, 13],
  ] as const) {
    it(`matches the float64 reference on a random [${B}, ${C}, ${H}, ${W}] (every pixel, borders included)`, () => {
      const x = randomTensor([B, C, H, W], 11 + H, 0.7);
      const g = randomTensor([B, C, H, W], 23 + W, 2.5);
      const actual = adaptiveAnisotropicFilter(x, g);
      const expected = referenceAnisotropicFilter(nestFlat(x.data, B, C, H, W), nestFlat(g.data, B, C, H, W)).flat(3);
      assert.deepEqual(actual.dims, [B, C, H, W]);
      assert.ok(maxAbsDiff(actual.data, expected) < 1e-5, `max diff ${maxAbsDiff(actual.data, expected)}`);
    });
  }

  it('guides by x itself when g is omitted', () => {
    const x = randomTensor([1, 4, 8, 8], 5);
    assert.deepEqual(adaptiveAnisotropicFilter(x).data, adaptiveAnisotropicFilter(x, x).data);
  });

  it('is invariant to an affine change of the guidance (g is standardised per item)', () => {
    const x = randomTensor([1, 4, 8, 10], 6);
    const g = randomTensor([1, 4, 8, 10], 7);
    const shifted = createTensor(g.dims, g.data.map((v) => v * 4 + 3));
    assert.ok(maxAbsDiff(adaptiveAnisotropicFilter(x, g).data, adaptiveAnisotropicFilter(x, shifted).data) < 1e-4);
  });

  it('keeps a constant image constant, and filters latents smaller than the reflect pad', () => {
    const x = createTensor([1, 4, 4, 3], new Float32Array(48).fill(0.25));
    const y = adaptiveAnisotropicFilter(x, randomTensor([1, 4, 4, 3], 8));
    for (const v of y.data) assert.ok(Math.abs(v - 0.25) < 1e-6);
  });
});

describe('jointBilateralBlur building blocks', () => {
  it('reflects like PyTorch pad(mode="reflect") without repeating the edge', () => {
    assert.deepEqual([-3, -2, -1, 0, 4, 5, 6, 7].map((i) => reflectIndex(i, 5)), [3, 2, 1, 0, 4, 3, 2, 1]);
    assert.equal(reflectIndex(-6, 1), 0);
  });

  it('builds a normalised Gaussian window centred on the middle tap', () => {
    const w = buildGaussianWindow(13, 3);
    assert.ok(Math.abs(w.reduce((s, v) => s + v, 0) - 1) < 1e-12);
    assert.ok(Math.abs(w[6]! / w[0]! - Math.exp(36 / 18)) < 1e-9);
  });

  it('standardises with the unbiased std plus 1e-5', () => {
    const g = createTensor([1, 1, 1, 4], Float32Array.from([1, 2, 3, 4]));
    const std = Math.sqrt(5 / 3) + 1e-5;
    const expected = [1, 2, 3, 4].map((v) => (v - 2.5) / std);
    assert.ok(maxAbsDiff(standardizeGuidance(g).data, expected) < 1e-6);
  });

  it('rejects an even kernel and mismatched guidance', () => {
    const x = createTensor([1, 1, 8, 8]);
    assert.throws(() => jointBilateralBlur(x, x, { kernelSize: 4, sigmaColor: 3, sigmaSpace: 3 }), /odd/);
    assert.throws(() => jointBilateralBlur(x, createTensor([1, 1, 8, 7]), { kernelSize: 3, sigmaColor: 3, sigmaSpace: 3 }), /match/);
  });
});
