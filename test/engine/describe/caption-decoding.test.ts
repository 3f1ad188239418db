import assert from 'node:assert/strict';
import { test } from 'node:test';
import { preprocessBlipImage } from '../../../src/engine/describe/blip-image-preprocess.ts';
import { createTokenChooser, keepTopK, keepTopP, penalizeRepeats } from '../../../src/engine/describe/caption-decoding.ts';
import { CLIP_IMAGE_MEAN, CLIP_IMAGE_STD } from '../../../src/engine/ip-adapter/clip-image-preprocess.ts';

test('repetition penalty divides positive and multiplies negative scores of ids already used, once each', () => {
  const scores = Float64Array.from([2, -2, 3, 1]);
  penalizeRepeats(scores, [0, 1, 1], 2);
  assert.deepEqual([...scores], [1, -4, 3, 1]);
});

test('top-k keeps the k best scores', () => {
  const scores = Float64Array.from([0.5, 3, 1, 2]);
  keepTopK(scores, 2);
  assert.deepEqual([...scores], [-Infinity, 3, -Infinity, 2]);
});

test('top-p keeps the smallest set of best tokens holding more than p', () => {
  // probabilities 0.5, 0.3, 0.15, 0.05 (as log-probabilities)
  const probs = [0.5, 0.3, 0.15, 0.05];
  const filtered = (p: number): boolean[] => {
    const scores = Float64Array.from(probs.map(Math.log));
    keepTopP(scores, p);
    return [...scores].map((s) => s !== -Infinity);
  };
  // ascending cumulative: 0.05, 0.20, 0.50, 1.0; removed while <= 1 - p
  assert.deepEqual(filtered(0.9), [true, true, true, false]);
  assert.deepEqual(filtered(0.75), [true, true, false, false]);
  assert.deepEqual(filtered(0.4), [true, false, false, false]);
  assert.deepEqual(filtered(0.01), [true, false, false, false]);
});

test('greedy picks the best token but never the end token before the minimum length', () => {
  const choose = createTokenChooser({ mode: 'greedy', seed: 0, maxLength: 75, minLength: 3 }, 2);
  const logits = Float32Array.from([0, 1, 5, 2]);
  assert.equal(choose(logits, [9, 9]), 3);
  assert.equal(choose(logits, [9, 9, 9]), 2);
});

test('sampling only draws from the nucleus and repeats by seed', () => {
  const logits = Float32Array.from([Math.log(0.6), Math.log(0.35), Math.log(0.04), Math.log(0.01)]);
  const draws = (seed: number): number[] => {
    const choose = createTokenChooser({ mode: 'sample', seed, maxLength: 75, minLength: 0 }, 3);
    return Array.from({ length: 200 }, () => choose(logits, []));
  };
  const a = draws(5);
  assert.deepEqual(draws(5), a);
  assert.ok(a.every((id) => id === 0 || id === 1));
  assert.ok(a.includes(0) && a.includes(1));
});

test('preprocessing: same size is plain normalization, a 2x shrink uses the widened bicubic (a = -0.5) taps', () => {
  const same = preprocessBlipImage({ width: 2, height: 2, rgb: Uint8Array.from([0, 51, 255, 255, 0, 51, 10, 20, 30, 40, 50, 60]) }, 2);
  assert.ok(Math.abs(same.data[0]! - (0 - CLIP_IMAGE_MEAN[0]) / CLIP_IMAGE_STD[0]) < 1e-6);
  assert.ok(Math.abs(same.data[4 + 1]! - (0 - CLIP_IMAGE_MEAN[1]) / CLIP_IMAGE_STD[1]) < 1e-6);
  // 4x4, columns 0, 255, 255, 0 in every row and channel -> 2x2. Taps of output 0 (centre 1.0, kernel widened 2x):
  // cubic(0.25) = 0.8671875 twice, cubic(0.75) = 0.2265625, cubic(1.25) = -0.0703125, sum 1.890625.
  const row = [0, 255, 255, 0];
  const rgb = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) rgb[(y * 4 + x) * 3 + c] = row[x]!;
  const out = preprocessBlipImage({ width: 4, height: 4, rgb }, 2);
  const value = (0.8671875 + 0.2265625) / 1.890625;
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 4; i++) assert.ok(Math.abs(out.data[c * 4 + i]! - (value - CLIP_IMAGE_MEAN[c]!) / CLIP_IMAGE_STD[c]!) < 1e-5, `channel ${c} pixel ${i}`);
  }
});
