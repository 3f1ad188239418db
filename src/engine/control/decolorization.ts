/**
 * Contrast-preserving decolorization (Lu, Xu & Jia, "Contrast Preserving Decolorization", ICCP 2012), following
 * OpenCV's `cv::decolor`: the grey image is a degree-2 polynomial of the colour channels whose weights make the
 * grey gradients match the colour (Lab) gradients in magnitude, with a bimodal sign model solved by 15-odd
 * fixed-point iterations. Also returns OpenCV's "colour boost": the image with its Lab lightness replaced by
 * that grey.
 *
 * Pixels are read in OpenCV's channel order (index 0 treated as blue): Fooocus hands OpenCV RGB arrays, so the
 * same bytes given here in the same order reproduce its maps.
 */
import { labToSrgb, srgbToLab } from './lab-color.ts';
import { resizeLinear } from './image-resize.ts';

const POLY_ORDER = 2;
const SIGMA = 0.02;
const MAX_ITERATIONS = 15;
const TOLERANCE = 1e-4;
/** The weights are solved on a copy whose width + height is at most this (then scaled to 400). */
const SOLVE_SIZE_LIMIT = 800;

export interface Decolorization {
  /** Grey image, [height, width]. */
  gray: Uint8Array;
  /** The input with its lightness replaced by `gray`, interleaved like the input. */
  boost: Uint8Array;
}

/** Exponents (of channel 2, 1, 0) of the polynomial terms, in OpenCV's order: total degree 1..2. */
function polynomialTerms(): [number, number, number][] {
  const terms: [number, number, number][] = [];
  for (let r = 0; r <= POLY_ORDER; r++)
    for (let g = 0; g <= POLY_ORDER; g++)
      for (let b = 0; b <= POLY_ORDER; b++) if (r + g + b <= POLY_ORDER && r + g + b > 0) terms.push([r, g, b]);
  return terms;
}

/**
 * Forward differences I(x) - I(x+1) along rows, then I(y) - I(y+1) along columns, each 0 on the last column or
 * row: one vector of 2*w*h gradients.
 */
function gradientsOf(plane: Float64Array, width: number, height: number): Float64Array {
  const n = width * height;
  const out = new Float64Array(2 * n);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      out[i] = x < width - 1 ? plane[i]! - plane[i + 1]! : 0;
      out[n + i] = y < height - 1 ? plane[i]! - plane[i + width]! : 0;
    }
  }
  return out;
}

/** One channel of interleaved float pixels. */
function channelOf(pixels: Float32Array, n: number, channel: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = pixels[i * 3 + channel]!;
  return out;
}

/**
 * Solves A X = B for symmetric A [k, k] and B [k, m] by Gaussian elimination with partial pivoting. A singular A
 * (a flat image has no gradients) gives X = 0, as OpenCV's `solve` leaves it when its factorisation fails.
 */
function solveLinear(a: Float64Array[], b: Float64Array[]): Float64Array[] {
  const scale = Math.max(...a.map((row, i) => Math.abs(row[i]!)));
  const k = a.length;
  const m = a.map((row) => Float64Array.from(row));
  const r = b.map((row) => Float64Array.from(row));
  for (let col = 0; col < k; col++) {
    let pivot = col;
    for (let i = col + 1; i < k; i++) if (Math.abs(m[i]![col]!) > Math.abs(m[pivot]![col]!)) pivot = i;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    [r[col], r[pivot]] = [r[pivot]!, r[col]!];
    const p = m[col]![col]!;
    if (!(Math.abs(p) > scale * 1e-12)) return b.map((row) => new Float64Array(row.length));
    for (let i = 0; i < k; i++) {
      if (i === col) continue;
      const f = m[i]![col]! / p;
      if (f === 0) continue;
      for (let j = col; j < k; j++) m[i]![j]! -= f * m[col]![j]!;
      const ri = r[i]!, rc = r[col]!;
      for (let j = 0; j < ri.length; j++) ri[j]! -= f * rc[j]!;
    }
  }
  for (let i = 0; i < k; i++) {
    const p = m[i]![i]!;
    const ri = r[i]!;
    for (let j = 0; j < ri.length; j++) ri[j]! /= p;
  }
  return r;
}

/** Polynomial weights from a (possibly shrunk) float image in [0, 1], interleaved in OpenCV channel order. */
export function solvePolynomialWeights(pixels: Float32Array, width: number, height: number): number[] {
  const n = width * height;
  const terms = polynomialTerms();
  const [c0, c1, c2] = [channelOf(pixels, n, 0), channelOf(pixels, n, 1), channelOf(pixels, n, 2)];

  // colour contrast: Lab gradient magnitude / 100 (Lab computed with channel 2 as red)
  const lab = [new Float64Array(n), new Float64Array(n), new Float64Array(n)];
  for (let i = 0; i < n; i++) {
    const [l, a, b] = srgbToLab(c2[i]!, c1[i]!, c0[i]!);
    lab[0]![i] = l;
    lab[1]![i] = a;
    lab[2]![i] = b;
  }
  const [gl, ga, gb] = lab.map((p) => gradientsOf(p, width, height));
  const contrast = gl!.map((v, i) => Math.sqrt(v * v + ga![i]! ** 2 + gb![i]! ** 2) / 100);

  // sign prior: +1 where all three channels rise by more than 0.05, -1 where all fall, else 0
  const [g2, g1, g0] = [gradientsOf(c2, width, height), gradientsOf(c1, width, height), gradientsOf(c0, width, height)];
  const level = 0.05;
  const prior = g2.map((v, i) => {
    const up = v > level && g1[i]! > level && g0[i]! > level ? 1 : 0;
    const down = v < -level && g1[i]! < -level && g0[i]! < -level ? 1 : 0;
    return up - down;
  });

  // gradients of each polynomial term, and the least-squares map from signed contrasts to weights
  const poly = terms.map(([r, g, b]) => {
    const term = new Float64Array(n);
    for (let i = 0; i < n; i++) term[i] = Math.fround(c2[i]! ** r * c1[i]! ** g * c0[i]! ** b);
    return gradientsOf(term, width, height);
  });
  const gram = poly.map((pi) => Float64Array.from(poly, (pj) => pi.reduce((s, v, t) => s + v * pj[t]!, 0)));
  const rhs = poly.map((pi) => pi.map((v, t) => v * contrast[t]!));
  const update = solveLinear(gram, rhs).map((row) => row.map((v) => Math.fround(v)));

  let weights: number[] = terms.map(([r, g, b]) => (r + g + b === 1 ? 0.33 : 0));
  const m = contrast.length;
  const projected = new Float64Array(m);
  const project = (): void => {
    projected.fill(0);
    poly.forEach((p, k) => {
      const w = weights[k]!;
      for (let t = 0; t < m; t++) projected[t]! += p[t]! * w;
    });
  };
  const energyOf = (): number => {
    let sum = 0;
    for (let t = 0; t < m; t++) {
      const minus = projected[t]! - contrast[t]!;
      const plus = projected[t]! + contrast[t]!;
      sum += -Math.log(Math.exp(-(minus * minus) / SIGMA) + Math.exp(-(plus * plus) / SIGMA));
    }
    return sum / m;
  };

  let energy = 0;
  let previous = Infinity;
  const term = new Float64Array(m);
  for (let iteration = 1; Math.abs(energy - previous) > TOLERANCE; iteration++) {
    previous = energy;
    project();
    for (let t = 0; t < m; t++) {
      const minus = projected[t]! - contrast[t]!;
      const plus = projected[t]! + contrast[t]!;
      const pos = ((1 + prior[t]!) / 2) * Math.exp((-0.5 * minus * minus) / (SIGMA * SIGMA));
      const neg = ((1 - prior[t]!) / 2) * Math.exp((-0.5 * plus * plus) / (SIGMA * SIGMA));
      const sum = pos + neg;
      term[t] = (pos - neg) / (sum + (sum === 0 ? 1 : 0));
    }
    weights = update.map((row) => row.reduce((s, v, t) => s + v * term[t]!, 0));
    project();
    energy = energyOf();
    if (iteration > MAX_ITERATIONS) break;
  }
  return weights;
}

/** Rounds half to even and clamps to a byte (OpenCV's saturate_cast). */
function toByte(v: number): number {
  if (!(v > 0)) return 0;
  if (v >= 255) return 255;
  const f = Math.floor(v);
  const d = v - f;
  return d > 0.5 || (d === 0.5 && f % 2 === 1) ? f + 1 : f;
}

/** Decolorizes interleaved 8-bit pixels (OpenCV channel order, see above). */
export function decolorize(pixels: Uint8Array, width: number, height: number): Decolorization {
  const n = width * height;
  if (pixels.length !== n * 3) throw new Error(`image has ${pixels.length} bytes, expected ${width}x${height}x3`);
  const unit = Float32Array.from(pixels, (v) => v / 255);

  // 1. polynomial weights, solved at a working size of at most 400 in width + height
  let solveWidth = width;
  let solveHeight = height;
  let solvePixels: Float32Array = unit;
  if (width + height > SOLVE_SIZE_LIMIT) {
    const factor = 400 / (width + height);
    solveWidth = Math.max(1, Math.round(width * factor));
    solveHeight = Math.max(1, Math.round(height * factor));
    solvePixels = resizeLinear(unit, width, height, 3, solveWidth, solveHeight);
  }
  const weights = solvePolynomialWeights(solvePixels, solveWidth, solveHeight);

  // 2. the grey image at full size, stretched to [0, 1]
  const terms = polynomialTerms();
  const grey = new Float32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const c0 = unit[i * 3]!, c1 = unit[i * 3 + 1]!, c2 = unit[i * 3 + 2]!;
    let v = 0;
    terms.forEach(([r, g, b], k) => {
      v = Math.fround(v + Math.fround(weights[k]!) * c2 ** r * c1 ** g * c0 ** b);
    });
    grey[i] = v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const gray = new Uint8Array(n);
  if (max > min) for (let i = 0; i < n; i++) gray[i] = toByte(((grey[i]! - min) / (max - min)) * 255);

  return { gray, boost: boostColors(pixels, gray) };
}

/** OpenCV's colour boost: each pixel's 8-bit Lab with its lightness replaced by the grey, back to 8-bit colour. */
export function boostColors(pixels: Uint8Array, gray: Uint8Array): Uint8Array {
  const n = gray.length;
  const boost = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const [, a, b] = srgbToLab(pixels[i * 3 + 2]! / 255, pixels[i * 3 + 1]! / 255, pixels[i * 3]! / 255);
    const a8 = toByte(a + 128) - 128;
    const b8 = toByte(b + 128) - 128;
    const [r, g, bl] = labToSrgb((gray[i]! * 100) / 255, a8, b8);
    boost[i * 3] = toByte(bl * 255);
    boost[i * 3 + 1] = toByte(g * 255);
    boost[i * 3 + 2] = toByte(r * 255);
  }
  return boost;
}
