/**
 * Every sampler against the plain float64 reference in test/reference/samplers-reference.ts, driven by the exact
 * denoiser of Gaussian data and identical noise; plus the properties the pipeline relies on: denoiser-call and
 * noise-draw counts, convergence to the exact probability-flow ODE solution, the sampled distribution, onStep,
 * cancellation and reproducibility.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { Denoiser, SampleContext } from '../../../src/engine/sampling/sampler-types.ts';
import { getSampler, SAMPLER_NAMES, SAMPLERS, type SamplerName } from '../../../src/engine/sampling/samplers/sampler-registry.ts';
import { createTensor, type Tensor } from '../../../src/engine/tensor.ts';
import { createNormalRandom } from '../../../src/engine/random/seeded-normal.ts';
import * as ref from '../../reference/samplers-reference.ts';

const REFERENCES: Record<SamplerName, ref.RefSampler> = {
  euler: ref.refEuler,
  euler_ancestral: ref.refEulerAncestral,
  heun: ref.refHeun,
  dpm_2: ref.refDpm2,
  dpm_2_ancestral: ref.refDpm2Ancestral,
  dpmpp_2m: ref.refDpmpp2m,
  dpmpp_sde: ref.refDpmppSde,
  dpmpp_2m_sde: ref.refDpmpp2mSde,
  dpmpp_3m_sde: ref.refDpmpp3mSde,
  lcm: ref.refLcm,
  ddim: ref.refEuler, // ComfyUI runs `ddim` as `euler`
  uni_pc: ref.refUniPc('bh1'),
  uni_pc_bh2: ref.refUniPc('bh2'),
};

const DETERMINISTIC: SamplerName[] = ['euler', 'heun', 'dpm_2', 'dpmpp_2m', 'ddim', 'uni_pc', 'uni_pc_bh2'];
const SDE: SamplerName[] = ['euler_ancestral', 'dpm_2_ancestral', 'dpmpp_sde', 'dpmpp_2m_sde', 'dpmpp_3m_sde'];

/** Denoiser calls and noise draws for a schedule of n steps ending in sigma 0. */
const CALLS: Record<SamplerName, (n: number) => number> = {
  euler: (n) => n,
  euler_ancestral: (n) => n,
  heun: (n) => 2 * n - 1,
  dpm_2: (n) => 2 * n - 1,
  dpm_2_ancestral: (n) => 2 * n - 1,
  dpmpp_2m: (n) => n,
  dpmpp_sde: (n) => 2 * n - 1,
  dpmpp_2m_sde: (n) => n,
  dpmpp_3m_sde: (n) => n,
  lcm: (n) => n,
  ddim: (n) => n,
  uni_pc: (n) => n,
  uni_pc_bh2: (n) => n,
};
const NOISE_DRAWS: Record<SamplerName, (n: number) => number> = {
  ...Object.fromEntries(SAMPLER_NAMES.map((name) => [name, () => 0])),
  euler_ancestral: (n) => n - 1,
  dpm_2_ancestral: (n) => n - 1,
  dpmpp_sde: (n) => 2 * (n - 1),
  dpmpp_2m_sde: (n) => n - 1,
  dpmpp_3m_sde: (n) => n - 1,
  lcm: (n) => n - 1,
} as Record<SamplerName, (n: number) => number>;

/** Karras et al. 2022 eq. 5 with SD's sigma range, ending in 0. */
function karrasSigmas(n: number, sigmaMin = 0.0292, sigmaMax = 14.6146, rho = 7): number[] {
  const out = Array.from({ length: n }, (_, i) => {
    const frac = n === 1 ? 0 : i / (n - 1);
    return (sigmaMax ** (1 / rho) + frac * (sigmaMin ** (1 / rho) - sigmaMax ** (1 / rho))) ** rho;
  });
  return [...out, 0];
}

/** Per-element Gaussian data N(mu_j, s_j^2); its exact denoiser is E[x0 | x] = (s^2 x + sigma^2 mu) / (s^2 + sigma^2). */
interface GaussianData {
  mu: number[];
  s: number[];
}

function gaussianData(n: number, seed: number, sRange: [number, number] = [0.2, 1.5]): GaussianData {
  const normal = createNormalRandom(seed);
  return {
    mu: Array.from({ length: n }, () => 0.7 * normal()),
    s: Array.from({ length: n }, (_, j) => sRange[0] + ((sRange[1] - sRange[0]) * j) / Math.max(1, n - 1)),
  };
}

function exactDenoise(data: GaussianData, x: ArrayLike<number>, sigma: number): number[] {
  return data.mu.map((mu, j) => {
    const s2 = data.s[j]! ** 2;
    return (s2 * x[j]! + sigma * sigma * mu) / (s2 + sigma * sigma);
  });
}

/** Float32-representable standard normals, so the engine and the reference see bit-identical noise. */
function float32Normals(seed: number): (n: number) => number[] {
  const normal = createNormalRandom(seed);
  return (n) => Array.from({ length: n }, () => Math.fround(normal()));
}

interface Run {
  x: Tensor;
  sigmas: number[]; // where the denoiser was called
  noiseDraws: number;
}

async function runEngine(
  name: SamplerName,
  sigmas: number[],
  data: GaussianData,
  x0: number[],
  noiseSeed: number,
  ctx: Partial<SampleContext> = {},
): Promise<Run> {
  const run: Run = { x: createTensor([1, 1, 1, x0.length]), sigmas: [], noiseDraws: 0 };
  const draw = float32Normals(noiseSeed);
  const denoise: Denoiser = async (x, sigma) => {
    run.sigmas.push(sigma);
    return createTensor(x.dims, Float32Array.from(exactDenoise(data, x.data, sigma)));
  };
  const context: SampleContext = {
    noise: (dims) => {
      run.noiseDraws++;
      return Float32Array.from(draw(dims.reduce((a, b) => a * b, 1)));
    },
    ...ctx,
  };
  run.x = await SAMPLERS[name](denoise, createTensor([1, 1, 1, x0.length], Float32Array.from(x0)), Float64Array.from(sigmas), context);
  return run;
}

function runReference(name: SamplerName, sigmas: number[], data: GaussianData, x0: number[], noiseSeed: number): { x: number[]; sigmas: number[] } {
  const calls: number[] = [];
  const x = REFERENCES[name]((x, sigma) => (calls.push(sigma), exactDenoise(data, x, sigma)), x0, sigmas, float32Normals(noiseSeed));
  return { x, sigmas: calls };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** A starting latent at sigmas[0]: x_T = sigma_max * z, float32-representable. */
function startLatent(n: number, sigmaMax: number, seed: number): number[] {
  return float32Normals(seed)(n).map((z) => Math.fround(sigmaMax * z));
}

describe('samplers match the float64 reference of their published update rules', () => {
  for (const name of SAMPLER_NAMES) {
    it(`${name}: 15 and 20 karras steps within 1e-5; 2, 3 and 4 steps within 1e-4; same denoiser sigmas`, async () => {
      const data = gaussianData(48, 11);
      for (const steps of [15, 20, 2, 3, 4]) {
        const sigmas = karrasSigmas(steps);
        const x0 = startLatent(48, sigmas[0]!, 5);
        const engine = await runEngine(name, sigmas, data, x0, 99);
        const reference = runReference(name, sigmas, data, x0, 99);
        const diff = maxAbsDiff(engine.x.data, reference.x);
        // A 2-step schedule jumps from sigma 14.6 to 0.03: heun's and dpm_2's derivative there multiplies the float32
        // rounding of the intermediate latent by dt / sigma ~ 500, as it does in PyTorch's float32.
        const tolerance = steps < 10 ? 1e-4 : 1e-5;
        assert.ok(diff < tolerance, `${name}, ${steps} steps: max abs diff ${diff}`);
        assert.equal(engine.sigmas.length, reference.sigmas.length, `${name}, ${steps} steps: call count`);
        assert.ok(maxAbsDiff(engine.sigmas, reference.sigmas) < 1e-12, `${name}, ${steps} steps: call sigmas`);
      }
    });
  }
});

describe('sampler cost and noise use', () => {
  for (const name of SAMPLER_NAMES) {
    it(`${name}: ${CALLS[name](15)} denoiser calls and ${NOISE_DRAWS[name](15)} noise draws for 15 steps; 1 step works`, async () => {
      const data = gaussianData(8, 3);
      for (const steps of [15, 1]) {
        const sigmas = karrasSigmas(steps);
        const run = await runEngine(name, sigmas, data, startLatent(8, sigmas[0]!, 4), 7);
        assert.equal(run.sigmas.length, CALLS[name](steps), `${steps} steps: denoiser calls`);
        assert.equal(run.noiseDraws, NOISE_DRAWS[name](steps), `${steps} steps: noise draws`);
        assert.ok(run.x.data.every(Number.isFinite), `${steps} steps: finite output`);
      }
    });
  }
});

describe('samplers solve the diffusion they discretize', () => {
  // Halving the steps of a karras schedule (sigma_min 0.002, so the final jump to 0 adds < 1e-4) divides the error by
  // 2^order. Measured: euler 1.0, heun/dpm_2/dpmpp_2m 2.1, uni_pc 4.1 (UniC raises UniP-3 by one order).
  const minimumOrder: Partial<Record<SamplerName, number>> = {
    euler: 0.9, ddim: 0.9, heun: 1.8, dpm_2: 1.8, dpmpp_2m: 1.8, uni_pc: 3, uni_pc_bh2: 3,
  };
  for (const name of DETERMINISTIC) {
    it(`${name} converges to the exact probability-flow ODE solution at order >= ${minimumOrder[name]}`, async () => {
      const data = gaussianData(32, 21);
      const errors: number[] = [];
      for (const steps of [20, 40, 80]) {
        const sigmas = karrasSigmas(steps, 0.002);
        const x0 = startLatent(32, sigmas[0]!, 6);
        const run = await runEngine(name, sigmas, data, x0, 1);
        // dx/dsigma = (x - mu) sigma / (s^2 + sigma^2)  =>  x(0) = mu + (x_T - mu) s / sqrt(s^2 + sigma_max^2)
        const exact = data.mu.map((mu, j) => mu + ((x0[j]! - mu) * data.s[j]!) / Math.hypot(data.s[j]!, sigmas[0]!));
        errors.push(maxAbsDiff(run.x.data, exact));
      }
      const order = Math.log2(errors[1]! / errors[2]!);
      assert.ok(order >= minimumOrder[name]!, `${name}: errors ${errors.join(', ')}, order ${order}`);
      const bound = minimumOrder[name]! < 1 ? 0.1 : 0.01;
      assert.ok(errors[2]! < bound, `${name}: error ${errors[2]} at 80 steps`);
    });
  }

  for (const name of SDE) {
    // 120 steps: euler_ancestral is first order in the weak sense and still 11% low on the std at 30 steps.
    it(`${name} samples the data distribution (mean and std of 8192 draws of N(0.5, 0.8^2), 120 steps)`, async () => {
      const n = 8192;
      const data: GaussianData = { mu: new Array<number>(n).fill(0.5), s: new Array<number>(n).fill(0.8) };
      const sigmas = karrasSigmas(120);
      // Start from the exact marginal at sigma_max: N(mu, s^2 + sigma_max^2).
      const x0 = float32Normals(8)(n).map((z) => 0.5 + Math.hypot(0.8, sigmas[0]!) * z);
      const { data: out } = (await runEngine(name, sigmas, data, x0, 2)).x;
      const mean = out.reduce((a, b) => a + b, 0) / n;
      const std = Math.sqrt(out.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
      assert.ok(Math.abs(mean - 0.5) < 0.03, `${name}: mean ${mean}`);
      assert.ok(Math.abs(std / 0.8 - 1) < 0.04, `${name}: std ${std}`);
    });
  }

  for (const name of SAMPLER_NAMES) {
    it(`${name} returns the data point when the data distribution is (nearly) a point mass`, async () => {
      const data = gaussianData(16, 31, [1e-4, 1e-4]);
      const sigmas = karrasSigmas(12);
      const run = await runEngine(name, sigmas, data, startLatent(16, sigmas[0]!, 9), 3);
      assert.ok(maxAbsDiff(run.x.data, data.mu) < 5e-3, `${name}: ${maxAbsDiff(run.x.data, data.mu)}`);
    });
  }
});

describe('sampler callbacks, cancellation and reproducibility', () => {
  for (const name of SAMPLER_NAMES) {
    it(`${name}: onStep once per step with increasing index, the returned x last`, async () => {
      const seen: [number, number][] = [];
      let lastX: Tensor | undefined;
      const sigmas = karrasSigmas(10);
      const run = await runEngine(name, sigmas, gaussianData(8, 1), startLatent(8, sigmas[0]!, 2), 3, {
        onStep: (step, total, x, denoised) => {
          seen.push([step, total]);
          lastX = x;
          assert.equal(denoised.data.length, 8);
        },
      });
      assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => [i, 10]));
      assert.equal(lastX, run.x);
    });

    it(`${name}: aborting in onStep rejects with the signal's reason before the next denoiser call`, async () => {
      const sigmas = karrasSigmas(10);
      const controller = new AbortController();
      let callsAtAbort = -1;
      const calls: number[] = [];
      const denoise: Denoiser = async (x, sigma) => {
        calls.push(sigma);
        return createTensor(x.dims, new Float32Array(x.data.length));
      };
      const ctx: SampleContext = {
        noise: (dims) => new Float32Array(dims.reduce((a, b) => a * b, 1)),
        signal: controller.signal,
        onStep: (step) => {
          if (step !== 2) return;
          callsAtAbort = calls.length;
          controller.abort();
        },
      };
      await assert.rejects(SAMPLERS[name](denoise, createTensor([1, 4]), Float64Array.from(sigmas), ctx), (err: unknown) => {
        assert.equal(err, controller.signal.reason);
        assert.equal((err as Error).name, 'AbortError');
        return true;
      });
      assert.ok(callsAtAbort > 0);
      assert.equal(calls.length, callsAtAbort);
    });

    it(`${name}: an already aborted signal means no denoiser call`, async () => {
      let calls = 0;
      const denoise: Denoiser = async (x) => (calls++, x);
      const ctx: SampleContext = { noise: (dims) => new Float32Array(dims.reduce((a, b) => a * b, 1)), signal: AbortSignal.abort() };
      await assert.rejects(SAMPLERS[name](denoise, createTensor([1, 4]), Float64Array.from(karrasSigmas(5)), ctx));
      assert.equal(calls, 0);
    });

    it(`${name}: the same noise sequence gives the same output, bit for bit`, async () => {
      const sigmas = karrasSigmas(8);
      const data = gaussianData(16, 4);
      const x0 = startLatent(16, sigmas[0]!, 12);
      const first = await runEngine(name, sigmas, data, x0, 77);
      const second = await runEngine(name, sigmas, data, x0, 77);
      assert.deepEqual(second.x.data, first.x.data);
    });
  }
});

describe('getSampler', () => {
  it('knows the ComfyUI/Fooocus ids and the _gpu aliases', () => {
    assert.deepEqual([...SAMPLER_NAMES], [
      'euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpm_2_ancestral', 'dpmpp_2m', 'dpmpp_sde', 'dpmpp_2m_sde',
      'dpmpp_3m_sde', 'lcm', 'ddim', 'uni_pc', 'uni_pc_bh2',
    ]);
    for (const name of SAMPLER_NAMES) assert.equal(getSampler(name), SAMPLERS[name]);
    assert.equal(getSampler('dpmpp_2m_sde_gpu'), SAMPLERS.dpmpp_2m_sde);
    assert.equal(getSampler('dpmpp_sde_gpu'), SAMPLERS.dpmpp_sde);
    assert.equal(getSampler('dpmpp_3m_sde_gpu'), SAMPLERS.dpmpp_3m_sde);
  });

  it('rejects an unknown name with a RangeError that lists the valid ones', () => {
    assert.throws(() => getSampler('dpmpp_2m_karras'), (err: unknown) => {
      assert.ok(err instanceof RangeError);
      assert.match(err.message, /"dpmpp_2m_karras"/);
      for (const name of [...SAMPLER_NAMES, 'dpmpp_2m_sde_gpu']) assert.ok(err.message.includes(name), name);
      return true;
    });
    assert.throws(() => getSampler('toString'), RangeError);
  });
});
