import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { BICUBIC_FILTER, BILINEAR_FILTER, computeResampleTaps, LANCZOS_FILTER, type ResampleTaps } from '../../../src/engine/upscale/resample-taps.ts';

const FILTERS = { bilinear: BILINEAR_FILTER, bicubic: BICUBIC_FILTER, lanczos: LANCZOS_FILTER };
const SIZES: readonly (readonly [number, number])[] = [[1, 1], [1, 5], [3, 7], [7, 3], [8, 4], [10, 10], [16, 64], [64, 16], [97, 31], [31, 97]];

/** Output i's weights as a plain list. */
function weightsOf(taps: ResampleTaps<Float32Array | Float64Array>, i: number): number[] {
  return Array.from(taps.weights.subarray(i * taps.stride, i * taps.stride + taps.count[i]!));
}

/** Output i's weight for every source index (0 outside its window; a window may end on a zero-weight tap). */
function denseWeights(taps: ResampleTaps<Float32Array | Float64Array>, i: number, inSize: number): number[] {
  const dense = new Array<number>(inSize).fill(0);
  weightsOf(taps, i).forEach((w, k) => (dense[taps.start[i]! + k] = w));
  return dense;
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${actual} vs ${expected}`);
  actual.forEach((v, k) => assert.ok(Math.abs(v - expected[k]!) <= tolerance, `${what} tap ${k}: ${v} vs ${expected[k]}`));
}

describe('separable resampling taps', () => {
  it('every output reads a window inside the source whose weights sum to 1, for every filter, up and down', () => {
    for (const [name, filter] of Object.entries(FILTERS)) {
      for (const [inSize, outSize] of SIZES) {
        const taps = computeResampleTaps(inSize, outSize, filter);
        assert.equal(taps.start.length, outSize);
        for (let i = 0; i < outSize; i++) {
          const what = `${name} ${inSize}->${outSize} output ${i}`;
          assert.ok(taps.count[i]! >= 1 && taps.count[i]! <= taps.stride, `${what}: count ${taps.count[i]} stride ${taps.stride}`);
          assert.ok(taps.start[i]! >= 0 && taps.start[i]! + taps.count[i]! <= inSize, `${what}: [${taps.start[i]}, +${taps.count[i]})`);
          const sum = weightsOf(taps, i).reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - 1) < 1e-12, `${what}: sum ${sum}`);
        }
      }
    }
  });

  it('is mirror-symmetric: output i weighs source j as output n-1-i weighs source m-1-j', () => {
    for (const [name, filter] of Object.entries(FILTERS)) {
      for (const [inSize, outSize] of [[8, 4], [4, 8], [12, 5], [5, 12], [30, 30]] as const) {
        const taps = computeResampleTaps(inSize, outSize, filter);
        for (let i = 0; i < outSize; i++) {
          const mirrored = denseWeights(taps, outSize - 1 - i, inSize).reverse();
          assertClose(denseWeights(taps, i, inSize), mirrored, 1e-12, `${name} ${inSize}->${outSize} output ${i}`);
        }
      }
    }
  });

  it('matches hand-computed bilinear weights: halving widens the triangle, doubling is plain interpolation', () => {
    // 4 -> 2: centres 1 and 3, triangle of half-width 2: raw weights 0.75, 0.75, 0.25 over 1.75.
    const down = computeResampleTaps(4, 2, BILINEAR_FILTER);
    assert.deepEqual([...down.start], [0, 1]);
    assert.deepEqual([...down.count], [3, 3]);
    assertClose(weightsOf(down, 0), [3 / 7, 3 / 7, 1 / 7], 1e-15, 'down 0');
    assertClose(weightsOf(down, 1), [1 / 7, 3 / 7, 3 / 7], 1e-15, 'down 1');
    // 2 -> 4: centres 0.25, 0.75, 1.25, 1.75 (source pixel centres at 0.5 and 1.5); the edges clamp to one pixel.
    const up = computeResampleTaps(2, 4, BILINEAR_FILTER);
    assert.deepEqual([...up.start], [0, 0, 0, 1]);
    assertClose(weightsOf(up, 0), [1], 0, 'up 0');
    assertClose(weightsOf(up, 1), [0.75, 0.25], 1e-15, 'up 1');
    assertClose(weightsOf(up, 2), [0.25, 0.75], 1e-15, 'up 2');
    assertClose(weightsOf(up, 3), [1], 0, 'up 3');
  });

  it('matches hand-computed bicubic weights (a = -0.5), the identity and a halving', () => {
    const k = BICUBIC_FILTER.kernel;
    assert.deepEqual([k(0), k(0.5), k(1), k(1.5), k(2)].map((v) => v + 0), [1, 0.5625, 0, -0.0625, 0]); // + 0 folds k(1) = -0
    const identity = computeResampleTaps(4, 4, BICUBIC_FILTER);
    for (let i = 0; i < 4; i++) {
      const w = weightsOf(identity, i);
      assert.equal(w[i - identity.start[i]!], 1, `identity output ${i}`);
      assert.equal(w.reduce((a, b) => a + Math.abs(b), 0), 1, `identity output ${i} reads only its own pixel`);
    }
    // 4 -> 2: the kernel widens to support 4; output 0 (centre 1) reads pixels 0..3 at widened distances
    // -0.25, 0.25, 0.75, 1.25, where the cubic is 0.8671875, 0.8671875, 0.2265625, -0.0703125 (sum 1.890625).
    const down = computeResampleTaps(4, 2, BICUBIC_FILTER);
    assert.deepEqual([...down.start, ...down.count], [0, 0, 4, 4]);
    assertClose(weightsOf(down, 0), [0.8671875, 0.8671875, 0.2265625, -0.0703125].map((v) => v / 1.890625), 1e-15, 'bicubic down 0');
  });

  it('Lanczos-3 is 1 at its centre, 0 at every other whole pixel and beyond three lobes', () => {
    const k = LANCZOS_FILTER.kernel;
    assert.equal(k(0), 1);
    for (const x of [1, 2, -1, -2]) assert.ok(Math.abs(k(x)) < 1e-15, `lanczos(${x}) = ${k(x)}`);
    for (const x of [3, -3, 3.5, -10]) assert.equal(k(x), 0);
  });

  it('keeps float32 weights when asked: each raw weight rounded, then divided in float32', () => {
    const f32 = computeResampleTaps(97, 31, LANCZOS_FILTER, 'float32');
    const f64 = computeResampleTaps(97, 31, LANCZOS_FILTER);
    assert.ok(f32.weights instanceof Float32Array);
    assert.ok(f64.weights instanceof Float64Array);
    assert.equal(f32.stride, f64.stride);
    let differs = false;
    for (let i = 0; i < f64.weights.length; i++) {
      assert.ok(Math.abs(f32.weights[i]! - f64.weights[i]!) < 1e-7, `weight ${i}`);
      if (f32.weights[i] !== f64.weights[i]) differs = true;
    }
    assert.ok(differs, 'float32 weights should not be the float64 ones');
    // 3 -> 2, output 0 (centre 0.75, filter scale 1.5) reads pixels 0..2.
    const small = computeResampleTaps(3, 2, LANCZOS_FILTER, 'float32');
    const raw = [0, 1, 2].map((j) => LANCZOS_FILTER.kernel((j + 0.5 - 0.75) / 1.5));
    const total = raw.reduce((a, b) => a + b, 0);
    assert.deepEqual(weightsOf(small, 0), raw.map((v) => Math.fround(Math.fround(v) / total)));
  });

  it('gives no taps for a zero size and refuses a negative or fractional one', () => {
    const none = computeResampleTaps(5, 0, BILINEAR_FILTER);
    assert.equal(none.start.length, 0);
    const empty = computeResampleTaps(0, 3, BILINEAR_FILTER);
    assert.deepEqual([...empty.count], [0, 0, 0]);
    assert.throws(() => computeResampleTaps(-1, 3, BILINEAR_FILTER), /cannot resample -1 pixels to 3/);
    assert.throws(() => computeResampleTaps(4, 2.5, BILINEAR_FILTER), /cannot resample 4 pixels to 2.5/);
  });
});
