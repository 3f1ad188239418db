/**
 * torchRandn / TorchGenerator against values printed by real PyTorch (cited per test) and against a plain
 * reference of the Box-Muller block transform for the properties no published value covers.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Mt19937 } from '../../../src/engine/random/mt19937.ts';
import { randomSeed, torchRandn, TorchGenerator } from '../../../src/engine/random/torch-randn.ts';

const TOLERANCE = 5e-5; // published values have 4 decimals

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.ok(actual.length >= expected.length, `${what}: only ${actual.length} values`);
  expected.forEach((e, i) => {
    assert.ok(Math.abs(actual[i]! - e) <= TOLERANCE, `${what}[${i}]: ${actual[i]} vs ${e}`);
  });
}

/** Reference Box-Muller of one 16-block from a uniform list (double arithmetic, float32 store). */
function referenceBlock(uniforms: number[]): number[] {
  const out = new Array<number>(16);
  for (let i = 0; i < 8; i++) {
    const r = Math.sqrt(-2 * Math.log(1 - uniforms[i]!));
    const theta = 2 * Math.PI * uniforms[i + 8]!;
    out[i] = Math.fround(r * Math.cos(theta));
    out[i + 8] = Math.fround(r * Math.sin(theta));
  }
  return out;
}

/** The 24-bit float uniforms of the MT19937 stream at positions [from, from + count). */
function streamUniforms(seed32: number, from: number, count: number): number[] {
  const mt = new Mt19937(seed32);
  for (let i = 0; i < from; i++) mt.nextUint32();
  return Array.from({ length: count }, () => (mt.nextUint32() & 0xffffff) / 2 ** 24);
}

describe('Mt19937', () => {
  // init_genrand(5489) is the paper's default seed; C++ [rand.predef] fixes std::mt19937's 10000th output.
  it('matches the reference generator: first and 10000th outputs for seed 5489', () => {
    const mt = new Mt19937(5489);
    assert.equal(mt.nextUint32(), 3499211612);
    for (let i = 2; i < 10000; i++) mt.nextUint32();
    assert.equal(mt.nextUint32(), 4123659995);
  });

  it('rejects seeds outside 32 bits', () => {
    assert.throws(() => new Mt19937(2 ** 32), RangeError);
    assert.throws(() => new Mt19937(-1), RangeError);
  });
});

describe('torchRandn: published PyTorch values', () => {
  // Quoted in shared/STYLE.md; also the first block of the kornia doctest below.
  it('torch.manual_seed(0); torch.randn(4, 4) (vector path, one block)', () => {
    assertClose(torchRandn(0, [4, 4]), [
      -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377,
      1.1168, -0.2473,
    ], 'seed 0 [4,4]');
  });

  it('torch.manual_seed(0); torch.randn(1, 1, 2, 4, 6) (three blocks; kornia CenterCrop3D doctest)', () => {
    // kornia/augmentation/_3d/geometric/center_crop.py, run as a doctest against real torch in kornia's CI.
    assertClose(torchRandn(0, [1, 1, 2, 4, 6]), [
      -1.1258, -1.1524, -0.2506, -0.4339, 0.8487, 0.692, -0.316, -2.1152, 0.3223, -1.2633, 0.35, 0.3081, 0.1198, 1.2377,
      1.1168, -0.2473, -1.3527, -1.6959, 0.5667, 0.7935, 0.5988, -1.5551, -0.3414, 1.853, 0.7502, -0.5855, -0.1734,
      0.1835, 1.3894, 1.5863, 0.9463, -0.8437, -0.6136, 0.0316, -0.4927, 0.2484, 0.4397, 0.1124, 0.6408, 0.4412, -0.1023,
      0.7924, -0.2897, 0.0525, 0.5229, 2.3022, -1.4689, -1.5867,
    ], 'seed 0 [1,1,2,4,6]');
  });

  it('torch.manual_seed(0); normal_() of 8 values (scalar double path; kornia DistributionWithMapper)', () => {
    // kornia/augmentation/random_generator/base.py: Normal(0, 1).rsample((8,)) is torch.empty(8).normal_().
    assertClose(torchRandn(0, [8]), [1.541, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986, 0.4033, 0.838], 'seed 0 [8]');
  });

  it('torch.manual_seed(42); torch.randn(2, 3) (scalar path with the cached sine half)', () => {
    assertClose(torchRandn(42, [2, 3]), [0.3367, 0.1288, 0.2345, 0.2303, -1.1229, -0.1863], 'seed 42 [2,3]');
  });
});

describe('torchRandn: block structure', () => {
  for (const n of [17, 20, 33, 100]) {
    it(`n = ${n}: the first n - 16 values are those of the ${Math.floor(n / 16) * 16}-value draw`, () => {
      const whole = Math.floor(n / 16) * 16;
      assert.deepEqual(torchRandn(0, [n]).subarray(0, n - 16), torchRandn(0, [whole]).subarray(0, n - 16));
    });

    it(`n = ${n}: the last 16 values are one Box-Muller block of fresh uniforms n..n+15`, () => {
      const tail = Array.from(torchRandn(7, [n]).subarray(n - 16));
      const expected = referenceBlock(streamUniforms(7, n, 16));
      tail.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-6, `tail[${i}]: ${v} vs ${expected[i]}`));
    });
  }

  it('re-drawn tails line up with a longer draw where their Box-Muller pairs coincide', () => {
    // n = 17 re-draws uniforms 17..32, paired (17 + i, 25 + i): block 1 of a 48-value draw pairs them the same way.
    const long = torchRandn(0, [48]);
    assert.deepEqual(torchRandn(0, [17]).subarray(1, 8), long.subarray(17, 24));
    assert.deepEqual(torchRandn(0, [20]).subarray(4, 8), long.subarray(20, 24));
  });

  it('multiples of 16 are independent 16-blocks of consecutive uniforms', () => {
    const values = torchRandn(3, [4, 16]);
    const uniforms = streamUniforms(3, 0, 64);
    for (let b = 0; b < 4; b++) {
      const expected = referenceBlock(uniforms.slice(16 * b, 16 * b + 16));
      expected.forEach((e, i) => assert.ok(Math.abs(values[16 * b + i]! - e) <= 1e-6, `block ${b}[${i}]`));
    }
  });

  it('a 1x4x64x64 latent is standard normal (mean ~0, variance ~1)', () => {
    const latent = torchRandn(12345, [1, 4, 64, 64]);
    const mean = latent.reduce((a, v) => a + v, 0) / latent.length;
    const variance = latent.reduce((a, v) => a + (v - mean) ** 2, 0) / latent.length;
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.03, `variance ${variance}`);
  });
});

describe('TorchGenerator', () => {
  it('consecutive scalar-path draws continue the Box-Muller pairs across calls', () => {
    const g = new TorchGenerator(0);
    const joined = [...g.randn([3]), ...g.randn([5])];
    assert.deepEqual(Float32Array.from(joined), torchRandn(0, [8]));
  });

  it('a vector-path draw leaves the cached scalar value for the next scalar draw', () => {
    const g = new TorchGenerator(0);
    assertClose(g.randn([1]), [1.541], 'first scalar');
    g.randn([16]);
    assertClose(g.randn([1]), [-0.2934], 'cached sine half');
  });

  it('a tail re-draw consumes 16 extra uniforms before the next call', () => {
    const g = new TorchGenerator(5);
    g.randn([20]); // 20 uniforms, then 16 more for the tail
    const next = Array.from(g.randn([16]));
    const expected = referenceBlock(streamUniforms(5, 36, 16));
    next.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= 1e-6, `next[${i}]`));
  });

  it('shapes: scalars, empty tensors, and invalid dimensions', () => {
    assert.equal(torchRandn(0, []).length, 1);
    assert.equal(torchRandn(0, [0, 4]).length, 0);
    assert.throws(() => torchRandn(0, [-1]), /shape/);
    assert.throws(() => torchRandn(0, [1.5]), /shape/);
  });
});

describe('seeds', () => {
  it('uses the low 32 bits of 0..2^64-1', () => {
    assert.deepEqual(torchRandn(2n ** 32n, [16]), torchRandn(0, [16]));
    assert.deepEqual(torchRandn(2n ** 64n - 1n, [5]), torchRandn(0xffffffff, [5]));
    assert.deepEqual(torchRandn(42n, [2, 3]), torchRandn(42, [2, 3]));
  });

  it('rejects negative, fractional and too-large seeds, naming the seed', () => {
    assert.throws(() => torchRandn(-1, [1]), (e: unknown) => e instanceof RangeError && /seed.*-1/.test(e.message));
    assert.throws(() => torchRandn(1.5, [1]), (e: unknown) => e instanceof RangeError && /seed.*1\.5/.test(e.message));
    assert.throws(() => new TorchGenerator(-5n), /seed/);
    assert.throws(() => new TorchGenerator(2n ** 64n), /seed/);
    assert.throws(() => new TorchGenerator(Number.NaN), RangeError);
  });

  it('randomSeed draws bigints in 0..2^63-1', () => {
    for (let i = 0; i < 50; i++) {
      const seed = randomSeed();
      assert.equal(typeof seed, 'bigint');
      assert.ok(seed >= 0n && seed < 2n ** 63n);
    }
    assert.notEqual(randomSeed(), randomSeed());
  });
});
