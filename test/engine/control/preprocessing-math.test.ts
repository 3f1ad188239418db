import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { percentileOf, sortAscending, stretchToBytes } from '../../../src/engine/control/percentile.ts';
import { resizeLinear, shrinkByArea } from '../../../src/engine/control/image-resize.ts';
import { labToSrgb, srgbToLab } from '../../../src/engine/control/lab-color.ts';

describe('percentileOf', () => {
  it('matches NumPy linear percentiles (values computed by hand from its definition)', () => {
    // NumPy 2.4: np.percentile([1, 2, 3, 4], 1) = 1.03, (..., 99) = 3.9699999999999998, (arange(10), 4) = 0.36, (arange(10), 96) = 8.64
    assert.equal(percentileOf([1, 2, 3, 4], 1), 1.03);
    assert.equal(percentileOf([1, 2, 3, 4], 99), 3.9699999999999998);
    assert.equal(percentileOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4), 0.36);
    assert.equal(percentileOf([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 96), 8.64);
    assert.equal(percentileOf([5], 50), 5);
    assert.equal(percentileOf([2, 8], 0), 2);
    assert.equal(percentileOf([2, 8], 100), 8);
    assert.equal(percentileOf([2, 8], 50), 5);
  });

  it('sorts a copy and refuses out-of-range requests', () => {
    const values = Float32Array.from([3, 1, 2]);
    assert.deepEqual(Array.from(sortAscending(values)), [1, 2, 3]);
    assert.deepEqual(Array.from(values), [3, 1, 2]);
    assert.throws(() => percentileOf([], 50), /empty/);
    assert.throws(() => percentileOf([1], 101), /outside/);
  });
});

describe('stretchToBytes', () => {
  it('maps the low percentile to 0 and the high one to 255, clipping and truncating as astype(uint8)', () => {
    const values = Float32Array.from({ length: 101 }, (_, i) => i); // percentile p of 0..100 is p itself
    const bytes = stretchToBytes(values, 4, 96);
    assert.equal(bytes[0], 0);
    assert.equal(bytes[4], 0);
    assert.equal(bytes[96], 255);
    assert.equal(bytes[100], 255);
    assert.equal(bytes[50], Math.trunc(((50 - 4) / 92) * 255)); // 127.5 -> 127
    assert.equal(bytes[5], 2); // 2.77 truncates
  });

  it('gives zeros for a flat map instead of dividing by zero', () => {
    assert.deepEqual(Array.from(stretchToBytes(new Float32Array(9).fill(3), 1, 99)), new Array(9).fill(0));
  });
});

describe('shrinkByArea', () => {
  it('weights partly covered pixels by their covered fraction (5 -> 2: cells of 2.5 pixels)', () => {
    const row = Uint8Array.from([0, 10, 20, 30, 40]);
    // (0 + 10 + 0.5 * 20) / 2.5 = 8 and (0.5 * 20 + 30 + 40) / 2.5 = 32
    assert.deepEqual(Array.from(shrinkByArea(row, 5, 1, 1, 2, 1)), [8, 32]);
  });

  it('averages 2x2 blocks rounding half up, and copies at the same size', () => {
    const block = Uint8Array.from([1, 2, 1, 1, 1, 2, 2, 2, 2, 2, 1, 2]); // two 2x2 blocks, one channel, width 4... see below
    // rows: [1, 2, 1, 1] and [1, 2, 2, 2] / [2, 2, 1, 2]: use width 4, height 2 on the first 8 bytes
    const out = shrinkByArea(block.subarray(0, 8), 4, 2, 1, 2, 1);
    assert.deepEqual(Array.from(out), [(1 + 2 + 1 + 2 + 2) >> 2, (1 + 1 + 2 + 2 + 2) >> 2]); // 6/4 -> 2, 6/4 -> 2
    assert.deepEqual(Array.from(shrinkByArea(Uint8Array.from([1, 1, 1, 2]), 2, 2, 1, 1, 1)), [1]); // 5/4 = 1.25
    assert.deepEqual(Array.from(shrinkByArea(Uint8Array.from([9, 8, 7]), 3, 1, 1, 3, 1)), [9, 8, 7]);
  });

  it('keeps channels apart and refuses to enlarge', () => {
    const rgb = Uint8Array.from([10, 20, 30, 30, 40, 50]);
    assert.deepEqual(Array.from(shrinkByArea(rgb, 2, 1, 3, 1, 1)), [20, 30, 40]);
    assert.throws(() => shrinkByArea(rgb, 2, 1, 3, 3, 1), /only shrinks/);
  });
});

describe('resizeLinear', () => {
  it('uses half-pixel centres and clamps at the edges (cv2.resize of [0, 1] to 4 is [0, 0.25, 0.75, 1])', () => {
    assert.deepEqual(Array.from(resizeLinear(Float32Array.from([0, 1]), 2, 1, 1, 4, 1)), [0, 0.25, 0.75, 1]);
    assert.deepEqual(Array.from(resizeLinear(Float32Array.from([0, 1, 2, 3]), 4, 1, 1, 2, 1)), [0.5, 2.5]);
  });

  it('interpolates both axes', () => {
    const grid = Float32Array.from([0, 10, 20, 30]); // 2x2
    const up = resizeLinear(grid, 2, 2, 1, 4, 4);
    assert.equal(up[1 * 4 + 1], 0.75 * 0.75 * 0 + 0.75 * 0.25 * 10 + 0.25 * 0.75 * 20 + 0.25 * 0.25 * 30);
  });
});

describe('srgbToLab', () => {
  it('gives the published CIE Lab of sRGB primaries (D65)', () => {
    const close = (actual: number[], expected: number[], tol: number): void =>
      actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < tol, `${actual} vs ${expected}`));
    close(srgbToLab(1, 0, 0), [53.24, 80.09, 67.2], 0.05);
    close(srgbToLab(0, 1, 0), [87.73, -86.18, 83.18], 0.05);
    close(srgbToLab(1, 1, 1), [100, 0, 0], 0.01);
    close(srgbToLab(0, 0, 0), [0, 0, 0], 1e-9);
  });

  it('round-trips through labToSrgb', () => {
    for (const c of [[0.2, 0.5, 0.9], [1, 0, 0], [0.01, 0.02, 0.03], [0.5, 0.5, 0.5]] as const) {
      const back = labToSrgb(...srgbToLab(c[0], c[1], c[2]));
      back.forEach((v, i) => assert.ok(Math.abs(v - c[i]!) < 1e-4, `${back} vs ${c}`));
    }
  });
});
