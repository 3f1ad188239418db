import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { computeDiffusionProgress } from '../../../src/engine/guidance/diffusion-progress.ts';
import { adaptiveAnisotropicFilter } from '../../../src/engine/guidance/anisotropic-filter.ts';
import { applySharpness, computeEps } from '../../../src/engine/guidance/sharpness.ts';
import { createTensor, type Tensor } from '../../../src/engine/tensor.ts';
import { createNormalRandom } from '../../../src/engine/random/seeded-normal.ts';
import { nestFlat, referenceSharpness } from '../../reference/guidance-reference.ts';

function randomTensor(dims: number[], seed: number): Tensor {
  const normal = createNormalRandom(seed);
  return createTensor(dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => normal()));
}

const dims = [1, 4, 8, 9];
const x = randomTensor(dims, 1);
const x0 = randomTensor(dims, 2);

describe('applySharpness', () => {
  it('returns eps = x - x0 exactly when sharpness or progress is 0', () => {
    const eps = computeEps(x, x0);
    assert.deepEqual(applySharpness(x, x0, 0, 0.7).data, eps.data);
    assert.deepEqual(applySharpness(x, x0, 2, 0).data, eps.data);
    for (let i = 0; i < eps.data.length; i++) assert.equal(eps.data[i], Math.fround(x.data[i]! - x0.data[i]!));
  });

  it('blends filter(eps, x0) with weight alpha = 0.001 * sharpness * progress', () => {
    const eps = computeEps(x, x0);
    const degraded = adaptiveAnisotropicFilter(eps, x0);
    const out = applySharpness(x, x0, 30, 0.5); // alpha = 0.015
    for (let i = 0; i < out.data.length; i++) {
      const expected = degraded.data[i]! * 0.015 + eps.data[i]! * 0.985;
      assert.ok(Math.abs(out.data[i]! - expected) < 1e-6);
    }
  });

  it('matches the float64 reference', () => {
    const out = applySharpness(x, x0, 2, 0.9);
    const expected = referenceSharpness(nestFlat(x.data, 1, 4, 8, 9), nestFlat(x0.data, 1, 4, 8, 9), 2, 0.9).flat(3);
    for (let i = 0; i < out.data.length; i++) assert.ok(Math.abs(out.data[i]! - expected[i]!) < 1e-5);
  });
});

describe('computeDiffusionProgress', () => {
  it('is 1 - t / 999 (Fooocus patched_unet_forward)', () => {
    assert.equal(computeDiffusionProgress(999), 0);
    assert.equal(computeDiffusionProgress(0), 1);
    assert.ok(Math.abs(computeDiffusionProgress(699) - 300 / 999) < 1e-15);
  });
});
