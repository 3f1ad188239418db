import type { Denoiser, Sampler, SampleContext } from '../sampler-types.ts';
import { linearCombination, type Term } from '../tensor-math.ts';
import type { Tensor } from '../../tensor.ts';

/** UniPC's B(h): bh1 is h itself, bh2 is e^h - 1 (Zhao et al. 2023, section 3.3). */
export type UniPcVariant = 'bh1' | 'bh2';

/**
 * ComfyUI stops UniPC at this sigma instead of 0 (the log-SNR step to 0 is infinite) and returns that latent; the
 * leftover noise is 0.1% of the latent scale.
 */
const FINAL_SIGMA = 0.001;

/** A past data prediction and its log-SNR lambda = -log(sigma). */
interface ModelValue {
  lambda: number;
  denoised: Tensor;
}

/** Solve the small dense system a * rho = b (Gaussian elimination with partial pivoting; order <= 3). */
function solveSmallSystem(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row]![col]!) > Math.abs(m[pivot]![col]!)) pivot = row;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let row = col + 1; row < n; row++) {
      const f = m[row]![col]! / m[col]![col]!;
      for (let k = col; k <= n; k++) m[row]![k]! -= f * m[col]![k]!;
    }
  }
  const rho = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let s = m[row]![n]!;
    for (let k = row + 1; k < n; k++) s -= m[row]![k]! * rho[k]!;
    rho[row] = s / m[row]![row]!;
  }
  return rho;
}

/**
 * The predictor and corrector weights of one UniPC step of the given order in data-prediction mode (Zhao et al.
 * 2023, Algorithms 1-2 with the B(h) variants): rk are the previous log-SNR offsets over h, the last one 1.
 */
function uniPcWeights(rks: number[], h: number, order: number, variant: UniPcVariant): { bh: number; predictor: number[]; corrector: number[] } {
  const hh = -h; // data prediction integrates in -lambda
  const bh = variant === 'bh1' ? hh : Math.expm1(hh);
  const r: number[][] = [];
  const b: number[] = [];
  let hPhiK = Math.expm1(hh) / hh - 1;
  let factorial = 1;
  for (let i = 1; i <= order; i++) {
    r.push(rks.map((rk) => rk ** (i - 1)));
    b.push((hPhiK * factorial) / bh);
    factorial *= i + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  const predictor = order === 1 ? [] : order === 2 ? [0.5] : solveSmallSystem(r.slice(0, -1), b.slice(0, -1));
  const corrector = order === 1 ? [0.5] : solveSmallSystem(r, b);
  return { bh, predictor, corrector };
}

interface UniPcStep {
  sigmaFrom: number;
  sigmaTo: number;
  order: number;
  variant: UniPcVariant;
  useCorrector: boolean;
}

/**
 * One UniPC step from the newest history entry to sigmaTo: the UniP predictor, then (unless this is the last step)
 * the UniC corrector, whose denoiser call at the predicted point becomes the next history entry.
 */
async function stepUniPc(
  denoise: Denoiser,
  x: Tensor,
  history: readonly ModelValue[],
  { sigmaFrom, sigmaTo, order, variant, useCorrector }: UniPcStep,
  ctx: SampleContext,
): Promise<{ x: Tensor; next: ModelValue | undefined }> {
  const newest = history[history.length - 1]!;
  const lambdaTo = -Math.log(sigmaTo);
  const h = lambdaTo - newest.lambda;
  const rks: number[] = [];
  const differences: Tensor[] = []; // D1_k = (m_k - m_0) / r_k
  for (let k = 1; k < order; k++) {
    const older = history[history.length - 1 - k]!;
    const rk = (older.lambda - newest.lambda) / h;
    rks.push(rk);
    differences.push(linearCombination([1 / rk, older.denoised], [-1 / rk, newest.denoised]));
  }
  rks.push(1);
  const { bh, predictor, corrector } = uniPcWeights(rks, h, order, variant);
  const base: Term[] = [[sigmaTo / sigmaFrom, x], [-Math.expm1(-h), newest.denoised]];
  const predicted = linearCombination(...base, ...differences.map((d, k): Term => [-bh * predictor[k]!, d]));
  if (!useCorrector) return { x: predicted, next: undefined };
  ctx.signal?.throwIfAborted();
  const denoisedTo = await denoise(predicted, sigmaTo, ctx.signal);
  const corrected = linearCombination(
    ...base,
    ...differences.map((d, k): Term => [-bh * corrector[k]!, d]),
    [-bh * corrector[order - 1]!, denoisedTo],
    [bh * corrector[order - 1]!, newest.denoised],
  );
  return { x: corrected, next: { lambda: lambdaTo, denoised: denoisedTo } };
}

/**
 * UniPC, the unified predictor-corrector multistep solver of Zhao et al. 2023 ("UniPC: A Unified Predictor-Corrector
 * Framework for Fast Sampling of Diffusion Models"), data prediction, as ComfyUI runs it for `uni_pc` (bh1) and
 * `uni_pc_bh2`: order min(3, steps - 1) with lower orders on the first and last steps, the corrector on every step
 * but the last, whose denoiser call is reused as the next step's model value; so N steps cost N denoiser calls.
 * Written in the sigma parameterization (lambda = -log sigma; ComfyUI's VP rescaling cancels out). Ends at sigma
 * 0.001 when the schedule ends at 0, as ComfyUI does.
 */
export function createUniPcSampler(variant: UniPcVariant): Sampler {
  return async (denoise, x, sigmas, ctx) => {
    const steps = sigmas.length - 1;
    if (steps < 1) return x;
    const order = Math.max(1, Math.min(3, steps - 1)); // ComfyUI: min(3, steps - 1); it cannot run 1 step
    const history: ModelValue[] = [];
    ctx.signal?.throwIfAborted();
    history.push({ lambda: -Math.log(sigmas[0]!), denoised: await denoise(x, sigmas[0]!, ctx.signal) });
    for (let i = 0; i < steps; i++) {
      const sigmaTo = i === steps - 1 && sigmas[steps] === 0 ? FINAL_SIGMA : sigmas[i + 1]!;
      const step = await stepUniPc(denoise, x, history, {
        sigmaFrom: sigmas[i]!,
        sigmaTo,
        order: Math.min(order, i + 1, steps - i), // lower orders while warming up and on the last two steps
        variant,
        useCorrector: i < steps - 1,
      }, ctx);
      x = step.x;
      if (step.next !== undefined) history.push(step.next);
      if (history.length > order) history.shift();
      ctx.onStep?.(i, steps, x, history[history.length - 1]!.denoised);
    }
    return x;
  };
}

export const sampleUniPc = createUniPcSampler('bh1');
export const sampleUniPcBh2 = createUniPcSampler('bh2');
