/**
 * Noise schedules against the plain float64 references in test/reference/schedules-reference.ts, published values,
 * and the shape rules every sampler relies on.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { AYS_NOISE_LEVELS } from '../../../src/engine/sampling/schedules/align-your-steps.ts';
import {
  getLcmSigmaTable,
  getSdSigmaTable,
  getSigmaMax,
  getSigmaMin,
  sigmaToContinuousTimestep,
  sigmaToTimestep,
  timestepToSigma,
} from '../../../src/engine/sampling/sigma-table.ts';
import { getSigmas, SCHEDULER_NAMES, type SchedulerName } from '../../../src/engine/sampling/sigmas.ts';
import {
  referenceAlignYourSteps,
  referenceDdimUniform,
  referenceExponential,
  referenceKarras,
  referenceLcm,
  referenceNormal,
  referenceSgmUniform,
  referenceSigmaTable,
  referenceSimple,
  referenceTurbo,
} from '../../reference/schedules-reference.ts';

/** float32 storage and float32 timestep arithmetic put the engine within a few float32 ulps of the references. */
const RELATIVE = 2e-6;

function assertCloseArray(actual: Float64Array, expected: readonly number[], what: string, relative = RELATIVE): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => {
    const a = actual[i]!;
    assert.ok(Math.abs(a - e) <= relative * Math.abs(e) + 1e-12, `${what}[${i}]: ${a} vs ${e}`);
  });
}

const table = referenceSigmaTable();
const SIGMA_MIN = table[0]!;
const SIGMA_MAX = table[999]!;

const REFERENCES: Record<SchedulerName, (steps: number) => number[]> = {
  normal: (n) => referenceNormal(table, n),
  karras: (n) => referenceKarras(n, SIGMA_MIN, SIGMA_MAX),
  exponential: (n) => referenceExponential(n, SIGMA_MIN, SIGMA_MAX),
  sgm_uniform: (n) => referenceSgmUniform(table, n),
  simple: (n) => referenceSimple(table, n),
  ddim_uniform: (n) => referenceDdimUniform(table, n),
  align_your_steps: (n) => referenceAlignYourSteps(AYS_NOISE_LEVELS.sdxl, n),
  turbo: (n) => referenceTurbo(table, n),
  lcm: (n) => referenceLcm(table, n),
  tcd: (n) => referenceLcm(table, n),
};

const STEP_COUNTS = [1, 2, 3, 4, 5, 8, 10, 20, 25, 30, 50, 100, 1000];

describe('sigma table', () => {
  it('matches the scaled-linear DDPM formula at every timestep', () => {
    assertCloseArray(getSdSigmaTable().sigmas, table, 'sigmas', 1e-7);
  });

  it('ends at the SD sigma_max and sigma_min the published AYS lists start and end with', () => {
    // NVIDIA's AYS lists (as shipped in ComfyUI nodes_align_your_steps.py) begin at 14.6146412293 and end at
    // 0.0291671582 for both SD1.5 and SDXL.
    assert.ok(Math.abs(getSigmaMax() - 14.6146412293) < 1e-6);
    assert.ok(Math.abs(getSigmaMin() - 0.0291671582) < 1e-9);
  });

  it('sigmaToTimestep returns the nearest table index, as ComfyUI feeds the UNet', () => {
    const sigmas = getSdSigmaTable().sigmas;
    for (let t = 0; t < 1000; t++) assert.equal(sigmaToTimestep(sigmas[t]!), t);
    assert.equal(sigmaToTimestep(100), 999);
    assert.equal(sigmaToTimestep(1e-4), 0);
  });

  it('timestepToSigma interpolates log-sigma and inverts sigmaToContinuousTimestep', () => {
    const sigmas = getSdSigmaTable().sigmas;
    for (const t of [0, 1, 250, 998, 999]) assert.ok(Math.abs(timestepToSigma(t) / sigmas[t]! - 1) < 1e-6);
    for (const t of [0.25, 10.5, 499.75, 998.9]) {
      const expected = Math.exp(
        (1 - (t % 1)) * Math.log(table[Math.floor(t)]!) + (t % 1) * Math.log(table[Math.ceil(t)]!),
      );
      assert.ok(Math.abs(timestepToSigma(t) / expected - 1) < 1e-6, `sigma(${t})`);
      assert.ok(Math.abs(sigmaToContinuousTimestep(expected) - t) < 1e-3, `t(sigma(${t}))`);
    }
    assert.equal(timestepToSigma(-5), timestepToSigma(0));
    assert.equal(timestepToSigma(5000), timestepToSigma(999));
    assert.equal(sigmaToContinuousTimestep(1000), 999);
    assert.equal(sigmaToContinuousTimestep(1e-5), 0);
  });

  it('the LCM table keeps every 20th entry, mapped to model timesteps 19..999', () => {
    const lcm = getLcmSigmaTable();
    assert.equal(lcm.sigmas.length, 50);
    assert.equal(lcm.sigmas[49], getSigmaMax());
    assert.equal(lcm.sigmas[0], getSdSigmaTable().sigmas[19]);
    assert.equal(sigmaToTimestep(getSigmaMax(lcm), lcm), 999);
    assert.equal(sigmaToTimestep(getSigmaMin(lcm), lcm), 19);
    assert.ok(Math.abs(timestepToSigma(519, lcm) / getSdSigmaTable().sigmas[519]! - 1) < 1e-6);
  });
});

describe('getSigmas: every schedule against its reference', () => {
  for (const name of SCHEDULER_NAMES) {
    it(`${name}`, () => {
      const counts = name === 'turbo' ? [1, 2, 3, 4, 5, 8, 10] : STEP_COUNTS;
      for (const steps of counts) {
        assertCloseArray(getSigmas(name, steps), REFERENCES[name](steps), `${name}/${steps}`);
      }
    });
  }

  it('align_your_steps picks the list by family, and 10 steps returns the published list itself', () => {
    const sd15 = AYS_NOISE_LEVELS.sd15;
    const sd15At12 = getSigmas('align_your_steps', 12, { family: 'sd15' });
    assertCloseArray(sd15At12, referenceAlignYourSteps(sd15, 12), 'sd15/12');
    const published = [...AYS_NOISE_LEVELS.sdxl.slice(0, 10), 0];
    assertCloseArray(getSigmas('align_your_steps', 10), published, 'sdxl/10', 1e-7);
    assertCloseArray(getSigmas('align_your_steps', 10, { family: 'sd15' }), [...sd15.slice(0, 10), 0], 'sd15/10', 1e-7);
  });

  it('karras and exponential honour sigmaMin / sigmaMax', () => {
    const range = { sigmaMin: 0.1, sigmaMax: 10 };
    assertCloseArray(getSigmas('karras', 12, range), referenceKarras(12, 0.1, 10), 'karras range');
    assertCloseArray(getSigmas('exponential', 12, range), referenceExponential(12, 0.1, 10), 'exponential range');
  });
});

describe('getSigmas: published values and invariants', () => {
  it("getSigmas('karras', 20) starts 14.6146, 11.7254, 9.3402", () => {
    const sigmas = getSigmas('karras', 20);
    [14.6146, 11.7254, 9.3402].forEach((v, i) => assert.ok(Math.abs(sigmas[i]! - v) < 5e-5, `${sigmas[i]} vs ${v}`));
  });

  for (const name of SCHEDULER_NAMES) {
    it(`${name}: steps + 1 values, decreasing, ending in 0`, () => {
      const counts = name === 'turbo' ? [1, 4, 10] : [1, 2, 4, 10, 20, 40, 200, 1000];
      for (const steps of counts) {
        const sigmas = getSigmas(name, steps);
        const ddimLength = Math.ceil(999 / Math.floor(1000 / steps)) + 1;
        const expectedLength = name === 'ddim_uniform' ? ddimLength : steps + 1;
        assert.equal(sigmas.length, expectedLength, `${name}/${steps}: length`);
        assert.equal(sigmas[sigmas.length - 1], 0);
        for (let i = 1; i < sigmas.length; i++) {
          assert.ok(sigmas[i]! < sigmas[i - 1]!, `${name}/${steps}: not decreasing at ${i}`);
        }
      }
    });
  }

  it('karras, exponential, normal, sgm_uniform, simple, turbo and lcm start at sigma_max (14.6146)', () => {
    for (const name of ['karras', 'exponential', 'normal', 'sgm_uniform', 'simple', 'turbo', 'lcm'] as const) {
      assert.ok(Math.abs(getSigmas(name, 8)[0]! - 14.6146412) < 1e-5, name);
    }
    // float32 arithmetic (sigma_max^(1/7) rounded then ^7; exp of a float32 log) moves the first value by ~1e-7.
    assert.ok(Math.abs(getSigmas('karras', 8)[0]! / getSigmaMax() - 1) < 1e-6);
    assert.ok(Math.abs(getSigmas('exponential', 8)[0]! / getSigmaMax() - 1) < 1e-6);
    assert.ok(Math.abs(getSigmas('karras', 8)[7]! / getSigmaMin() - 1) < 1e-6);
  });

  it('ddim_uniform returns more than steps + 1 values when steps leaves a remainder, as ComfyUI does', () => {
    assert.equal(getSigmas('ddim_uniform', 7).length, 9); // stride 142: indices 1, 143, ..., 995
    assert.equal(getSigmas('ddim_uniform', 20).length, 21);
    assert.equal(getSigmas('ddim_uniform', 1000).length, 1000); // table index 0 is never visited
  });
});

describe('getSigmas: denoise (img2img)', () => {
  it('keeps the last steps + 1 values of the schedule for floor(steps / denoise) steps', () => {
    for (const name of SCHEDULER_NAMES) {
      for (const [steps, denoise] of [[10, 0.5], [8, 0.3], [5, 0.75]] as const) {
        if (name === 'turbo' && steps > 10) continue;
        const total = Math.floor(steps / denoise);
        const full = name === 'turbo' ? REFERENCES.turbo(total) : REFERENCES[name](total);
        const tail = full.slice(Math.max(0, full.length - (steps + 1)));
        assertCloseArray(getSigmas(name, steps, { denoise }), tail, `${name} ${steps}@${denoise}`);
      }
    }
  });

  it('denoise above 0.9999 is a full schedule', () => {
    assert.deepEqual(getSigmas('karras', 9, { denoise: 0.99995 }), getSigmas('karras', 9));
  });
});

describe('getSigmas: rejections', () => {
  it('names the valid schedules for an unknown one', () => {
    assert.throws(
      () => getSigmas('linear', 10),
      (e: unknown) => e instanceof RangeError && SCHEDULER_NAMES.every((n) => e.message.includes(n)),
    );
  });

  it('names the field for bad steps, denoise, family and sigma range', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => getSigmas('karras', 0), /steps/],
      [() => getSigmas('karras', 1001), /steps/],
      [() => getSigmas('karras', 2.5), /steps/],
      [() => getSigmas('karras', Number.NaN), /steps/],
      [() => getSigmas('turbo', 11), /steps/],
      [() => getSigmas('karras', 10, { denoise: 0 }), /denoise/],
      [() => getSigmas('karras', 10, { denoise: 1.5 }), /denoise/],
      [() => getSigmas('align_your_steps', 10, { family: 'sd3' as 'sdxl' }), /family/],
      [() => getSigmas('karras', 10, { sigmaMin: -1 }), /sigmaMin/],
      [() => getSigmas('karras', 10, { sigmaMin: 5, sigmaMax: 1 }), /sigmaMin/],
      [() => getSigmas('normal', 10, { sigmaMax: 10 }), /sigmaMax/],
    ];
    for (const [call, pattern] of cases) {
      assert.throws(call, (e: unknown) => e instanceof RangeError && pattern.test(e.message));
    }
  });
});
