/**
 * Joint (cross) bilateral blur, Tomasi & Manduchi 1998 / Petschnigg et al. 2004, as Fooocus runs it in
 * `modules/anisotropic.py` (`_bilateral_blur`, itself a trimmed copy of kornia's `joint_bilateral_blur`), and
 * Fooocus's `adaptive_anisotropic_filter`, the blur the sharpness feature applies to the positive eps.
 */
import { createTensor, type Tensor } from '../tensor.ts';

export interface BilateralBlurOptions {
  /** Square window side; odd. Fooocus: 13. */
  kernelSize: number;
  /** Range (colour) sigma on the L1 guidance distance. Fooocus: 3.0. */
  sigmaColor: number;
  /** Spatial Gaussian sigma in pixels, both axes. Fooocus: 3.0. */
  sigmaSpace: number;
}

/** The constants `adaptive_anisotropic_filter` passes: 13x13 window, sigma_color 3, sigma_space 3, reflect, L1. */
export const FOOOCUS_ANISOTROPIC_OPTIONS: Readonly<BilateralBlurOptions> = { kernelSize: 13, sigmaColor: 3, sigmaSpace: 3 };

/** Added to the guidance standard deviation before dividing (`s = s + 1e-5` in Fooocus). */
const GUIDANCE_STD_EPSILON = 1e-5;

/**
 * Index into a signal of length n, mirrored without repeating the edge sample (PyTorch `pad(mode='reflect')`:
 * -1 -> 1, n -> n - 2). PyTorch refuses a pad >= n; here the mirror repeats instead (period 2(n-1)), so tiny
 * latents still filter, and every pad PyTorch accepts gives PyTorch's index.
 */
export function reflectIndex(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Normalised 1-D Gaussian window (kornia `gaussian`): taps at k - size//2 (shifted by 0.5 for an even size),
 * exp(-x^2 / (2 sigma^2)), divided by the sum. The 2-D spatial kernel is the outer product of two of these.
 */
export function buildGaussianWindow(size: number, sigma: number): Float64Array {
  const window = new Float64Array(size);
  let sum = 0;
  for (let k = 0; k < size; k++) {
    const x = k - Math.floor(size / 2) + (size % 2 === 0 ? 0.5 : 0);
    window[k] = Math.exp(-(x * x) / (2 * sigma * sigma));
    sum += window[k]!;
  }
  for (let k = 0; k < size; k++) window[k]! /= sum;
  return window;
}

function readDims4(t: Tensor, what: string): [number, number, number, number] {
  if (t.dims.length !== 4) throw new Error(`${what}: expected [B, C, H, W], got [${t.dims.join(', ')}]`);
  return t.dims as [number, number, number, number];
}

/**
 * Joint bilateral blur of `input` guided by `guidance` (both [B, *, H, W]; channel counts may differ). For each
 * pixel p and window tap q: w = space(q - p) * exp(-0.5 / sigmaColor^2 * (sum_c |g_c(q) - g_c(p)|)^2), and
 * out_c(p) = sum_q w * input_c(q) / sum_q w. Both images are reflect-padded by (kernelSize - 1) / 2; the same
 * weight serves every input channel.
 */
export function jointBilateralBlur(input: Tensor, guidance: Tensor, options: BilateralBlurOptions): Tensor {
  const [B, C, H, W] = readDims4(input, 'jointBilateralBlur input');
  const [GB, GC, GH, GW] = readDims4(guidance, 'jointBilateralBlur guidance');
  if (GB !== B || GH !== H || GW !== W) {
    throw new Error(`jointBilateralBlur: guidance [${guidance.dims.join(', ')}] does not match input [${input.dims.join(', ')}]`);
  }
  const { kernelSize: K, sigmaColor, sigmaSpace } = options;
  if (!Number.isInteger(K) || K < 1 || K % 2 === 0) throw new Error(`jointBilateralBlur: kernelSize must be a positive odd integer, got ${K}`);
  const pad = (K - 1) / 2;
  const window = buildGaussianWindow(K, sigmaSpace);
  const colorScale = -0.5 / (sigmaColor * sigmaColor);
  const rowOf = Int32Array.from({ length: H + 2 * pad }, (_, i) => reflectIndex(i - pad, H));
  const colOf = Int32Array.from({ length: W + 2 * pad }, (_, i) => reflectIndex(i - pad, W));
  const plane = H * W;
  const out = createTensor(input.dims); // [B, C, H, W]
  const acc = new Float64Array(C);
  for (let b = 0; b < B; b++) {
    const inBase = b * C * plane;
    const gBase = b * GC * plane;
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const center = y * W + x;
        acc.fill(0);
        let weightSum = 0;
        for (let ky = 0; ky < K; ky++) {
          const rowOffset = rowOf[y + ky]! * W;
          for (let kx = 0; kx < K; kx++) {
            const tap = rowOffset + colOf[x + kx]!;
            let distance = 0;
            for (let c = 0; c < GC; c++) {
              const at = gBase + c * plane;
              distance += Math.abs(guidance.data[at + tap]! - guidance.data[at + center]!);
            }
            const w = window[ky]! * window[kx]! * Math.exp(colorScale * distance * distance);
            weightSum += w;
            for (let c = 0; c < C; c++) acc[c]! += w * input.data[inBase + c * plane + tap]!;
          }
        }
        for (let c = 0; c < C; c++) out.data[inBase + c * plane + center] = acc[c]! / weightSum;
      }
    }
  }
  return out;
}

/**
 * Standardises each batch item of g over (C, H, W) with `torch.std_mean` (unbiased std, N - 1), plus 1e-5 on the
 * std: (g - mean) / (std + 1e-5).
 */
export function standardizeGuidance(g: Tensor): Tensor {
  const [B] = readDims4(g, 'standardizeGuidance');
  const n = g.data.length / B;
  const out = createTensor(g.dims); // [B, C, H, W]
  for (let b = 0; b < B; b++) {
    const item = g.data.subarray(b * n, (b + 1) * n);
    let mean = 0;
    for (let i = 0; i < n; i++) mean += item[i]!;
    mean /= n;
    let squares = 0;
    for (let i = 0; i < n; i++) squares += (item[i]! - mean) ** 2;
    const std = Math.sqrt(squares / (n - 1)) + GUIDANCE_STD_EPSILON;
    for (let i = 0; i < n; i++) out.data[b * n + i] = (item[i]! - mean) / std;
  }
  return out;
}

/**
 * Fooocus `adaptive_anisotropic_filter(x, g)`: a 13x13 joint bilateral blur of x (sigma_color 3, sigma_space 3,
 * reflect border, L1 colour distance) guided by g standardised per batch item; g defaults to x.
 */
export function adaptiveAnisotropicFilter(x: Tensor, g: Tensor = x): Tensor {
  return jointBilateralBlur(x, standardizeGuidance(g), FOOOCUS_ANISOTROPIC_OPTIONS);
}
