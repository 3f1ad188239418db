/**
 * Plain float64 reference implementations of the noise schedules, written from the published formulas with
 * straightforward loops. Nothing here is shared with src/engine; results agree with the engine's float32-faithful
 * versions to float32 precision.
 */

/** DDPM scaled-linear table (Ho et al. 2020; SD's betas 0.00085..0.012): sigma_t = sqrt((1 - abar_t) / abar_t). */
export function referenceSigmaTable(): number[] {
  const start = Math.sqrt(0.00085);
  const end = Math.sqrt(0.012);
  const sigmas: number[] = [];
  let abar = 1;
  for (let t = 0; t < 1000; t++) {
    const root = start + ((end - start) * t) / 999;
    abar = abar * (1 - root * root);
    sigmas.push(Math.sqrt((1 - abar) / abar));
  }
  return sigmas;
}

/** sigma at fractional table position p: exp of the linear interpolation of log-sigma. */
function sigmaAtPosition(table: number[], p: number): number {
  const low = Math.floor(p);
  const high = Math.min(low + 1, table.length - 1);
  const w = p - low;
  return Math.exp((1 - w) * Math.log(table[low]!) + w * Math.log(table[high]!));
}

export function referenceKarras(n: number, sigmaMin: number, sigmaMax: number, rho = 7): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const frac = n === 1 ? 0 : i / (n - 1);
    const inv = Math.pow(sigmaMax, 1 / rho) + frac * (Math.pow(sigmaMin, 1 / rho) - Math.pow(sigmaMax, 1 / rho));
    out.push(Math.pow(inv, rho));
  }
  out.push(0);
  return out;
}

export function referenceExponential(n: number, sigmaMin: number, sigmaMax: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const frac = n === 1 ? 0 : i / (n - 1);
    out.push(Math.exp(Math.log(sigmaMax) + frac * (Math.log(sigmaMin) - Math.log(sigmaMax))));
  }
  out.push(0);
  return out;
}

/** ComfyUI `normal`: n timesteps from 999 to 0 inclusive. */
export function referenceNormal(table: number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = n === 1 ? 999 : 999 - (999 * i) / (n - 1);
    out.push(sigmaAtPosition(table, t));
  }
  out.push(0);
  return out;
}

/** `sgm_uniform`: n + 1 evenly spaced timesteps from first to last, the last dropped. */
export function referenceSgmUniform(table: number[], n: number): number[] {
  const last = table.length - 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(sigmaAtPosition(table, last - (last * i) / n));
  out.push(0);
  return out;
}

/** LCM: sgm_uniform over the 50 table entries at timesteps 19, 39, ..., 999. */
export function referenceLcm(table: number[], n: number): number[] {
  const distilled: number[] = [];
  for (let k = 0; k < 50; k++) distilled.push(table[19 + 20 * k]!);
  return referenceSgmUniform(distilled, n);
}

export function referenceSimple(table: number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(table[999 - Math.floor((i * 1000) / n)]!);
  out.push(0);
  return out;
}

export function referenceDdimUniform(table: number[], n: number): number[] {
  const c = Math.max(Math.floor(1000 / n), 1);
  const out: number[] = [];
  for (let t = 1; t < 1000; t += c) out.unshift(table[t]!);
  out.push(0);
  return out;
}

export function referenceTurbo(table: number[], n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(n, 10); i++) out.push(table[999 - 100 * i]!);
  out.push(0);
  return out;
}

/** AYS: the 11 published levels, log-sigma interpolated linearly on a uniform grid to n + 1 points, last set to 0. */
export function referenceAlignYourSteps(levels: readonly number[], n: number): number[] {
  const out: number[] = [];
  const segments = levels.length - 1;
  for (let i = 0; i <= n; i++) {
    const position = (i / n) * segments;
    const low = Math.min(Math.floor(position), segments - 1);
    const w = position - low;
    out.push(Math.exp((1 - w) * Math.log(levels[low]!) + w * Math.log(levels[low + 1]!)));
  }
  out[n] = 0;
  return out;
}
