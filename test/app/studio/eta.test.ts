import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEtaEstimator } from '../../../src/app/studio/eta.ts';

test('ETA: null until two steps have been timed, then steps left times the pace so far', () => {
  const eta = createEtaEstimator();
  assert.equal(eta.update({ step: 0, steps: 10, image: 1, images: 2 }, 5_000), null, 'loading time before the first step does not count');
  assert.equal(eta.update({ step: 0, steps: 10, image: 1, images: 2 }, 5_500), null);
  assert.equal(eta.update({ step: 2, steps: 10, image: 1, images: 2 }, 7_000), 18 * 1, '2 steps in 2 s: 18 steps left at 1 s');
  assert.equal(eta.update({ step: 10, steps: 10, image: 1, images: 2 }, 15_000), 10);
  // The second image: the decode between images slows the measured pace a little.
  const left = eta.update({ step: 1, steps: 10, image: 2, images: 2 }, 17_000)!;
  assert.ok(Math.abs(left - 9 * (12 / 11)) < 1e-9, String(left));
  assert.equal(eta.update({ step: 10, steps: 10, image: 2, images: 2 }, 26_000), 0);
});

test('ETA: a report that goes backwards (a retried or skipped image) restarts the measurement', () => {
  const eta = createEtaEstimator();
  eta.update({ step: 5, steps: 10, image: 1, images: 1 }, 0);
  assert.equal(eta.update({ step: 1, steps: 10, image: 1, images: 1 }, 1_000), null);
  assert.equal(eta.update({ step: 3, steps: 10, image: 1, images: 1 }, 2_000), 3.5);
});

test('ETA: nonsense totals give null, never a negative or infinite number', () => {
  const eta = createEtaEstimator();
  assert.equal(eta.update({ step: 0, steps: 0, image: 1, images: 1 }, 0), null);
  assert.equal(eta.update({ step: 1, steps: 4, image: 1, images: 0 }, 0), null);
});
