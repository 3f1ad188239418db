import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { combineCfg } from '../../../src/engine/guidance/adaptive-cfg.ts';
import { createTensor } from '../../../src/engine/tensor.ts';
import { createNormalRandom } from '../../../src/engine/random/seeded-normal.ts';
import { referenceCfg } from '../../reference/guidance-reference.ts';

const normal = createNormalRandom(42);
const u = createTensor([1, 4, 3, 3], Float32Array.from({ length: 36 }, () => normal()));
const c = createTensor([1, 4, 3, 3], Float32Array.from({ length: 36 }, () => normal()));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
}

describe('combineCfg', () => {
  it('mimics the adaptive scale at t = 0 and reaches the real scale at t = 1 when cfg > adaptive', () => {
    assertClose(combineCfg(u, c, 12, 7, 0).data, referenceCfg(u.data, c.data, 7, 7, 0));
    assertClose(combineCfg(u, c, 12, 7, 1).data, referenceCfg(u.data, c.data, 12, 12, 1));
  });

  it('interpolates real * t + mimicked * (1 - t) in between', () => {
    assertClose(combineCfg(u, c, 12, 7, 0.3).data, referenceCfg(u.data, c.data, 12, 7, 0.3));
    const i = 5;
    const expected = (u.data[i]! + 12 * (c.data[i]! - u.data[i]!)) * 0.3 + (u.data[i]! + 7 * (c.data[i]! - u.data[i]!)) * 0.7;
    assert.ok(Math.abs(combineCfg(u, c, 12, 7, 0.3).data[i]! - expected) < 1e-5);
  });

  it('is plain CFG when cfg <= adaptive, whatever t', () => {
    for (const cfg of [4, 7]) {
      for (const t of [0, 0.4, 1]) assertClose(combineCfg(u, c, cfg, 7, t).data, referenceCfg(u.data, c.data, cfg, cfg, 1));
    }
  });
});
