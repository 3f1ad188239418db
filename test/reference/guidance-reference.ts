/**
 * Plain float64 references for Fooocus's guidance math, written from the formulas with the most direct loops:
 * explicit padded copies, a 2-D Gaussian from exp(-(dx^2 + dy^2) / 2s^2), arrays of numbers. Nothing here is shared
 * with src/engine/guidance.
 */

/** A [B, C, H, W] array of arrays (index as t[b][c][y][x]). */
export type Nested4 = number[][][][];

/** Turns a flat NCHW buffer into nested arrays. */
export function nestFlat(data: ArrayLike<number>, B: number, C: number, H: number, W: number): Nested4 {
  const out: Nested4 = [];
  for (let b = 0; b < B; b++) {
    const item: number[][][] = [];
    for (let c = 0; c < C; c++) {
      const rows: number[][] = [];
      for (let y = 0; y < H; y++) {
        const row: number[] = [];
        for (let x = 0; x < W; x++) row.push(data[((b * C + c) * H + y) * W + x]!);
        rows.push(row);
      }
      item.push(rows);
    }
    out.push(item);
  }
  return out;
}

/** PyTorch `pad(mode='reflect')` of one plane by p on each side (valid only for p < H and p < W, as in PyTorch). */
function reflectPad(plane: number[][], p: number): number[][] {
  const H = plane.length;
  const W = plane[0]!.length;
  const mirror = (i: number, n: number): number => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  const out: number[][] = [];
  for (let y = -p; y < H + p; y++) {
    const row: number[] = [];
    for (let x = -p; x < W + p; x++) row.push(plane[mirror(y, H)]![mirror(x, W)]!);
    out.push(row);
  }
  return out;
}

/**
 * Fooocus `adaptive_anisotropic_filter(x, g)`: g standardised per batch item (unbiased std + 1e-5), then the
 * 13x13 joint bilateral blur with sigma_color 3, sigma_space 3, reflect padding and squared-L1 colour distance.
 */
export function referenceAnisotropicFilter(x: Nested4, g: Nested4, kernel = 13, sigmaColor = 3, sigmaSpace = 3): Nested4 {
  const p = (kernel - 1) / 2;
  const out: Nested4 = [];
  for (let b = 0; b < x.length; b++) {
    const values = g[b]!.flat(2);
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const variance = values.reduce((s, v) => s + (v - mean) * (v - mean), 0) / (values.length - 1);
    const std = Math.sqrt(variance) + 1e-5;
    const guide = g[b]!.map((plane) => reflectPad(plane.map((row) => row.map((v) => (v - mean) / std)), p));
    const input = x[b]!.map((plane) => reflectPad(plane, p));
    const H = x[b]![0]!.length;
    const W = x[b]![0]![0]!.length;
    const item: number[][][] = x[b]!.map(() => []);
    for (let y = 0; y < H; y++) {
      const rows = item.map(() => [] as number[]);
      for (let xx = 0; xx < W; xx++) {
        let weightTotal = 0;
        const sums = x[b]!.map(() => 0);
        for (let dy = -p; dy <= p; dy++) {
          for (let dx = -p; dx <= p; dx++) {
            let l1 = 0;
            for (const plane of guide) l1 += Math.abs(plane[y + p + dy]![xx + p + dx]! - plane[y + p]![xx + p]!);
            const space = Math.exp(-(dx * dx + dy * dy) / (2 * sigmaSpace * sigmaSpace));
            const color = Math.exp((-0.5 * l1 * l1) / (sigmaColor * sigmaColor));
            weightTotal += space * color;
            input.forEach((plane, c) => (sums[c]! += space * color * plane[y + p + dy]![xx + p + dx]!));
          }
        }
        sums.forEach((s, c) => rows[c]!.push(s / weightTotal));
      }
      rows.forEach((row, c) => item[c]!.push(row));
    }
    out.push(item);
  }
  return out;
}

/** Fooocus sharpness: eps = x - x0, alpha = 0.001 * sharpness * progress, filter(eps, x0) * alpha + eps * (1 - alpha). */
export function referenceSharpness(x: Nested4, x0: Nested4, sharpness: number, progress: number): Nested4 {
  const eps = x.map((item, b) => item.map((plane, c) => plane.map((row, y) => row.map((v, i) => v - x0[b]![c]![y]![i]!))));
  const degraded = referenceAnisotropicFilter(eps, x0);
  const alpha = 0.001 * sharpness * progress;
  return eps.map((item, b) =>
    item.map((plane, c) => plane.map((row, y) => row.map((v, i) => degraded[b]![c]![y]![i]! * alpha + v * (1 - alpha)))),
  );
}

/** Fooocus `compute_cfg` on flat values. */
export function referenceCfg(u: ArrayLike<number>, c: ArrayLike<number>, cfg: number, adaptive: number, t: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < u.length; i++) {
    const real = u[i]! + cfg * (c[i]! - u[i]!);
    if (cfg > adaptive) {
      const mimicked = u[i]! + adaptive * (c[i]! - u[i]!);
      out.push(real * t + mimicked * (1 - t));
    } else {
      out.push(real);
    }
  }
  return out;
}

/** Sinusoidal embedding in float64: [cos(v / 10000^(i/half)) for i < half] ++ [sin(...)] (++ 0 if dim is odd). */
export function referenceFourierEmbed(value: number, dim: number): number[] {
  const half = Math.floor(dim / 2);
  const cos: number[] = [];
  const sin: number[] = [];
  for (let i = 0; i < half; i++) {
    const arg = value / Math.pow(10000, i / half);
    cos.push(Math.cos(arg));
    sin.push(Math.sin(arg));
  }
  return dim % 2 === 1 ? [...cos, ...sin, 0] : [...cos, ...sin];
}

/** latent_rgb_factors preview of one pixel: clamp(latent · factors + bias, -1, 1), (v + 1) * 127.5, round. */
export function referencePreviewPixel(latent: readonly number[], factors: readonly number[][], bias: readonly number[]): number[] {
  const rgb: number[] = [];
  for (let k = 0; k < 3; k++) {
    let v = bias[k]!;
    for (let c = 0; c < latent.length; c++) v += latent[c]! * factors[c]![k]!;
    rgb.push(Math.round((Math.min(1, Math.max(-1, v)) + 1) * 127.5));
  }
  return rgb;
}
