/**
 * Plain float64 reference samplers, written straight from the published update rules in the form k-diffusion's
 * `sampling.py` states them (sigma_fn/t_fn, expm1, to_d, get_ancestral_step) and, for UniPC, in the VP
 * parameterization and loop structure of ComfyUI's `uni_pc.py` (alpha_t, sigma_t, lambda_t; Zhao et al. 2023).
 * Nothing here is shared with src/engine. Vectors are number[]; noise comes from the `noise` callback in the order
 * k-diffusion's noise sampler is called.
 */

export type RefDenoiser = (x: number[], sigma: number) => number[];
export type RefNoise = (n: number) => number[];
export type RefSampler = (denoise: RefDenoiser, x: number[], sigmas: number[], noise: RefNoise) => number[];

const add = (a: number[], b: number[]): number[] => a.map((v, i) => v + b[i]!);
const sub = (a: number[], b: number[]): number[] => a.map((v, i) => v - b[i]!);
const mul = (a: number[], c: number): number[] => a.map((v) => v * c);
const toD = (x: number[], sigma: number, denoised: number[]): number[] => mul(sub(x, denoised), 1 / sigma);
const sigmaFn = (t: number): number => Math.exp(-t);
const tFn = (sigma: number): number => -Math.log(sigma);

export function refAncestralStep(sigmaFrom: number, sigmaTo: number, eta = 1): [down: number, up: number] {
  const up = Math.min(sigmaTo, eta * Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2));
  return [Math.sqrt(sigmaTo ** 2 - up ** 2), up];
}

export const refEuler: RefSampler = (model, x, sigmas) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    x = add(x, mul(toD(x, sigmas[i]!, denoised), sigmas[i + 1]! - sigmas[i]!));
  }
  return x;
};

export const refEulerAncestral: RefSampler = (model, x, sigmas, noise) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    const [down, up] = refAncestralStep(sigmas[i]!, sigmas[i + 1]!);
    x = add(x, mul(toD(x, sigmas[i]!, denoised), down - sigmas[i]!));
    if (sigmas[i + 1]! > 0) x = add(x, mul(noise(x.length), up));
  }
  return x;
};

export const refHeun: RefSampler = (model, x, sigmas) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    const d = toD(x, sigmas[i]!, denoised);
    const dt = sigmas[i + 1]! - sigmas[i]!;
    if (sigmas[i + 1] === 0) {
      x = add(x, mul(d, dt));
    } else {
      const x2 = add(x, mul(d, dt));
      const d2 = toD(x2, sigmas[i + 1]!, model(x2, sigmas[i + 1]!));
      x = add(x, mul(mul(add(d, d2), 0.5), dt));
    }
  }
  return x;
};

function refDpm2Step(model: RefDenoiser, x: number[], d: number[], sigma: number, sigmaTo: number): number[] {
  const sigmaMid = Math.exp(Math.log(sigma) + 0.5 * (Math.log(sigmaTo) - Math.log(sigma))); // log().lerp(…, 0.5).exp()
  const x2 = add(x, mul(d, sigmaMid - sigma));
  const d2 = toD(x2, sigmaMid, model(x2, sigmaMid));
  return add(x, mul(d2, sigmaTo - sigma));
}

export const refDpm2: RefSampler = (model, x, sigmas) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const d = toD(x, sigmas[i]!, model(x, sigmas[i]!));
    x = sigmas[i + 1] === 0 ? add(x, mul(d, sigmas[i + 1]! - sigmas[i]!)) : refDpm2Step(model, x, d, sigmas[i]!, sigmas[i + 1]!);
  }
  return x;
};

export const refDpm2Ancestral: RefSampler = (model, x, sigmas, noise) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    const d = toD(x, sigmas[i]!, model(x, sigmas[i]!));
    const [down, up] = refAncestralStep(sigmas[i]!, sigmas[i + 1]!);
    if (down === 0) {
      x = add(x, mul(d, down - sigmas[i]!));
    } else {
      x = refDpm2Step(model, x, d, sigmas[i]!, down);
      x = add(x, mul(noise(x.length), up));
    }
  }
  return x;
};

export const refDpmpp2m: RefSampler = (model, x, sigmas) => {
  let old: number[] | undefined;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    const t = tFn(sigmas[i]!);
    const tNext = tFn(sigmas[i + 1]!); // +Infinity at sigma 0: sigma_fn(t_next) = 0 and -expm1(-h) = 1
    const h = tNext - t;
    let target = denoised;
    if (old !== undefined && sigmas[i + 1] !== 0) {
      const r = (t - tFn(sigmas[i - 1]!)) / h;
      target = sub(mul(denoised, 1 + 1 / (2 * r)), mul(old, 1 / (2 * r)));
    }
    x = sub(mul(x, sigmaFn(tNext) / sigmaFn(t)), mul(target, Math.expm1(-h)));
    old = denoised;
  }
  return x;
};

export const refDpmppSde: RefSampler = (model, x, sigmas, noise) => {
  const r = 0.5;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    if (sigmas[i + 1] === 0) {
      x = add(x, mul(toD(x, sigmas[i]!, denoised), sigmas[i + 1]! - sigmas[i]!));
      continue;
    }
    const t = tFn(sigmas[i]!);
    const tNext = tFn(sigmas[i + 1]!);
    const h = tNext - t;
    const s = t + h * r;
    const fac = 1 / (2 * r);
    const [sd1, su1] = refAncestralStep(sigmaFn(t), sigmaFn(s));
    const s1 = tFn(sd1);
    let x2 = sub(mul(x, sigmaFn(s1) / sigmaFn(t)), mul(denoised, Math.expm1(t - s1)));
    // Brownian motion W in sigma-time (k-diffusion's BrownianTreeNoiseSampler): the substep noise is
    // (W(sigma_s) - W(sigma)) / sqrt(sigma - sigma_s) and the step noise (W(sigma_next) - W(sigma)) / sqrt(sigma - sigma_next).
    const incrementToS = mul(noise(x.length), Math.sqrt(sigmaFn(t) - sigmaFn(s)));
    x2 = add(x2, mul(incrementToS, su1 / Math.sqrt(sigmaFn(t) - sigmaFn(s))));
    const denoised2 = model(x2, sigmaFn(s));
    const [sd2, su2] = refAncestralStep(sigmaFn(t), sigmaFn(tNext));
    const tNext2 = tFn(sd2);
    const denoisedD = add(mul(denoised, 1 - fac), mul(denoised2, fac));
    x = sub(mul(x, sigmaFn(tNext2) / sigmaFn(t)), mul(denoisedD, Math.expm1(t - tNext2)));
    const incrementToNext = add(incrementToS, mul(noise(x.length), Math.sqrt(sigmaFn(s) - sigmaFn(tNext))));
    x = add(x, mul(incrementToNext, su2 / Math.sqrt(sigmaFn(t) - sigmaFn(tNext))));
  }
  return x;
};

export const refDpmpp2mSde: RefSampler = (model, x, sigmas, noise) => {
  const eta = 1;
  let old: number[] | undefined;
  let hLast = 0;
  let h = 0;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    if (sigmas[i + 1] === 0) {
      x = denoised;
    } else {
      const t = -Math.log(sigmas[i]!);
      const s = -Math.log(sigmas[i + 1]!);
      h = s - t;
      const etaH = eta * h;
      x = add(mul(x, (sigmas[i + 1]! / sigmas[i]!) * Math.exp(-etaH)), mul(denoised, -Math.expm1(-h - etaH)));
      if (old !== undefined) {
        const r = hLast / h;
        x = add(x, mul(sub(denoised, old), 0.5 * -Math.expm1(-h - etaH) * (1 / r)));
      }
      x = add(x, mul(noise(x.length), sigmas[i + 1]! * Math.sqrt(-Math.expm1(-2 * etaH))));
    }
    old = denoised;
    hLast = h;
  }
  return x;
};

export const refDpmpp3mSde: RefSampler = (model, x, sigmas, noise) => {
  const eta = 1;
  let d1: number[] | undefined;
  let d2: number[] | undefined;
  let h: number | undefined;
  let h1: number | undefined;
  let h2: number | undefined;
  for (let i = 0; i < sigmas.length - 1; i++) {
    const denoised = model(x, sigmas[i]!);
    if (sigmas[i + 1] === 0) {
      x = denoised;
    } else {
      h = -Math.log(sigmas[i + 1]!) + Math.log(sigmas[i]!);
      const hEta = h * (eta + 1);
      x = add(mul(x, Math.exp(-hEta)), mul(denoised, -Math.expm1(-hEta)));
      const phi2 = Math.expm1(-hEta) / hEta + 1;
      if (h2 !== undefined) {
        const r0 = h1! / h;
        const r1 = h2 / h;
        const d10 = mul(sub(denoised, d1!), 1 / r0);
        const d11 = mul(sub(d1!, d2!), 1 / r1);
        const dd1 = add(d10, mul(sub(d10, d11), r0 / (r0 + r1)));
        const dd2 = mul(sub(d10, d11), 1 / (r0 + r1));
        const phi3 = phi2 / hEta - 0.5;
        x = sub(add(x, mul(dd1, phi2)), mul(dd2, phi3));
      } else if (h1 !== undefined) {
        x = add(x, mul(mul(sub(denoised, d1!), h / h1), phi2));
      }
      x = add(x, mul(noise(x.length), sigmas[i + 1]! * Math.sqrt(-Math.expm1(-2 * h * eta))));
    }
    [d1, d2] = [denoised, d1];
    [h1, h2] = [h, h1];
  }
  return x;
};

export const refLcm: RefSampler = (model, x, sigmas, noise) => {
  for (let i = 0; i < sigmas.length - 1; i++) {
    x = model(x, sigmas[i]!);
    if (sigmas[i + 1]! > 0) x = add(x, mul(noise(x.length), sigmas[i + 1]!));
  }
  return x;
};

// ---- UniPC in the VP parameterization: x_vp = alpha * x, alpha = 1 / sqrt(1 + sigma^2), std = sigma * alpha.

const vpAlpha = (sigma: number): number => Math.exp(0.5 * Math.log(1 / (sigma * sigma + 1)));
const vpStd = (sigma: number): number => Math.sqrt(1 - vpAlpha(sigma) ** 2);
const vpLambda = (sigma: number): number => Math.log(vpAlpha(sigma)) - Math.log(vpStd(sigma));

function solve(a: number[][], b: number[]): number[] {
  // Cramer's rule: fine for the 2x2 and 3x3 systems UniPC solves.
  const det = (m: number[][]): number =>
    m.length === 2
      ? m[0]![0]! * m[1]![1]! - m[0]![1]! * m[1]![0]!
      : m[0]![0]! * (m[1]![1]! * m[2]![2]! - m[1]![2]! * m[2]![1]!) -
        m[0]![1]! * (m[1]![0]! * m[2]![2]! - m[1]![2]! * m[2]![0]!) +
        m[0]![2]! * (m[1]![0]! * m[2]![1]! - m[1]![1]! * m[2]![0]!);
  const d = det(a);
  return b.map((_, j) => det(a.map((row, i) => row.map((v, k) => (k === j ? b[i]! : v)))) / d);
}

function refUniPcUpdate(
  modelFn: (xVp: number[], sigma: number) => number[],
  x: number[],
  models: number[][],
  ts: number[],
  t: number,
  order: number,
  useCorrector: boolean,
  variant: 'bh1' | 'bh2',
): [number[], number[] | undefined] {
  const tPrev0 = ts[ts.length - 1]!;
  const lambdaPrev0 = vpLambda(tPrev0);
  const lambdaT = vpLambda(t);
  const m0 = models[models.length - 1]!;
  const alphaT = vpAlpha(t);
  const h = lambdaT - lambdaPrev0;
  const rks: number[] = [];
  const D1s: number[][] = [];
  for (let i = 1; i < order; i++) {
    const rk = (vpLambda(ts[ts.length - 1 - i]!) - lambdaPrev0) / h;
    rks.push(rk);
    D1s.push(mul(sub(models[models.length - 1 - i]!, m0), 1 / rk));
  }
  rks.push(1);
  const hh = -h;
  const hPhi1 = Math.expm1(hh);
  let hPhiK = hPhi1 / hh - 1;
  let factorial = 1;
  const Bh = variant === 'bh1' ? hh : Math.expm1(hh);
  const R: number[][] = [];
  const b: number[] = [];
  for (let i = 1; i <= order; i++) {
    R.push(rks.map((r) => Math.pow(r, i - 1)));
    b.push((hPhiK * factorial) / Bh);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  const rhosP = D1s.length === 0 ? [] : order === 2 ? [0.5] : solve(R.slice(0, -1).map((row) => row.slice(0, -1)), b.slice(0, -1));
  const rhosC = order === 1 ? [0.5] : solve(R, b);
  const base = sub(mul(x, vpStd(t) / vpStd(tPrev0)), mul(m0, alphaT * hPhi1));
  let predRes = x.map(() => 0);
  D1s.forEach((d, k) => (predRes = add(predRes, mul(d, rhosP[k]!))));
  let xT = sub(base, mul(predRes, alphaT * Bh));
  if (!useCorrector) return [xT, undefined];
  const modelT = modelFn(xT, t);
  let corrRes = x.map(() => 0);
  D1s.forEach((d, k) => (corrRes = add(corrRes, mul(d, rhosC[k]!))));
  xT = sub(base, mul(add(corrRes, mul(sub(modelT, m0), rhosC[rhosC.length - 1]!)), alphaT * Bh));
  return [xT, modelT];
}

/** UniPC as ComfyUI's `sample_unipc` runs it (multistep, lower_order_final, final sigma 0 replaced by 0.001). */
export function refUniPc(variant: 'bh1' | 'bh2'): RefSampler {
  return (model, initial, sigmas) => {
    const timesteps = [...sigmas];
    if (timesteps[timesteps.length - 1] === 0) timesteps[timesteps.length - 1] = 0.001;
    // data prediction through the VP <-> sigma conversion: x0 = (x_vp - std * eps) / alpha with eps from the denoiser
    const modelFn = (xVp: number[], sigma: number): number[] => {
      const input = mul(xVp, Math.sqrt(sigma * sigma + 1));
      const eps = mul(sub(input, model(input, sigma)), 1 / sigma);
      return mul(sub(xVp, mul(eps, vpStd(sigma))), 1 / vpAlpha(sigma));
    };
    let x = mul(initial, 1 / Math.sqrt(1 + timesteps[0]! ** 2)); // ComfyUI scales the noise into VP space
    const order = Math.min(3, timesteps.length - 2);
    const steps = timesteps.length - 1;
    let models: number[][] = [];
    let ts: number[] = [];
    for (let stepIndex = 0; stepIndex < steps; stepIndex++) {
      if (stepIndex === 0) {
        models = [modelFn(x, timesteps[0]!)];
        ts = [timesteps[0]!];
      } else if (stepIndex < order) {
        const t = timesteps[stepIndex]!;
        const [xNext, modelX] = refUniPcUpdate(modelFn, x, models, ts, t, stepIndex, true, variant);
        x = xNext;
        models.push(modelX!);
        ts.push(t);
      } else {
        const last = stepIndex === steps - 1 ? 1 : 0;
        for (let step = stepIndex; step <= stepIndex + last; step++) {
          const t = timesteps[step]!;
          const stepOrder = Math.min(order, steps + 1 - step);
          const [xNext, modelX] = refUniPcUpdate(modelFn, x, models, ts, t, stepOrder, step !== steps, variant);
          x = xNext;
          for (let i = 0; i < order - 1; i++) {
            ts[i] = ts[i + 1]!;
            models[i] = models[i + 1]!;
          }
          ts[ts.length - 1] = t;
          if (step < steps) models[models.length - 1] = modelX ?? modelFn(x, t);
        }
      }
    }
    return mul(x, 1 / vpAlpha(timesteps[timesteps.length - 1]!));
  };
}
